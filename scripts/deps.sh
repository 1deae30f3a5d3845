#!/bin/sh
# Build dependencies: installed if missing (as root), else the apt-get line is
# printed. Prints the make variables PKG_CFLAGS and PKG_LIBS for build/config.mk.
set -e
here=$(dirname "$0")
"$here/ensure-packages.sh" deps libssl-dev libevent-dev libinih-dev libidn2-dev libunbound-dev \
	libsqlite3-dev libcrypt-dev libmicrohttpd-dev libseccomp-dev libjansson-dev libldap-dev libpq-dev pkg-config
MODS="openssl libevent libevent_pthreads inih libidn2 sqlite3 libcrypt libunbound libmicrohttpd libseccomp jansson ldap lber libpq"
echo "PKG_CFLAGS := $(pkg-config --cflags $MODS)"
echo "PKG_LIBS := $(pkg-config --libs $MODS) -lpthread"
