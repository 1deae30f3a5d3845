#!/bin/sh
# ensure-packages.sh WHAT PKG...: install the missing Debian packages when
# running as root, else print the one apt-get line to run and fail.
set -e
what=$1
shift
missing=""
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "$what: installing$missing" >&2
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >&2
else
	echo "$what: missing$missing. Run as root:" >&2
	echo "  apt-get install -y$missing" >&2
	exit 1
fi
