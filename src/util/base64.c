#include "util/base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
value_of(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* One group of four characters; n: bytes it holds (1 to 3), 0 if bad. */
static size_t
decode_group(const char *g, bool is_last, unsigned char out[3])
{
	int v[4];
	size_t pad = 0;

	for (int i = 0; i < 4; i++) {
		if (g[i] == '=' && is_last && i >= 2) {
			v[i] = 0;
			pad++;
			continue;
		}
		if (pad > 0 || (v[i] = value_of(g[i])) < 0)
			return 0;
	}
	unsigned bits =
	    (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 | (unsigned)v[3];
	/* The bits a pad drops must be zero: one text per byte string. */
	if ((pad == 1 && (bits & 0xff)) || (pad == 2 && (bits & 0xffff)))
		return 0;
	out[0] = (unsigned char)(bits >> 16);
	out[1] = (unsigned char)(bits >> 8);
	out[2] = (unsigned char)bits;
	return 3 - pad;
}

bool
base64_decode(const char *in, size_t len, unsigned char *out, size_t size, size_t *out_len)
{
	size_t n = 0;

	*out_len = 0;
	if (len % 4 != 0)
		return false;
	for (size_t i = 0; i < len; i += 4) {
		unsigned char b[3];
		size_t k = decode_group(in + i, i + 4 == len, b);
		if (k == 0 || n + k > size)
			return false;
		for (size_t j = 0; j < k; j++)
			out[n++] = b[j];
	}
	*out_len = n;
	return true;
}

bool
base64_encode(const unsigned char *in, size_t len, char *out, size_t size)
{
	size_t need = (len + 2) / 3 * 4 + 1, n = 0;

	if (size < need)
		return false;
	for (size_t i = 0; i < len; i += 3) {
		unsigned bits = (unsigned)in[i] << 16;
		size_t k = len - i < 3 ? len - i : 3;
		if (k > 1)
			bits |= (unsigned)in[i + 1] << 8;
		if (k > 2)
			bits |= in[i + 2];
		out[n++] = alphabet[bits >> 18 & 63];
		out[n++] = alphabet[bits >> 12 & 63];
		out[n++] = k > 1 ? alphabet[bits >> 6 & 63] : '=';
		out[n++] = k > 2 ? alphabet[bits & 63] : '=';
	}
	out[n] = '\0';
	return true;
}
