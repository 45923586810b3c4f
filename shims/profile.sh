# Puts the gowarden shims dir first on PATH, so that `go` and `gofmt` run through gowarden.
# POSIX sh, for /etc/profile.d and ~/.profile-style files. install.sh installs this body with a
# first line that sets _gowarden_shims to the shims dir.
#
# Sourcing it again is harmless: the dir is moved to the front, never added twice, and every
# other PATH entry keeps its place (empty entries too).
if [ -n "${_gowarden_shims:-}" ]; then
    if [ -z "${PATH:-}" ]; then
        PATH=$_gowarden_shims
    else
        _gowarden_path=$_gowarden_shims
        # The trailing colon makes every entry, the last and empty ones too, end in one.
        _gowarden_rest=$PATH:
        while [ -n "$_gowarden_rest" ]; do
            _gowarden_dir=${_gowarden_rest%%:*}
            _gowarden_rest=${_gowarden_rest#*:}
            if [ "$_gowarden_dir" != "$_gowarden_shims" ]; then
                _gowarden_path=$_gowarden_path:$_gowarden_dir
            fi
        done
        PATH=$_gowarden_path
    fi
    export PATH
fi
unset _gowarden_shims _gowarden_path _gowarden_rest _gowarden_dir
