#include "web/webwatch.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/xmalloc.h"

struct watched {
	int fd; /* our duplicate; -1: free slot */
	int64_t since_ms;
	bool is_cut;
	bool is_answering; /* the request is in; the answer is on its way */
};

struct webwatch {
	pthread_mutex_t lock;
	struct watched *w;
	size_t n;
	int64_t deadline_ms;
};

struct webwatch *
webwatch_new(int64_t deadline_ms, size_t max_connections)
{
	struct webwatch *ww = xcalloc(1, sizeof(*ww));

	pthread_mutex_init(&ww->lock, NULL);
	ww->n = max_connections;
	ww->w = xcalloc(max_connections, sizeof(*ww->w));
	for (size_t i = 0; i < ww->n; i++)
		ww->w[i].fd = -1;
	ww->deadline_ms = deadline_ms;
	return ww;
}

void
webwatch_free(struct webwatch *ww)
{
	if (ww == NULL)
		return;
	for (size_t i = 0; i < ww->n; i++)
		if (ww->w[i].fd >= 0)
			close(ww->w[i].fd);
	pthread_mutex_destroy(&ww->lock);
	free(ww->w);
	free(ww);
}

void
webwatch_started(struct webwatch *ww, int fd, void **ctx)
{
	int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	*ctx = NULL;
	if (dup_fd < 0)
		return; /* unwatched: the idle timeout still applies */
	pthread_mutex_lock(&ww->lock);
	for (size_t i = 0; i < ww->n && *ctx == NULL; i++) {
		if (ww->w[i].fd >= 0)
			continue;
		ww->w[i] = (struct watched){dup_fd, clock_monotonic_ms(), false, false};
		*ctx = &ww->w[i];
	}
	pthread_mutex_unlock(&ww->lock);
	if (*ctx == NULL)
		close(dup_fd);
}

void
webwatch_done(struct webwatch *ww, void *ctx)
{
	struct watched *x = ctx;

	if (x == NULL)
		return;
	pthread_mutex_lock(&ww->lock);
	x->since_ms = clock_monotonic_ms();
	x->is_answering = false;
	pthread_mutex_unlock(&ww->lock);
}

void
webwatch_answering(struct webwatch *ww, void *ctx)
{
	struct watched *x = ctx;

	if (x == NULL)
		return;
	pthread_mutex_lock(&ww->lock);
	x->is_answering = true;
	pthread_mutex_unlock(&ww->lock);
}

void
webwatch_closed(struct webwatch *ww, void *ctx)
{
	struct watched *x = ctx;

	if (x == NULL)
		return;
	pthread_mutex_lock(&ww->lock);
	close(x->fd);
	x->fd = -1;
	pthread_mutex_unlock(&ww->lock);
}

unsigned
webwatch_sweep(struct webwatch *ww, int64_t now_ms)
{
	unsigned n = 0;

	pthread_mutex_lock(&ww->lock);
	for (size_t i = 0; i < ww->n; i++) {
		struct watched *x = &ww->w[i];
		if (x->fd < 0 || x->is_cut || x->is_answering ||
		    now_ms - x->since_ms < ww->deadline_ms)
			continue;
		shutdown(x->fd, SHUT_RDWR);
		x->is_cut = true;
		n++;
	}
	pthread_mutex_unlock(&ww->lock);
	return n;
}
