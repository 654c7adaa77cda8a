/* zxmobile - libpq connection helpers */
#include <zxsync/db.h>
#include <zxsync/log.h>

#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

struct zx_db {
    PGconn *conn;
    apr_pool_t *pool;       /* owns the connection */
    apr_pool_t *msg_pool;   /* error messages are allocated here */
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

PGresult *zx_db_exec_ex(zx_db *db, const char *sql, int nparams, const char *const *params,
                        const int *lengths, const int *formats, int result_format,
                        const char **err)
{
    PGresult *res = PQexecParams(db->conn, sql, nparams, NULL, params, lengths, formats,
                                 result_format);
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
