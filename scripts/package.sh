#!/bin/sh
# package.sh OUTDIR: build the Debian package from the committed and staged
# tree (git ls-files) in a folder of its own, and put mailout_*.deb (and
# the lintian report) into OUTDIR.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(cd "${1:-build}" && pwd)
work=$(mktemp -d /tmp/mailout-package.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/mailout"
(cd "$root" && git ls-files -z --cached --others --exclude-standard | \
	xargs -0 tar cf - --no-recursion) | tar xf - -C "$work/mailout"
(cd "$work/mailout" && dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1) || {
	tail -n 60 "$work/build.log" >&2
	exit 1
}
deb=$(ls "$work"/mailout_*.deb)
cp "$deb" "$out/"
lintian --no-tag-display-limit "$deb" >"$out/lintian.txt" 2>&1 || true
echo "$out/$(basename "$deb")"
