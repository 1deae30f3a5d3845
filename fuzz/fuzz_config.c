/* libFuzzer: the config reader and validator, through a memfd. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	struct buf errs;
	char path[64];
	int fd = memfd_create("conf", 0);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	buf_init(&errs, 1 << 20);
	config_load(path, &cfg, &errs);
	buf_free(&errs);
	close(fd);
	return 0;
}
