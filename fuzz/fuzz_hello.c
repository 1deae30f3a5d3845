/* libFuzzer: the ClientHello fields a client sends (versions, cipher list,
 * SNI, signature algorithms) through hello.c's parsers, then the sentence.
 * Properties: no read past a field; the SNI is printable ASCII; versions
 * are real ones; the sentence fits and ends. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hello.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next field: one length byte, then that many bytes (an exact copy). */
static unsigned char *
field(const uint8_t **data, size_t *size, size_t *len)
{
	if (*size == 0)
		return NULL;
	*len = **data < *size - 1 ? **data : *size - 1;
	unsigned char *f = malloc(*len ? *len : 1);
	memcpy(f, *data + 1, *len);
	*data += 1 + *len;
	*size -= 1 + *len;
	return f;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hello h = {0};
	char out[256];
	size_t len[4] = {0};
	unsigned char *f[4];

	if (size < 2)
		return 0;
	unsigned legacy = (unsigned)data[0] << 8 | data[1];
	data += 2;
	size -= 2;
	for (int i = 0; i < 4; i++)
		f[i] = field(&data, &size, &len[i]);
	hello_versions(&h, legacy, f[0], f[0] ? len[0] : 0);
	if (f[1])
		hello_ciphers(&h, f[1], len[1]);
	if (f[2])
		hello_sni(&h, f[2], len[2]);
	if (f[3])
		hello_sigalgs(&h, f[3], len[3]);
	for (const char *p = h.sni; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			abort();
	if (h.max_version &&
	    (h.min_version < 0x0300 || h.max_version > 0x0304 || h.min_version > h.max_version))
		abort();
	hello_diagnose(&h, 0x0303, out, sizeof(out));
	if (memchr(out, '\0', sizeof(out)) == NULL)
		abort();
	for (int i = 0; i < 4; i++)
		free(f[i]);
	return 0;
}
