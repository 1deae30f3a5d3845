#include "hello.h"

#include <stdio.h>
#include <string.h>

#include "util/str.h"

#define GREASE(v) (((v)&0x0f0f) == 0x0a0a && ((v) >> 8) == ((v)&0xff))

static unsigned
be16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static void
note_version(struct hello *h, unsigned v)
{
	if (GREASE(v) || v < 0x0300 || v > 0x0304)
		return;
	if (h->min_version == 0 || v < h->min_version)
		h->min_version = v;
	if (v > h->max_version)
		h->max_version = v;
}

void
hello_versions(struct hello *h, unsigned legacy, const unsigned char *ext, size_t len)
{
	h->is_seen = true;
	h->min_version = h->max_version = 0;
	/* supported_versions: a one-byte length, then two bytes a version. */
	if (ext && len >= 1 && (size_t)ext[0] + 1 <= len && ext[0] % 2 == 0) {
		for (size_t i = 1; i + 1 < (size_t)ext[0] + 1; i += 2)
			note_version(h, be16(ext + i));
		if ((h->is_listed = h->max_version != 0))
			return;
	}
	/* Without the extension a client offers every version up to legacy_version
	 * that we speak at all; the lowest it takes we cannot know: say it. */
	note_version(h, legacy);
}

/* The kind of one suite (IANA code). */
static void
classify(struct hello *h, unsigned c)
{
	static const unsigned rc4[] = {0x0004, 0x0005, 0x0018, 0xc002,
	                               0xc007, 0xc00c, 0xc011, 0xc016};
	static const unsigned des3[] = {0x000a, 0x0013, 0x0016, 0x001b, 0xc003,
	                                0xc008, 0xc00d, 0xc012, 0xc017};
	static const unsigned weak[] = {0x0000, 0x0001, 0x0002, 0x0003, 0x0006, 0x0008,
	                                0x0009, 0x000c, 0x000f, 0x0011, 0x0012, 0x0014,
	                                0x0015, 0x0017, 0x0019, 0x001a, 0x003b};

	for (size_t i = 0; i < sizeof(rc4) / sizeof(rc4[0]); i++)
		if (c == rc4[i])
			h->has_rc4 = true;
	for (size_t i = 0; i < sizeof(des3) / sizeof(des3[0]); i++)
		if (c == des3[i])
			h->has_3des = true;
	for (size_t i = 0; i < sizeof(weak) / sizeof(weak[0]); i++)
		if (c == weak[i])
			h->has_weak = true;
	if ((c >= 0x1301 && c <= 0x1305) || (c >= 0x009c && c <= 0x00a7) ||
	    (c >= 0xc02b && c <= 0xc032) || (c >= 0xcca8 && c <= 0xccae) ||
	    (c >= 0xc09c && c <= 0xc0af))
		h->has_aead = true;
	else if ((c >= 0x002f && c <= 0x003a) || (c >= 0x003c && c <= 0x006d) ||
	         (c >= 0xc004 && c <= 0xc00a) || (c >= 0xc013 && c <= 0xc014) ||
	         (c >= 0xc023 && c <= 0xc02a))
		h->has_cbc = true;
}

void
hello_ciphers(struct hello *h, const unsigned char *list, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2) {
		unsigned c = be16(list + i);
		if (GREASE(c) || c == 0x00ff || c == 0x5600) /* GREASE, SCSVs */
			continue;
		h->n_ciphers++;
		classify(h, c);
	}
}

void
hello_sni(struct hello *h, const unsigned char *ext, size_t len)
{
	/* server_name_list: a two-byte length, then (type, two-byte length, name). */
	if (len < 5 || be16(ext) + 2 > len || ext[2] != 0)
		return;
	size_t n = be16(ext + 3);
	if (n == 0 || 5 + n > len)
		return;
	str_copy_printable(h->sni, sizeof(h->sni), (const char *)ext + 5, n);
}

void
hello_sigalgs(struct hello *h, const unsigned char *ext, size_t len)
{
	if (len >= 2 && be16(ext) + 2 <= len)
		h->n_sigalgs = be16(ext) / 2;
}

const char *
hello_version_name(unsigned v)
{
	switch (v) {
	case 0x0300:
		return "SSL 3.0";
	case 0x0301:
		return "TLS 1.0";
	case 0x0302:
		return "TLS 1.1";
	case 0x0303:
		return "TLS 1.2";
	case 0x0304:
		return "TLS 1.3";
	default:
		return "an unknown version";
	}
}

/* "RC4 and 3DES", "CBC", "AEAD" ... the kinds offered, at most size bytes. */
static void
kinds(const struct hello *h, char *out, size_t size)
{
	const char *k[5];
	size_t n = 0, len = 0;

	if (h->has_aead)
		k[n++] = "AEAD";
	if (h->has_cbc)
		k[n++] = "CBC";
	if (h->has_3des)
		k[n++] = "3DES";
	if (h->has_rc4)
		k[n++] = "RC4";
	if (h->has_weak)
		k[n++] = "export/NULL/DES";
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		str_fmt(out + len, size - len, "%s%s",
		        i == 0       ? ""
		        : i + 1 == n ? " and "
		                     : ", ",
		        k[i]);
		len = strlen(out);
	}
}

void
hello_diagnose(const struct hello *h, unsigned server_min, char *out, size_t size)
{
	char offered[96], suites[64], sni[HELLO_SNI_MAX + 16];

	if (!h->is_seen || h->max_version == 0) {
		str_copy(out, size, "the client sent no TLS ClientHello we could read");
		return;
	}
	if (!h->is_listed && h->max_version > 0x0301)
		str_fmt(offered, sizeof(offered), "offers up to %s",
		        hello_version_name(h->max_version));
	else if (h->min_version == h->max_version)
		str_fmt(offered, sizeof(offered), "offers only %s",
		        hello_version_name(h->max_version));
	else
		str_fmt(offered, sizeof(offered), "offers %s to %s",
		        hello_version_name(h->min_version), hello_version_name(h->max_version));
	kinds(h, suites, sizeof(suites));
	str_fmt(sni, sizeof(sni), h->sni[0] ? "SNI %s" : "no SNI", h->sni);
	const char *advice =
	    h->max_version < server_min
	        ? "a firmware update is needed, or register it with legacy TLS"
	    : !h->has_aead && !h->has_cbc
	        ? "its cipher suites are all too weak: a firmware update is needed"
	        : "the versions fit: check the device's certificate settings and clock";
	str_fmt(out, size, "%s (%u cipher suites%s%s; %s): %s", offered, h->n_ciphers,
	        suites[0] ? ", " : "", suites, sni, advice);
}
