#!/bin/sh
# demo-admin.sh DIR: the demo's accounts, once each: the web admin "admin"
# (password in DIR/web-admin-password, its hash in DIR/web-admins) and the
# SMTP AUTH account "demo" (password in DIR/smtp-password, its hash in
# DIR/smtp-passwd, its senders in DIR/smtp-senders).
set -e
dir=$1
ctl="$(dirname "$0")/../build/mailoutctl"
mkdir -p "$dir"
umask 077
if [ ! -s "$dir/web-admins" ]; then
	openssl rand -hex 8 > "$dir/web-admin-password"
	"$ctl" web passwd admin < "$dir/web-admin-password" > "$dir/web-admins"
fi
if [ ! -s "$dir/smtp-passwd" ]; then
	openssl rand -hex 8 > "$dir/smtp-password"
	"$ctl" auth passwd demo < "$dir/smtp-password" > "$dir/smtp-passwd"
	echo "demo: @example.org @example.edu" > "$dir/smtp-senders"
fi
