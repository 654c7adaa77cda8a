/* zxmobile - the words of mail for full-text search (store/fts.c; not a public header): the
 * tsvector of a message and the tsquery of a search, as PostgreSQL literals built here, so
 * that documents and queries are cut into words by the same code whatever the script (see
 * sql/024_search.sql). */
#ifndef ZX_STORE_FTS_H
#define ZX_STORE_FTS_H

#include <zxsync/store.h>

/* The tsvector literal of a message: subject (weight A), from (B), to and cc (C), body (D);
 * any may be NULL.  The body is read up to its first 512 KiB. */
const char *zx_fts_vector(apr_pool_t *p, const char *subject, const char *from, const char *to,
                          const char *cc, const char *body);

/* The tsquery literal of a condition; *words = the number of words in it.  NULL when the
 * condition has no word at all (only punctuation): a leaf without words is left out of its
 * AND or OR. */
const char *zx_fts_query(apr_pool_t *p, const zx_search_node *n, int *words);

#endif
