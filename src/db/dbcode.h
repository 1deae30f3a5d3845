/*
 * dbcode: the result codes of a registry statement, the same on SQLite and
 * PostgreSQL. Their values are SQLite's (db/stmt.c checks), so that an
 * SQLite result passes through as it is; db/pg.c maps PostgreSQL's.
 */
#ifndef MAILOUT_DB_DBCODE_H
#define MAILOUT_DB_DBCODE_H

enum {
	DB_OK = 0,
	DB_ERROR = 1,
	DB_BUSY = 5, /* another writer holds the lock: try later */
	DB_LOCKED = 6,
	DB_IOERR = 10, /* the database cannot be reached or written: try later */
	DB_FULL = 13,
	DB_CANTOPEN = 14,
	DB_CONSTRAINT = 19,
	DB_ROW = 100,
	DB_DONE = 101,
};

#endif
