#!/bin/sh
# Check the build dependencies; install them when running as root, else say how.
# Prints make variable assignments (PKG_CFLAGS, PKG_LIBS) on stdout for build/config.mk.
set -e
PKGS="libssl-dev libevent-dev libinih-dev libidn2-dev libsqlite3-dev libcrypt-dev pkg-config"
MODS="openssl libevent libevent_openssl libevent_pthreads inih libidn2 sqlite3 libcrypt"
missing=""
for m in $MODS; do
	pkg-config --exists "$m" 2>/dev/null || missing="$missing $m"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "deps: missing$missing; installing Debian packages" >&2
		apt-get update -qq >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $PKGS >&2
	else
		echo "deps: missing$missing. Run as root:" >&2
		echo "  apt-get install -y $PKGS" >&2
		exit 1
	fi
fi
echo "PKG_CFLAGS := $(pkg-config --cflags $MODS)"
echo "PKG_LIBS := $(pkg-config --libs $MODS) -lpthread"
