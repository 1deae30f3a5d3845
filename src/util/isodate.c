#include "util/isodate.h"

#include <string.h>
#include <time.h>

#include "util/num.h"
#include "util/str.h"

/* n digits at s into *out; false if any is not a digit. */
static bool
digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static bool
parse_day(const char *s, struct tm *tm)
{
	int y, m, d;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &m) || s[7] != '-' ||
	    !digits(s + 8, 2, &d) || y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 ||
	    d > mdays[m - 1])
		return false;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return false;
	memset(tm, 0, sizeof(*tm));
	tm->tm_year = y - 1900;
	tm->tm_mon = m - 1;
	tm->tm_mday = d;
	return true;
}

/* "Z", "+HH:MM" or "-HH:MM" into seconds east of UTC. */
static bool
parse_zone(const char *s, int *offset)
{
	int h, m;

	if (strcmp(s, "Z") == 0) {
		*offset = 0;
		return true;
	}
	if ((s[0] != '+' && s[0] != '-') || !digits(s + 1, 2, &h) || s[3] != ':' ||
	    !digits(s + 4, 2, &m) || s[6] != '\0' || h > 23 || m > 59)
		return false;
	*offset = (s[0] == '+' ? 1 : -1) * (h * 3600 + m * 60);
	return true;
}

bool
isodate_parse_expiry(const char *s, int64_t *until)
{
	struct tm tm;
	int hh, mm, ss, offset;

	if (strlen(s) < 10 || !parse_day(s, &tm))
		return false;
	if (s[10] == '\0') {
		*until = (int64_t)timegm(&tm) + 86400; /* through the end of the day */
		return true;
	}
	if (s[10] != 'T' || !digits(s + 11, 2, &hh) || s[13] != ':' || !digits(s + 14, 2, &mm) ||
	    s[16] != ':' || !digits(s + 17, 2, &ss) || hh > 23 || mm > 59 || ss > 60 ||
	    !parse_zone(s + 19, &offset))
		return false;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	*until = (int64_t)timegm(&tm) - offset;
	return true;
}

static void
format_utc(int64_t t, bool is_day, char *dst, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	size_t n;

	gmtime_r(&tt, &tm);
	n = is_day ? strftime(dst, size, "%Y-%m-%d", &tm)
	           : strftime(dst, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (n == 0 && size)
		dst[0] = '\0';
}

void
isodate_format(int64_t t, char *dst, size_t size)
{
	format_utc(t, false, dst, size);
}

void
isodate_format_day(int64_t t, char *dst, size_t size)
{
	format_utc(t, true, dst, size);
}

bool
isodate_parse_since(const char *s, int64_t now, int64_t *since)
{
	uint64_t back;
	int64_t end;

	if (num_parse_duration(s, 1, 3650ULL * 86400, &back)) {
		*since = now - (int64_t)back;
		return true;
	}
	if (strlen(s) == 10 && isodate_parse_expiry(s, &end)) {
		*since = end - 86400; /* the end of the day, less the day */
		return true;
	}
	return false;
}

void
isodate_prose(int64_t t, bool is_german, char *dst, size_t size)
{
	static const char *const en[] = {"January",   "February", "March",    "April",
	                                 "May",       "June",     "July",     "August",
	                                 "September", "October",  "November", "December"};
	static const char *const de[] = {"Januar",    "Februar", "M\xc3\xa4rz", "April",
	                                 "Mai",       "Juni",    "Juli",        "August",
	                                 "September", "Oktober", "November",    "Dezember"};
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL) {
		str_copy(dst, size, "?");
		return;
	}
	if (is_german)
		str_fmt(dst, size, "%d. %s %d", tm.tm_mday, de[tm.tm_mon], tm.tm_year + 1900);
	else
		str_fmt(dst, size, "%d %s %d", tm.tm_mday, en[tm.tm_mon], tm.tm_year + 1900);
}

void
isodate_rfc5322(int64_t t, char *dst, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(dst, size, "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
		str_copy(dst, size, "Thu, 01 Jan 1970 00:00:00 +0000");
}
