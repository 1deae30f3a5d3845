/*
 * cidrtab: the most specific of many CIDR prefixes that contains an
 * address, in O(P log n) for P distinct prefix lengths (a handful in
 * practice) instead of a scan of all n. Built once from an array and read
 * only afterwards, so any number of threads may look up in it. When
 * several entries have the same prefix, the one earliest in the array
 * wins: the caller orders by relevance. Mail-agnostic; no I/O.
 */
#ifndef MAILOUT_UTIL_CIDRTAB_H
#define MAILOUT_UTIL_CIDRTAB_H

#include <stddef.h>
#include <sys/socket.h>

#include "util/cidr.h"

struct cidrtab;

/* A table over nets[0..n) (copied; nets may be freed afterwards). */
struct cidrtab *cidrtab_new(const struct cidr *nets, size_t n);
void cidrtab_free(struct cidrtab *);
/* The index into the builder's array of the most specific prefix that
 * contains sa (IPv4-mapped IPv6 as IPv4), or -1. */
long cidrtab_lookup(const struct cidrtab *, const struct sockaddr *);

#endif
