/* zxmobile - libpq connection helpers */
#include <zxsync/db.h>
#include <zxsync/log.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

/* Statements with parameters are prepared once per connection and then executed by name:
 * the server parses and plans them once instead of on every request.  At most
 * STMT_CACHE_MAX distinct texts are kept (dynamic SQL beyond that runs unprepared). */
#define STMT_CACHE_MAX 256

struct zx_db {
    PGconn *conn;
    apr_pool_t *pool;       /* owns the connection */
    apr_pool_t *msg_pool;   /* error messages are allocated here */
    apr_hash_t *stmts;      /* SQL text -> statement name */
    unsigned nstmts;
    char sqlstate[6];
};

static apr_status_t db_cleanup(void *data)
{
    zx_db *db = data;
    if (db->conn) {
        PQfinish(db->conn);
        db->conn = NULL;
    }
    return APR_SUCCESS;
}

static void notice_sink(void *arg, const PGresult *res)
{
    /* NOTICEs (e.g. "relation already exists, skipping") go to the debug log, not stderr. */
    zx_log(NULL, ZX_LOG_DEBUG, ZXLOGNO(00100) "postgres: %s",
           PQresultErrorMessage(res));
}

zx_db *zx_db_connect(apr_pool_t *p, const char *conninfo, const char **err)
{
    zx_db *db = apr_pcalloc(p, sizeof *db);
    db->pool = p;
    db->msg_pool = p;
    db->stmts = apr_hash_make(p);
    db->conn = PQconnectdb(conninfo ? conninfo : "");
    apr_pool_cleanup_register(p, db, db_cleanup, apr_pool_cleanup_null);
    if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
        const char *msg = db->conn ? PQerrorMessage(db->conn) : "out of memory";
        *err = apr_psprintf(p, "cannot connect to the database: %s", msg);
        char *nl = strchr(*err, '\n');
        if (nl && nl[1] == '\0')
            *nl = '\0';
        return NULL;
    }
    PQsetNoticeReceiver(db->conn, notice_sink, NULL);
    return db;
}

void zx_db_set_pool(zx_db *db, apr_pool_t *p)
{
    db->msg_pool = p;
}

PGconn *zx_db_conn(zx_db *db)
{
    return db->conn;
}

const char *zx_db_sqlstate(zx_db *db)
{
    return db->sqlstate;
}

PGresult *zx_db_exec(zx_db *db, const char *sql, int nparams, const char *const *params,
                     const char **err)
{
    return zx_db_exec_ex(db, sql, nparams, params, NULL, NULL, 0, err);
}

void zx_db_forget_statements(zx_db *db)
{
    /* after a reconnect the server has none of them */
    db->stmts = apr_hash_make(db->pool);
    db->nstmts = 0;
}

/* The name of sql's prepared statement, preparing it first if needed; NULL: run it unprepared
 * (cache full, or the server refused to prepare it - the unprepared run reports why). */
static const char *prepared(zx_db *db, const char *sql, int nparams)
{
    const char *name = apr_hash_get(db->stmts, sql, APR_HASH_KEY_STRING);
    if (name || db->nstmts >= STMT_CACHE_MAX)
        return name;
    if (PQtransactionStatus(db->conn) == PQTRANS_INERROR)
        return NULL;
    char *n = apr_psprintf(db->pool, "zx%u", db->nstmts + 1);
    PGresult *r = PQprepare(db->conn, n, sql, nparams, NULL);
    int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok)
        return NULL;
    db->nstmts++;
    apr_hash_set(db->stmts, apr_pstrdup(db->pool, sql), APR_HASH_KEY_STRING, n);
    return n;
}

PGresult *zx_db_exec_ex(zx_db *db, const char *sql, int nparams, const char *const *params,
                        const int *lengths, const int *formats, int result_format,
                        const char **err)
{
    const char *name = nparams > 0 ? prepared(db, sql, nparams) : NULL;
    PGresult *res = name ? PQexecPrepared(db->conn, name, nparams, params, lengths, formats,
                                          result_format)
                         : PQexecParams(db->conn, sql, nparams, NULL, params, lengths, formats,
                                        result_format);
    if (name && res && PQresultStatus(res) == PGRES_FATAL_ERROR) {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        /* 26000: the statement is gone (new session); 0A000: "cached plan must not change
         * result type" after a schema change.  Forget it and run the text once more. */
        if (state && (strcmp(state, "26000") == 0 || strcmp(state, "0A000") == 0) &&
            PQtransactionStatus(db->conn) == PQTRANS_IDLE) {
            PQclear(res);
            apr_hash_set(db->stmts, sql, APR_HASH_KEY_STRING, NULL);
            res = PQexecParams(db->conn, sql, nparams, NULL, params, lengths, formats,
                               result_format);
        }
    }
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    db->sqlstate[0] = '\0';
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return res;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (state)
        apr_cpystrn(db->sqlstate, state, sizeof db->sqlstate);
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    *err = apr_psprintf(db->msg_pool, "%s%s%s", state ? state : "", state ? ": " : "",
                        msg ? msg : PQerrorMessage(db->conn));
    PQclear(res);
    return NULL;
}

int zx_db_run(zx_db *db, const char *sql, int nparams, const char *const *params,
              const char **err)
{
    PGresult *res = zx_db_exec(db, sql, nparams, params, err);
    if (!res)
        return -1;
    PQclear(res);
    return 0;
}

long zx_db_affected(zx_db *db, const char *sql, int nparams, const char *const *params,
                    const char **err)
{
    PGresult *res = zx_db_exec(db, sql, nparams, params, err);
    if (!res)
        return -1;
    long n = atol(PQcmdTuples(res));
    PQclear(res);
    return n;
}

int zx_db_tx_begin(zx_db *db, int *own, const char **err)
{
    *own = PQtransactionStatus(db->conn) == PQTRANS_IDLE;
    return *own ? zx_db_run(db, "BEGIN", 0, NULL, err) : 0;
}

int zx_db_tx_end(zx_db *db, int own, int rc, const char **err)
{
    const char *e2;
    if (!own)
        return rc;
    if (rc < 0) {
        zx_db_run(db, "ROLLBACK", 0, NULL, &e2);
        return rc;
    }
    if (zx_db_run(db, "COMMIT", 0, NULL, err) < 0) {
        zx_db_run(db, "ROLLBACK", 0, NULL, &e2);
        return -1;
    }
    return 0;
}
