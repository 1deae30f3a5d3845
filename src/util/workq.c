#include "util/workq.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/xmalloc.h"

struct job {
	void (*run)(void *);
	void (*done)(void *);
	void *arg;
	struct job *next;
};

struct workq {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *head, *tail;
	bool is_stopping;
	pthread_t *threads;
	unsigned n_threads;
	int pipe_rd, pipe_wr; /* finished jobs travel back as pointers */
	struct event *ev;
};

static void *
workq_thread(void *p)
{
	struct workq *q = p;

	for (;;) {
		pthread_mutex_lock(&q->lock);
		while (q->head == NULL && !q->is_stopping)
			pthread_cond_wait(&q->cond, &q->lock);
		struct job *j = q->head;
		if (j == NULL) {
			pthread_mutex_unlock(&q->lock);
			return NULL;
		}
		q->head = j->next;
		if (q->head == NULL)
			q->tail = NULL;
		pthread_mutex_unlock(&q->lock);
		j->run(j->arg);
		/* A pointer is less than PIPE_BUF: the write is atomic. */
		while (write(q->pipe_wr, &j, sizeof(j)) < 0 && errno == EINTR)
			;
	}
}

static void
workq_on_done(evutil_socket_t fd, short what, void *p)
{
	struct job *batch[64];
	ssize_t n;

	(void)what;
	(void)p;
	while ((n = read(fd, batch, sizeof(batch))) > 0) {
		for (size_t i = 0; i < (size_t)n / sizeof(batch[0]); i++) {
			batch[i]->done(batch[i]->arg);
			free(batch[i]);
		}
		if ((size_t)n < sizeof(batch))
			break;
	}
}

struct workq *
workq_new(struct event_base *base, unsigned threads)
{
	struct workq *q = xcalloc(1, sizeof(*q));
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) != 0)
		abort();
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	q->pipe_rd = fds[0];
	q->pipe_wr = fds[1];
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	q->ev = event_new(base, q->pipe_rd, EV_READ | EV_PERSIST, workq_on_done, q);
	event_add(q->ev, NULL);
	q->n_threads = threads;
	q->threads = xcalloc(threads, sizeof(*q->threads));
	for (unsigned i = 0; i < threads; i++)
		if (pthread_create(&q->threads[i], NULL, workq_thread, q) != 0)
			abort();
	return q;
}

void
workq_submit(struct workq *q, void (*run)(void *), void (*done)(void *), void *arg)
{
	struct job *j = xcalloc(1, sizeof(*j));

	j->run = run;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&q->lock);
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

void
workq_free(struct workq *q)
{
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->lock);
	q->is_stopping = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	for (unsigned i = 0; i < q->n_threads; i++)
		pthread_join(q->threads[i], NULL);
	workq_on_done(q->pipe_rd, 0, q);
	event_free(q->ev);
	close(q->pipe_rd);
	close(q->pipe_wr);
	free(q->threads);
	free(q);
}
