#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "client/client.h"
#include "util/buf.h"
#include "util/fsx.h"
#include "util/str.h"

#define READ_CHUNK (64 * 1024)

/* dir:PATH - write PATH/ID.eml via a temporary file, fsync, rename. */
enum outcome
client_deliver_dir(const char *dir, const struct client_batch *b, int fd, struct client_result *res)
{
	char tmp[PATH_MAX], final[PATH_MAX], buf[READ_CHUNK];
	struct buf hdr;
	const struct envelope *env = b->env;
	ssize_t n = 0;
	int out;
	bool ok = true;

	if (!str_fmt(tmp, sizeof(tmp), "%s/.%s.tmp", dir, env->id) ||
	    !str_fmt(final, sizeof(final), "%s/%s.eml", dir, env->id)) {
		client_fail_all(b, res, OUT_TEMPFAIL, "outbox path too long");
		return OUT_TEMPFAIL;
	}
	if ((out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) < 0) {
		str_fmt(res->error, sizeof(res->error), "open %s: %s", tmp, strerror(errno));
		client_fail_all(b, res, OUT_TEMPFAIL, res->error);
		return OUT_TEMPFAIL;
	}
	buf_init(&hdr, SPOOL_HEADER_MAX);
	buf_printf(&hdr, "Return-Path: <%s>\r\n", env->sender);
	for (size_t i = 0; i < env->n_rcpt; i++)
		if (client_batch_has(b, i))
			buf_printf(&hdr, "X-Envelope-To: <%s>\r\n", env->rcpt[i]);
	ok = fsx_write_all(out, hdr.data, hdr.len) == 0;
	buf_free(&hdr);
	while (ok && (n = read(fd, buf, sizeof(buf))) > 0)
		ok = fsx_write_all(out, buf, (size_t)n) == 0;
	ok = ok && n == 0 && fsx_fsync(out) == 0;
	close(out);
	ok = ok && fsx_rename(tmp, final) == 0 && fsx_fsync_dir(dir) == 0;
	if (!ok) {
		str_fmt(res->error, sizeof(res->error), "writing %s: %s", final, strerror(errno));
		unlink(tmp);
		client_fail_all(b, res, OUT_TEMPFAIL, res->error);
		return OUT_TEMPFAIL;
	}
	for (size_t i = 0; i < env->n_rcpt; i++)
		if (client_batch_has(b, i)) {
			res->rcpt[i] = OUT_OK;
			str_fmt(res->rcpt_reply[i], CLIENT_REPLY_MAX, "written to %s", final);
		}
	return OUT_OK;
}
