/*
 * proxyproto: the PROXY protocol header (HAProxy's proxy-protocol.txt,
 * versions 1 and 2) that a load balancer sends before the client's first
 * byte: which client it carries. proxy_header_length() says how many of
 * the bytes seen so far belong to the header, so the caller consumes
 * exactly those and never a byte of the client's (an implicit-TLS
 * ClientHello may follow in the same packet); proxy_parse() reads a whole
 * header. v1: "PROXY TCP4|TCP6|UNKNOWN ...\r\n", at most 107 bytes. v2:
 * the 12-byte signature, version 2, LOCAL (a health check: keep the
 * connection's own address) or PROXY over TCP/IPv4 or IPv6, then the
 * addresses and TLVs (skipped), at most PROXY_V2_MAX bytes. Pure: no I/O.
 * (Fuzzed: fuzz/fuzz_proxy.c.)
 */
#ifndef MAILOUT_PROXYPROTO_H
#define MAILOUT_PROXYPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define PROXY_V1_MAX 107
#define PROXY_V2_MAX (16 + 536) /* the fixed part and what we accept of addresses and TLVs */

struct proxy_hdr {
	int version;   /* 1 or 2 */
	bool is_local; /* LOCAL (v2) or UNKNOWN (v1): no client carried */
	struct sockaddr_storage src, dst;
};

enum proxy_state { PROXY_MORE, PROXY_DONE, PROXY_BAD };

/* Of p[0..len) (the connection's first bytes), how many belong to the
 * header: *n. PROXY_DONE: *n is the whole header; PROXY_MORE: all of p
 * is header so far (read more, at most what completes it); PROXY_BAD: no
 * PROXY header (or a malformed one). */
enum proxy_state proxy_header_length(const unsigned char *p, size_t len, size_t *n);
/* A whole header (as proxy_header_length() measured it) into h. */
bool proxy_parse(const unsigned char *p, size_t len, struct proxy_hdr *h);
/* A header as HAProxy writes it, for tests: v1 text or v2 binary of
 * src and dst (the same family) into out; its length, 0 if out is small. */
size_t proxy_write(int version, const struct sockaddr *src, const struct sockaddr *dst,
                   unsigned char *out, size_t size);

#endif
