/* zxmobile - libpq connection helpers */
#include <zxsync/db.h>
#include <zxsync/log.h>
#include <zxsync/text.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <poll.h>
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
    apr_pool_t *stmt_pool;  /* the statement cache (cleared when the session is replaced) */
    apr_hash_t *stmts;      /* SQL text -> statement name */
    unsigned nstmts;
    int reconnect;          /* a statement that met a dead session may run on a new one */
    char sqlstate[6];
};

/* A libpq message on one line, for the log ("" rather than NULL). */
static const char *db_message(apr_pool_t *p, const char *s)
{
    const char *l = zx_text_one_line(p, s);
    return l ? l : "";
}

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

/* Whether a conninfo (keyword=value or URI) sets "options" itself. */
static int sets_options(const char *conninfo)
{
    PQconninfoOption *opts = conninfo ? PQconninfoParse(conninfo, NULL) : NULL;
    int found = 0;
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, "options") == 0 && o->val && *o->val)
            found = 1;
    PQconninfoFree(opts);
    return found;
}

zx_db *zx_db_connect(apr_pool_t *p, const char *conninfo, const char **err)
{
    zx_db *db = apr_pcalloc(p, sizeof *db);
    db->pool = p;
    db->msg_pool = p;
    apr_pool_create(&db->stmt_pool, p);
    db->stmts = apr_hash_make(db->stmt_pool);
    /* Every session without JIT (its startup options, after the conninfo's own): short
     * statements planned often, and PostgreSQL compiles a plan whose estimated cost passes
     * jit_above_cost - a search whose LIMIT stops an expensive-looking walk early spent
     * ~380 ms of 400 compiling (bench/bench_search.py).  A conninfo that sets options of
     * its own is used as it is (add "-c jit=off" there). */
    const char *const keys[] = {"dbname", "options", NULL};
    const char *const vals[] = {conninfo ? conninfo : "", "-c jit=off", NULL};
    db->conn = sets_options(conninfo) ? PQconnectdb(conninfo)
                                      : PQconnectdbParams(keys, vals, 1);
    apr_pool_cleanup_register(p, db, db_cleanup, apr_pool_cleanup_null);
    if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
        const char *msg = db->conn ? PQerrorMessage(db->conn) : "out of memory";
        *err = db_message(p, apr_psprintf(p, "cannot connect to the database: %s", msg));
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

void zx_db_set_reconnect(zx_db *db, int on)
{
    db->reconnect = on;
}

/* A new session in place of a lost one: the server-side prepared statements of the old
 * session are gone with it. */
static int reset(zx_db *db)
{
    PQreset(db->conn);
    apr_pool_clear(db->stmt_pool);
    db->stmts = apr_hash_make(db->stmt_pool);
    db->nstmts = 0;
    return PQstatus(db->conn) == CONNECTION_OK ? 0 : -1;
}

static int reconnect(zx_db *db, const char **err)
{
    if (reset(db) == 0)
        return 0;
    *err = db_message(db->msg_pool, apr_psprintf(db->msg_pool, "cannot connect to the "
                                                  "database: %s", PQerrorMessage(db->conn)));
    return -1;
}

int zx_db_alive(zx_db *db)
{
    if (!db->conn || PQstatus(db->conn) != CONNECTION_OK)
        return 0;
    /* An idle session gets nothing from the server but what it says before it goes (the
     * FATAL of a shutdown, then end of file).  Read whatever is there: a few rounds, as the
     * message and the end of file may come apart. */
    for (int i = 0; i < 4; i++) {
        struct pollfd pfd = {PQsocket(db->conn), POLLIN, 0};
        if (poll(&pfd, 1, 0) <= 0)
            break;
        if (!PQconsumeInput(db->conn))
            return 0;
        PQisBusy(db->conn);     /* parses it: a FATAL sent to an idle session is a notice */
        if (PQstatus(db->conn) != CONNECTION_OK)
            return 0;
    }
    return PQstatus(db->conn) == CONNECTION_OK;
}

/* The SQLSTATEs of a session that is gone: class 08 (connection exception), 57P01
 * admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now. */
static int sqlstate_is_disconnect(const char *state)
{
    return state && (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
                     strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0);
}

/* Whether a failed statement failed because the session is gone, not because of the
 * statement. */
static int session_lost(zx_db *db, const PGresult *res)
{
    if (PQstatus(db->conn) == CONNECTION_BAD)
        return 1;
    return res && sqlstate_is_disconnect(PQresultErrorField(res, PG_DIAG_SQLSTATE));
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
    char *n = apr_psprintf(db->stmt_pool, "zx%u", db->nstmts + 1);
    PGresult *r = PQprepare(db->conn, n, sql, nparams, NULL);
    int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok)
        return NULL;
    db->nstmts++;
    apr_hash_set(db->stmts, apr_pstrdup(db->stmt_pool, sql), APR_HASH_KEY_STRING, n);
    return n;
}

/* Run sql once on the current session (prepared when it can be). */
static PGresult *exec_once(zx_db *db, const char *sql, int nparams, const char *const *params,
                           const int *lengths, const int *formats, int result_format)
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
    return res;
}

static int succeeded(const PGresult *res)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* "SQLSTATE: message" of a failed statement (res may be NULL). */
static const char *error_text(zx_db *db, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    return db_message(db->msg_pool, apr_psprintf(db->msg_pool, "%s%s%s", state ? state : "",
                                                 state ? ": " : "",
                                                 msg ? msg : PQerrorMessage(db->conn)));
}

PGresult *zx_db_exec_ex(zx_db *db, const char *sql, int nparams, const char *const *params,
                        const int *lengths, const int *formats, int result_format,
                        const char **err)
{
    PGTransactionStatusType before = PQtransactionStatus(db->conn);
    PGresult *res = exec_once(db, sql, nparams, params, lengths, formats, result_format);
    /* The session died under a statement run outside a transaction (none was open before
     * it).  A restart or a terminated session ends it between statements or rolls the
     * running one back, so it runs once more on a new session.  (Only a server gone between
     * committing it and answering would have it applied twice: a window of microseconds,
     * against the certain failure of every request that meets a closed session.)  Inside a
     * transaction nothing runs again: the transaction is lost as a whole and the caller's
     * error path runs; the connection stays bad for the rest of the request. */
    if (!succeeded(res) && db->reconnect && before == PQTRANS_IDLE && session_lost(db, res)) {
        const char *lost = error_text(db, res);
        PQclear(res);
        res = NULL;
        const char *why;
        if (reconnect(db, &why) < 0) {
            db->sqlstate[0] = '\0';
            *err = apr_psprintf(db->msg_pool, "%s (the session was lost: %s)", why, lost);
            return NULL;
        }
        zx_log(NULL, ZX_LOG_WARNING, ZXLOGNO(00103) "database session lost (%s): the "
               "statement runs again on a new one", lost);
        res = exec_once(db, sql, nparams, params, lengths, formats, result_format);
    }
    db->sqlstate[0] = '\0';
    if (succeeded(res))
        return res;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (state)
        apr_cpystrn(db->sqlstate, state, sizeof db->sqlstate);
    *err = error_text(db, res);
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
