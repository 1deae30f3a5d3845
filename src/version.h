/*
 * version: the release of mailout, as both programs print it with
 * --version and the Debian package carries it.
 */
#ifndef MAILOUT_VERSION_H
#define MAILOUT_VERSION_H

#define MAILOUT_VERSION "0.9.0"

#endif
