#!/bin/sh
# Make the demo's self-signed certificates (ECDSA first, RSA for old devices)
# in the given folder, once.
set -e
dir=${1:-var}
mkdir -p "$dir"
san="subjectAltName=DNS:mailout.demo.test,DNS:localhost,IP:127.0.0.1,IP:::1"
if [ ! -s "$dir/ecdsa.pem" ]; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$dir/ecdsa.key" -out "$dir/ecdsa.pem" -days 825 \
		-subj "/CN=mailout.demo.test" -addext "$san" 2>/dev/null
fi
if [ ! -s "$dir/rsa.pem" ]; then
	openssl req -x509 -newkey rsa:2048 -nodes \
		-keyout "$dir/rsa.key" -out "$dir/rsa.pem" -days 825 \
		-subj "/CN=mailout.demo.test" -addext "$san" 2>/dev/null
fi
chmod 600 "$dir"/*.key
