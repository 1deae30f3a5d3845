#!/bin/sh
# Test tools: install them when running as root, else say how.
set -e
PKGS="libcmocka-dev python3-pytest python3-aiosmtpd swaks curl openssl clang libclang-rt-14-dev"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "test-deps: installing$missing" >&2
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >&2
else
	echo "test-deps: missing$missing. Run as root:" >&2
	echo "  apt-get install -y$missing" >&2
	exit 1
fi
