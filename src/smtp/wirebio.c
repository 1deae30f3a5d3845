#include "smtp/wirebio.h"

#include "log.h"

static int
wire_write(BIO *b, const char *data, int len)
{
	struct buf *wire = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	if (len < 0 || !buf_append(wire, data, (size_t)len))
		return -1;
	return len;
}

static long
wire_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	return cmd == BIO_CTRL_FLUSH ? 1 : 0; /* flushing is the owner's business */
}

static int
wire_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

BIO *
wirebio_new(struct buf *wire)
{
	static BIO_METHOD *method; /* one per process; sessions live on one thread */
	BIO *b;

	if (method == NULL) {
		method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "mailout wire");
		if (method == NULL || !BIO_meth_set_write(method, wire_write) ||
		    !BIO_meth_set_ctrl(method, wire_ctrl) ||
		    !BIO_meth_set_create(method, wire_create))
			fatal_bug("wirebio: cannot make the BIO method");
	}
	if ((b = BIO_new(method)) == NULL)
		fatal_bug("wirebio: out of memory for a BIO");
	BIO_set_data(b, wire);
	return b;
}
