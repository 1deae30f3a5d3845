#!/bin/sh
# promtool.sh: print the path of a promtool (Prometheus' checker). Uses the
# one on PATH, else unpacks Debian's prometheus package into build/tools/
# without installing it (installing would start a Prometheus server).
set -e
if command -v promtool >/dev/null 2>&1; then
	command -v promtool
	exit 0
fi
root=$(cd "$(dirname "$0")/.." && pwd)
tool="$root/build/tools/usr/bin/promtool"
if [ ! -x "$tool" ]; then
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download prometheus >/dev/null 2>&1) || {
		apt-get update -qq >/dev/null 2>&1
		(cd "$tmp" && apt-get download prometheus >/dev/null)
	}
	mkdir -p "$root/build/tools"
	dpkg-deb -x "$tmp"/prometheus_*.deb "$root/build/tools"
	rm -rf "$tmp"
fi
echo "$tool"
