/* libFuzzer: the DATA decoder, fed in chunks whose sizes come from the
 * input, and the header scanner behind it. Invariants: every CR in the
 * output is followed by LF and every LF preceded by CR (no bare line ends
 * reach the spool), the output never exceeds the documented expansion, and
 * the Received: count is the same whatever the chunking. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hdrscan.h"
#include "smtp_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_data d;
	struct hdrscan h, whole;
	char *in, *out;
	size_t pos = 0, total = 0, chunk;

	if (size < 1)
		return 0;
	chunk = (data[0] % 17) + 1;
	in = malloc(size);
	memcpy(in, data + 1, size - 1);
	out = malloc((size + 1) * SMTP_DATA_EXPANSION);
	smtp_data_init(&d, 1000);
	hdrscan_init(&h);
	while (pos < size - 1 && d.state != SMTP_DATA_DONE) {
		size_t n = size - 1 - pos < chunk ? size - 1 - pos : chunk, o;
		pos += smtp_data_feed(&d, in + pos, n, out + total, &o);
		if (o > n * SMTP_DATA_EXPANSION)
			abort();
		hdrscan_feed(&h, out + total, o);
		total += o;
	}
	hdrscan_init(&whole);
	hdrscan_feed(&whole, out, total);
	if (whole.received != h.received || whole.is_done != h.is_done)
		abort();
	for (size_t i = 0; i < total; i++) {
		if (out[i] == '\r' && (i + 1 == total || out[i + 1] != '\n') &&
		    !(i + 1 == total && d.state != SMTP_DATA_DONE))
			abort();
		if (out[i] == '\n' && (i == 0 || out[i - 1] != '\r'))
			abort();
	}
	free(in);
	free(out);
	return 0;
}
