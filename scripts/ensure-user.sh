#!/bin/sh
# ensure-user.sh [NAME]: the service user mailoutd's children run as when it
# is started as root (default "mailout": never nobody, which other daemons
# share). Made once as a system user without a home or a login shell; as
# another user nothing is needed (mailoutd then keeps its own user).
set -e
name=${1:-mailout}
[ "$(id -u)" = 0 ] || exit 0
getent passwd "$name" >/dev/null && exit 0
echo "making the system user $name" >&2
useradd --system --user-group --home-dir /nonexistent --no-create-home \
	--shell /usr/sbin/nologin --comment "mailout gateway" "$name"
