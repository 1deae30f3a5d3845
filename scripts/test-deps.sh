#!/bin/sh
# Test tools: installed if missing (as root), else the apt-get line is printed.
exec "$(dirname "$0")/ensure-packages.sh" test-deps libcmocka-dev python3-pytest \
	python3-aiosmtpd swaks slapd ldap-utils curl openssl clang libclang-rt-14-dev iproute2 procps \
	chromium chromium-driver python3-selenium haproxy postgresql
