#!/bin/sh
# demo-admin.sh DIR: the demo's web admin, once: user "admin" with a random
# password in DIR/web-admin-password, its hash in DIR/web-admins.
set -e
dir=$1
[ -s "$dir/web-admins" ] && exit 0
mkdir -p "$dir"
umask 077
openssl rand -hex 8 > "$dir/web-admin-password"
"$(dirname "$0")/../build/mailoutctl" web passwd admin < "$dir/web-admin-password" > "$dir/web-admins"
