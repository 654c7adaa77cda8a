/* zxmobile - PostgreSQL access (libpq) and schema migrations.
 *
 * Every statement that carries a value goes through zx_db_exec (PQexecParams): values are
 * never spliced into SQL text.
 */
#ifndef ZXSYNC_DB_H
#define ZXSYNC_DB_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <libpq-fe.h>

typedef struct zx_db zx_db;

/* Connect (conninfo NULL or "" = libpq's defaults: PGHOST, PGDATABASE, service file).  The
 * connection is closed when pool p is cleared.  On failure returns NULL and *err. */
zx_db *zx_db_connect(apr_pool_t *p, const char *conninfo, const char **err);
PGconn *zx_db_conn(zx_db *db);
/* Pool that error messages of later calls are allocated from (default: the connection's);
 * the connection pool points it at the request pool while a request holds the connection. */
void zx_db_set_pool(zx_db *db, apr_pool_t *p);

/* Run one parameterised statement; returns the result (caller PQclear()s it) or NULL with
 * *err set (SQLSTATE and message).  Results other than COMMAND_OK/TUPLES_OK are errors. */
PGresult *zx_db_exec(zx_db *db, const char *sql, int nparams, const char *const *params,
                     const char **err);
/* zx_db_exec with binary parameters (formats[i] = 1: params[i] is lengths[i] raw bytes, e.g. a
 * bytea) and/or binary results (result_format 1).  lengths/formats may be NULL (all text). */
PGresult *zx_db_exec_ex(zx_db *db, const char *sql, int nparams, const char *const *params,
                        const int *lengths, const int *formats, int result_format,
                        const char **err);
/* on: the connection holds no session state between statements (no session lock, SET,
 * LISTEN; the connection pool's connections), so a statement that finds the session dead
 * (the server restarted, terminated it, crashed) is run once more on a new session - only
 * when no transaction was open before it: a statement inside a transaction is never run
 * again, the transaction fails as a whole.  Off by default. */
void zx_db_set_reconnect(zx_db *db, int on);
/* 0 when the session is known dead: the connection is bad, or the server closed it (read
 * without a round trip: only what the server already sent is looked at).  For an idle
 * connection; 1 says nothing more than "not known dead". */
int zx_db_alive(zx_db *db);
/* The same for statements without result rows; returns 0 or -1 and *err. */
int zx_db_run(zx_db *db, const char *sql, int nparams, const char *const *params,
              const char **err);
/* Run a statement; returns how many rows it affected, or -1 and *err. */
long zx_db_affected(zx_db *db, const char *sql, int nparams, const char *const *params,
                    const char **err);
/* Transactions that nest in a caller's: zx_db_tx_begin opens one only when the connection is
 * idle (*own says so); zx_db_tx_end commits (rc >= 0) or rolls back (rc < 0) only what it
 * opened, and returns rc (or -1 when the commit fails). */
int zx_db_tx_begin(zx_db *db, int *own, const char **err);
int zx_db_tx_end(zx_db *db, int own, int rc, const char **err);
/* SQLSTATE of the last error ("" if none). */
const char *zx_db_sqlstate(zx_db *db);

/* ---- migrations -------------------------------------------------------------------------- */
typedef struct {
    int version;            /* NNN of NNN_name.sql */
    const char *name;       /* the file name */
    const char *path;
} zx_migration;

/* List NNN_*.sql in dir, sorted by version.  Duplicate numbers are an error. */
int zx_migrations_scan(apr_pool_t *p, const char *dir, apr_array_header_t **list,
                       const char **err);

typedef struct {
    int known;              /* highest migration this program knows */
    int current;            /* highest applied before the run */
    int applied;            /* how many were applied by this run */
    apr_array_header_t *applied_names;  /* const char * */
} zx_migrate_result;

/* Apply the missing migrations of dir, each in its own transaction, under an advisory lock.
 * Refuses (returns -1 and *err) when the database has a migration newer than it knows. */
int zx_db_migrate(apr_pool_t *p, zx_db *db, const char *dir, zx_migrate_result *res,
                  const char **err);
/* Read the state without changing anything (current = -1 when never migrated). */
int zx_db_migrate_status(apr_pool_t *p, zx_db *db, const char *dir, zx_migrate_result *res,
                         const char **err);

#endif
