# shellcheck shell=sh
# Puts the gowarden shims dir first on PATH, so that `go` and `gofmt` run through gowarden, and
# the dir holding the `gowarden` binary on PATH after it unless PATH already has it.
# POSIX sh, for /etc/profile.d and ~/.profile-style files. install.sh installs this body after
# two lines that set _gowarden_shims (the shims dir) and _gowarden_bin (the binary's dir).
#
# Sourcing it again is harmless: the shims dir is moved to the front, the binary's dir keeps
# its first place (a second copy of it is dropped), neither is ever on PATH twice, and every
# other entry keeps its place (empty entries too).
if [ -n "${_gowarden_shims:-}" ]; then
    _gowarden_path=$_gowarden_shims
    _gowarden_have_bin=0
    # The trailing colon makes every entry, the last and empty ones too, end in one.
    _gowarden_rest=${PATH:-}:
    [ -n "${PATH:-}" ] || _gowarden_rest=
    while [ -n "$_gowarden_rest" ]; do
        _gowarden_dir=${_gowarden_rest%%:*}
        _gowarden_rest=${_gowarden_rest#*:}
        if [ "$_gowarden_dir" = "$_gowarden_shims" ]; then
            :
        elif [ -n "${_gowarden_bin:-}" ] && [ "$_gowarden_dir" = "$_gowarden_bin" ]; then
            # Kept where it first is; a later copy (~/.profile files add ~/.local/bin
            # again on each sourcing) is dropped.
            [ "$_gowarden_have_bin" = 1 ] || _gowarden_path=$_gowarden_path:$_gowarden_dir
            _gowarden_have_bin=1
        else
            _gowarden_path=$_gowarden_path:$_gowarden_dir
        fi
    done
    if [ -n "${_gowarden_bin:-}" ] && [ "$_gowarden_have_bin" = 0 ]; then
        # Right after the shims: the gowarden that was installed with them answers first.
        _gowarden_path=$_gowarden_shims:$_gowarden_bin${_gowarden_path#"$_gowarden_shims"}
    fi
    PATH=$_gowarden_path
    export PATH
fi
unset _gowarden_shims _gowarden_bin _gowarden_path _gowarden_rest _gowarden_dir _gowarden_have_bin
