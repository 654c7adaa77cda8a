/* zxsyncprobe - run one ActiveSync request through the real pipeline (zx_handle) on a database
 * connection of its own, inside one transaction, and report how many rows it read or wrote in
 * the tables that grow with a mailbox (items, messages, message_attachments), from
 * pg_stat_xact_user_tables.  The end-to-end tests use it to check that a Sync round trip reads
 * a bounded number of rows per item it returns, whatever the size of the folder.  It plans
 * as for a large mailbox (seq scans, bitmap scans and sorts discouraged in its transaction).
 *
 *   zxsyncprobe CONNINFO ACCOUNT_ID ACCOUNT_NAME DEVICEID VERSION CMD < request.wbxml
 *
 * Prints "rows N" and "status S", then the response body as XML (or nothing).  The account is
 * taken as authenticated (the probe does not check passwords). */
#include <zxsync/server.h>
#include <zxsync/wbxml.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *g_account_id, *g_account_name;

static zx_auth_result probe_auth(const zx_server *srv, zx_request *req, const char **err)
{
    (void)srv;
    (void)err;
    req->account.id = g_account_id;
    req->account.name = g_account_name;
    req->authenticated = 1;
    return ZX_AUTH_OK;
}

/* per table, on stderr, when ZXSYNCPROBE_DETAIL is set */
static void detail(zx_db *db)
{
    const char *err = NULL;
    PGresult *res = zx_db_exec(db, "SELECT relname, seq_scan, seq_tup_read, idx_scan, "
                               "idx_tup_fetch, n_tup_ins, n_tup_upd, n_tup_del FROM "
                               "pg_stat_xact_user_tables WHERE seq_scan + coalesce(idx_scan, 0) + "
                               "n_tup_ins + n_tup_upd + n_tup_del > 0 ORDER BY relname", 0, NULL,
                               &err);
    if (!res)
        return;
    for (int r = 0; r < PQntuples(res); r++) {
        fprintf(stderr, "%s:", PQgetvalue(res, r, 0));
        for (int c = 1; c < PQnfields(res); c++)
            fprintf(stderr, " %s=%s", PQfname(res, c), PQgetvalue(res, r, c));
        fprintf(stderr, "\n");
    }
    PQclear(res);
}

static long long rows_touched(zx_db *db)
{
    const char *err = NULL;
    PGresult *res = zx_db_exec(db,
        "SELECT coalesce(sum(seq_tup_read + coalesce(idx_tup_fetch, 0) + n_tup_ins + n_tup_upd + "
        "n_tup_del), 0) FROM pg_stat_xact_user_tables WHERE relname IN ('items', 'messages', "
        "'message_attachments')", 0, NULL, &err);
    if (!res) {
        fprintf(stderr, "zxsyncprobe: %s\n", err);
        exit(1);
    }
    long long n = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    return n;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: zxsyncprobe CONNINFO ACCOUNT_ID ACCOUNT_NAME DEVICEID VERSION CMD "
                "< request.wbxml\n");
        return 2;
    }
    apr_initialize();
    apr_pool_t *p;
    apr_pool_create(&p, NULL);
    g_account_id = argv[2];
    g_account_name = argv[3];
    const char *err = NULL;
    zx_db *db = zx_db_connect(p, argv[1], &err);
    if (!db) {
        fprintf(stderr, "zxsyncprobe: %s\n", err);
        return 1;
    }
    /* the request body */
    size_t cap = 65536, len = 0, r;
    unsigned char *body = malloc(cap);
    while ((r = fread(body + len, 1, cap - len, stdin)) > 0) {
        len += r;
        if (len == cap)
            body = realloc(body, cap *= 2);
    }
    zx_server srv;
    memset(&srv, 0, sizeof srv);
    zx_server_settings_default(&srv.settings);
    srv.authenticate = probe_auth;
    zx_request req;
    zx_response resp;
    zx_request_init(&req, p);
    zx_response_init(&resp, p);
    const char *why = NULL;
    if (zx_request_parse_query(&req, apr_psprintf(p, "Cmd=%s&User=%s&DeviceId=%s&DeviceType=Probe",
                                                  argv[6], argv[3], argv[4]), &why) < 0 ||
        zx_request_set_header(&req, "MS-ASProtocolVersion", argv[5], &why) < 0 ||
        zx_request_set_header(&req, "Content-Type", "application/vnd.ms-sync.wbxml", &why) < 0 ||
        zx_request_set_header(&req, "Authorization", "Basic cHJvYmU6cHJvYmU=", &why) < 0) {
        fprintf(stderr, "zxsyncprobe: %s\n", why);
        return 1;
    }
    req.method = ZX_METHOD_POST;
    req.body = body;
    req.body_len = len;
    req.db = db;
    /* Plan as for a large mailbox: a test folder of a few thousand items is small enough for
     * PostgreSQL to prefer reading it whole and sorting it, which it does not do for a real
     * one.  (These settings only make such plans expensive: where no index serves a query,
     * PostgreSQL still reads the table, and the count shows it.) */
    if (zx_db_run(db, "BEGIN", 0, NULL, &err) < 0 ||
        zx_db_run(db, "SET LOCAL enable_seqscan = off", 0, NULL, &err) < 0 ||
        zx_db_run(db, "SET LOCAL enable_bitmapscan = off", 0, NULL, &err) < 0 ||
        zx_db_run(db, "SET LOCAL enable_sort = off", 0, NULL, &err) < 0) {
        fprintf(stderr, "zxsyncprobe: %s\n", err);
        return 1;
    }
    long long before = rows_touched(db);
    zx_handle(&srv, &req, &resp);
    long long rows = rows_touched(db) - before;
    if (getenv("ZXSYNCPROBE_DETAIL"))
        detail(db);
    if (zx_db_run(db, "COMMIT", 0, NULL, &err) < 0) {
        fprintf(stderr, "zxsyncprobe: %s\n", err);
        return 1;
    }
    printf("rows %lld\nstatus %d\n", rows, resp.status);
    if (resp.body && resp.body_len) {
        zx_wb_node *doc = NULL;
        if (zx_wbxml_decode(p, resp.body, resp.body_len, NULL, &doc, NULL) == ZX_WBXML_OK)
            printf("%s\n", zx_wbxml_to_xml(p, doc, 0));
    }
    free(body);
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
