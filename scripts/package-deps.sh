#!/bin/sh
# Packaging tools: installed if missing (as root), else the apt-get line is printed.
exec "$(dirname "$0")/ensure-packages.sh" package-deps debhelper dpkg-dev lintian groff-base adduser \
	systemd
