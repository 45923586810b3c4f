#!/bin/sh
# Dev Container Feature "gowarden": installs gowarden with the repository's install.sh.
#
# Options arrive as environment variables, as the Dev Container spec passes them:
#   POLICY   a policy file already in the image; empty: the policy embedded in gowarden
#   SYSTEM   true: for every user (install.sh --system); false: for the remote user
#            (_REMOTE_USER, _REMOTE_USER_HOME), who then owns what was installed, with
#            /usr/local/share/gowarden/shims (on PATH through containerEnv) a link to their
#            ~/.local/share/gowarden/shims
#
# The feature dir is self-contained once shims/devcontainer/package.sh has filled it:
# ./gowarden-src holds install.sh and shims/ (and the sources, to build from if the image has
# cargo), ./gowarden-bin a prebuilt binary. For tests: GOWARDEN_REPO names the sources,
# GOWARDEN_BINARY the binary, DESTDIR stages a system install under a root dir.
set -eu

die() {
    printf 'gowarden feature: %s\n' "$*" >&2
    exit 1
}

here=$(cd "$(dirname "$0")" && pwd -P)
repo=${GOWARDEN_REPO:-$here/gowarden-src}
[ -f "$repo/install.sh" ] ||
    die "no gowarden sources at $repo: package the feature with shims/devcontainer/package.sh"
if [ -z "${GOWARDEN_BINARY:-}" ] && [ -x "$here/gowarden-bin" ]; then
    GOWARDEN_BINARY=$here/gowarden-bin
    export GOWARDEN_BINARY
fi

set --
[ -z "${POLICY:-}" ] || set -- --policy "$POLICY"
case ${SYSTEM:-true} in
    true) exec sh "$repo/install.sh" --system "$@" ;;
    false) ;;
    *) die "option system must be true or false, not ${SYSTEM}" ;;
esac

user=${_REMOTE_USER:-root}
home=${_REMOTE_USER_HOME:-}
if [ -z "$home" ]; then
    home=$(awk -F: -v u="$user" '$1 == u { print $6 }' /etc/passwd)
fi
if [ -z "$home" ] || [ ! -d "$home" ]; then
    die "cannot find the home dir of $user (set _REMOTE_USER_HOME)"
fi
HOME=$home sh "$repo/install.sh" "$@"

# The feature's containerEnv puts /usr/local/share/gowarden/shims first on PATH for every
# process in the container (login shells get the user's own dir from ~/.profile as well): a
# link to the user's shims makes that name theirs.
link=/usr/local/share/gowarden/shims
if [ -d "$link" ] && [ ! -L "$link" ]; then
    die "$link is a system-wide gowarden install: use system: true, or an image without one"
fi
mkdir -p "$(dirname "$link")"
ln -sfn "$home/.local/share/gowarden/shims" "$link"
printf 'gowarden feature: linked %s to %s\n' "$link" "$home/.local/share/gowarden/shims"
[ "$(id -u "$user")" != 0 ] || exit 0

# Root ran the install: hand the user every file it made in their home, and each dir above
# such a file that root created on the way.
owner=$(id -u "$user"):$(id -g "$user")
manifest=$home/.local/share/gowarden/install-manifest
chown "$owner" "$manifest"
sed -n 's/^[a-z-]* //p' "$manifest" | while IFS= read -r path; do
    while [ "$path" != "$home" ] && [ "$path" != / ]; do
        if [ -e "$path" ] || [ -L "$path" ]; then
            [ "$(stat -c %u "$path")" != 0 ] || chown -h "$owner" "$path"
        fi
        path=$(dirname "$path")
    done
done
