#include "util/num.h"

#include <string.h>

/* Parse the digits of s[0..len) into *out; false on overflow or non-digit. */
static bool
parse_digits(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 20)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static bool
parse_scaled(const char *s, const char *suffixes, const uint64_t *scales, uint64_t min,
             uint64_t max, uint64_t *out)
{
	size_t len = strlen(s);
	uint64_t scale = 1, v;
	const char *p;

	if (len > 0 && (p = strchr(suffixes, s[len - 1])) != NULL && *p != '\0') {
		scale = scales[p - suffixes];
		len--;
	}
	if (!parse_digits(s, len, &v) || (v != 0 && v > UINT64_MAX / scale))
		return false;
	v *= scale;
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool
num_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;

	if (!parse_digits(s, strlen(s), &v) || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool
num_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	static const uint64_t scales[] = {
	    1024, 1024, 1024 * 1024, 1024 * 1024, 1024ULL * 1024 * 1024, 1024ULL * 1024 * 1024};

	return parse_scaled(s, "kKmMgG", scales, min, max, out);
}

bool
num_parse_duration(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	static const uint64_t scales[] = {1, 60, 3600, 86400};

	return parse_scaled(s, "smhd", scales, min, max, out);
}
