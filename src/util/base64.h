/*
 * base64: strict RFC 4648 base64 (the alphabet with '+' and '/', '='
 * padding required, no white space), as SASL exchanges it (RFC 4954 4).
 * Bounded: the caller gives the output size.
 */
#ifndef MAILOUT_UTIL_BASE64_H
#define MAILOUT_UTIL_BASE64_H

#include <stdbool.h>
#include <stddef.h>

/* Decode len characters into out; false for text that is not strict
 * base64 or does not fit (size bytes). *out_len: bytes written. */
bool base64_decode(const char *in, size_t len, unsigned char *out, size_t size, size_t *out_len);
/* Encode; false if the text and its NUL do not fit. */
bool base64_encode(const unsigned char *in, size_t len, char *out, size_t size);

#endif
