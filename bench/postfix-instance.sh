#!/bin/sh
# postfix-instance.sh DIR STARTTLS_PORT SMTPS_PORT SINK_PORT CERT KEY [RSA_CERT RSA_KEY]
# Writes a private Postfix instance under DIR (config, queue, data; never the
# system instance) with the benchmark's policy: STARTTLS required on one
# port, implicit TLS on another, relay everything to the sink, durable queue.
set -e
dir=$1 starttls=$2 smtps=$3 sink=$4 cert=$5 key=$6
rsa=""
[ -n "${7:-}" ] && rsa=", $8, $7"
mkdir -p "$dir/etc" "$dir/queue" "$dir/data"
chown postfix "$dir/data"
cat > "$dir/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = postfix.bench.test
mydestination =
local_recipient_maps =
alias_maps =
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$sink
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_client_connection_rate_limit = 0
smtpd_client_connection_count_limit = 0
smtpd_tls_chain_files = $key, $cert$rsa
smtpd_tls_security_level = encrypt
smtp_tls_security_level = none
default_process_limit = 200
maillog_file = $dir/data/maillog
biff = no
CF
cat > "$dir/etc/master.cf" <<CF
127.0.0.1:$starttls inet n - n - - smtpd
127.0.0.1:$smtps inet n - n - - smtpd -o smtpd_tls_wrappermode=yes
pickup    unix n - n 60 1 pickup
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
tlsmgr    unix - - n 1000? 1 tlsmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
CF
postfix -c "$dir/etc" check >/dev/null 2>&1 || postfix -c "$dir/etc" check
