/* zxmobile - the search of the PostgreSQL store (zxsync/store.h zx_store_search; the index:
 * sql/024_search.sql, the words: store/fts.c).
 *
 * Two statements per search (see CANDIDATES below); the second: the folders (with their
 * subfolders for a deep search) in a recursive CTE, the items of the account in them that are live and match, newest first, with
 * the number of matches (up to ZX_SEARCH_MAX_TOTAL).  Everything is a parameter; every table
 * is read with account_id = the store's account, the index rows (message_search) included,
 * so that no condition a client sends can reach another account's mail.
 *
 * Backfill: a mailbox whose mail was stored before migration 024 (mailboxes.search_backfill)
 * gets its index rows when it is first searched: 500 messages per statement, each statement its
 * own short transaction (only the new index rows are written; nothing is locked but them), for
 * at most BACKFILL_BUDGET per search; the flag is cleared when none is left. */
#include "pg_int.h"
#include "fts.h"

#include <zxsync/buf.h>

#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

#define ZX_STR_(x) #x
#define ZX_STR(x) ZX_STR_(x)

#define BACKFILL_BATCH 500
#define CANDIDATES 10000
#define BACKFILL_BUDGET apr_time_from_msec(2000)

static int backfill_batch(zx_store *st, const char *after, const char **last, int *n,
                          const char **err)
{
    apr_pool_t *p = st->pool;
    const char *params[3] = {st->account_id, after, apr_itoa(p, BACKFILL_BATCH)};
    PGresult *res = zx_db_exec(st->db,
        "SELECT m.id, i.subject, i.from_addr, i.to_addr, i.cc_addr, m.text_plain "
        "FROM messages m LEFT JOIN LATERAL (SELECT subject, from_addr, to_addr, cc_addr "
        "  FROM items WHERE message_id = m.id AND account_id = $1::bigint LIMIT 1) i ON true "
        "WHERE m.account_id = $1::bigint AND m.id > $2::bigint AND NOT EXISTS "
        "  (SELECT 1 FROM message_search s WHERE s.message_id = m.id) "
        "ORDER BY m.id LIMIT $3::integer", 3, params, err);
    if (!res)
        return ZX_STORE_ERROR;
    *n = PQntuples(res);
    apr_array_header_t *ids = apr_array_make(p, *n + 1, sizeof(const char *));
    apr_array_header_t *vecs = apr_array_make(p, *n + 1, sizeof(const char *));
    for (int r = 0; r < *n; r++) {
        APR_ARRAY_PUSH(ids, const char *) = zx_pg_val(p, res, r, 0);
        APR_ARRAY_PUSH(vecs, const char *) =
            zx_fts_vector(p, zx_pg_val(p, res, r, 1), zx_pg_val(p, res, r, 2),
                          zx_pg_val(p, res, r, 3), zx_pg_val(p, res, r, 4),
                          zx_pg_val(p, res, r, 5));
        *last = zx_pg_val(p, res, r, 0);
    }
    PQclear(res);
    if (*n == 0)
        return ZX_STORE_OK;
    const char *ins[3] = {zx_pg_text_array_literal(p, ids), st->account_id,
                          zx_pg_text_array_literal(p, vecs)};
    if (zx_db_run(st->db, "INSERT INTO message_search (message_id, account_id, vec) "
                  "SELECT t.id, $2::bigint, t.v::tsvector FROM unnest($1::bigint[], $3::text[]) "
                  "AS t(id, v) ON CONFLICT DO NOTHING", 3, ins, err) < 0)
        return ZX_STORE_ERROR;
    return ZX_STORE_OK;
}

/* Index what the mailbox stored before migration 024, within the budget.  (JIT is off for
 * every session of the library: core/db.c.) */
static int backfill(zx_store *st, const char **err)
{
    const char *params[1] = {st->account_id};
    PGresult *res = zx_db_exec(st->db, "SELECT search_backfill FROM mailboxes WHERE "
                               "account_id = $1::bigint", 1, params, err);
    if (!res)
        return ZX_STORE_ERROR;
    int pending = PQntuples(res) > 0 && zx_pg_bval(res, 0, 0);
    PQclear(res);
    if (!pending)
        return ZX_STORE_OK;
    apr_time_t end = apr_time_now() + BACKFILL_BUDGET;
    const char *last = "0";
    for (;;) {
        int n = 0;
        if (backfill_batch(st, last, &last, &n, err) != ZX_STORE_OK)
            return ZX_STORE_ERROR;
        if (n < BACKFILL_BATCH)
            break;
        if (apr_time_now() > end)
            return ZX_STORE_OK;
    }
    return zx_db_run(st->db, "UPDATE mailboxes SET search_backfill = false "
                     "WHERE account_id = $1::bigint", 1, params, err) < 0 ? ZX_STORE_ERROR
                                                                          : ZX_STORE_OK;
}

/* A statement built from the conditions the query has: each is a clause of its own with its
 * own parameter (the statements are prepared and may run with a generic plan, which an
 * "$n IS NULL OR ..." would spoil); only the clauses vary, every value is a parameter. */
typedef struct {
    zx_buf sql;
    const char *params[12];
    int n;
} stmt;

static const char *param(apr_pool_t *p, stmt *s, const char *v)
{
    s->params[s->n++] = v;
    return apr_psprintf(p, "$%d", s->n);
}

static const char *hex16(apr_pool_t *p, const unsigned char *b)
{
    char *h = apr_palloc(p, 33);
    for (int i = 0; i < 16; i++)
        apr_snprintf(h + 2 * i, 3, "%02x", b[i]);
    return h;
}

/* "WITH [RECURSIVE] fl AS (...), hits AS (...) " - the folders, then the first
 * ZX_SEARCH_MAX_TOTAL matches newest first (the total is counted up to it) */
static void hits_sql(apr_pool_t *p, stmt *s, const zx_search_query *q, const char *folders,
                     const char *one_folder, const char *tsq, const char *cands)
{
    zx_buf *b = &s->sql;
    const char *acct = param(p, s, NULL);     /* $1, set by the caller: the account */
    if (one_folder)
        zx_buf_puts(b, "WITH ");
    else {
        zx_buf_printf(b, "WITH RECURSIVE fl(id) AS (SELECT id FROM folders WHERE account_id = "
                      "%s::bigint AND NOT deleted AND item_class = 'Email'", acct);
        if (folders)
            zx_buf_printf(b, " AND id = ANY(%s::bigint[])", param(p, s, folders));
        if (folders && q->deep)
            zx_buf_printf(b, " UNION SELECT f.id FROM folders f JOIN fl ON f.parent_id = fl.id "
                          "WHERE f.account_id = %s::bigint AND NOT f.deleted "
                          "AND f.item_class = 'Email'", acct);
        zx_buf_puts(b, "), ");
    }
    zx_buf_printf(b, "hits AS MATERIALIZED (SELECT i.id, i.received FROM items i "
                  "WHERE i.account_id = %s::bigint AND NOT i.deleted", acct);
    if (one_folder)
        zx_buf_printf(b, " AND i.folder_id = %s::bigint", param(p, s, one_folder));
    else
        zx_buf_puts(b, " AND i.folder_id IN (SELECT id FROM fl)");
    /* the walk: a correlated subquery, which the planner cannot turn into a join of every
     * match (that sorts them all): it checks the items in index order and stops at the
     * LIMIT */
    if (tsq)
        zx_buf_printf(b, " AND (SELECT m.vec @@ %s::tsquery FROM message_search m WHERE "
                      "m.message_id = i.message_id AND m.account_id = %s::bigint)",
                      param(p, s, tsq), acct);
    if (cands)
        zx_buf_printf(b, " AND i.message_id IN (SELECT unnest(%s::bigint[]))",
                      param(p, s, cands));
    if (q->after)
        zx_buf_printf(b, " AND i.received > " TS("%s"), param(p, s,
                      zx_pg_time_param(p, q->after)));
    if (q->before)
        zx_buf_printf(b, " AND i.received < " TS("%s"), param(p, s,
                      zx_pg_time_param(p, q->before)));
    if (q->conversation_id)
        zx_buf_printf(b, " AND i.conversation_id = decode(%s, 'hex')",
                      param(p, s, hex16(p, q->conversation_id)));
    zx_buf_puts(b, " ORDER BY i.received DESC, i.id DESC LIMIT "
                ZX_STR(ZX_SEARCH_MAX_TOTAL) ") ");
}

static int pg_search_mail(zx_store *st, const zx_search_query *q, apr_array_header_t **out,
                          long long *total, const char **err)
{
    apr_pool_t *p = st->pool;
    *out = apr_array_make(p, 8, sizeof(zx_item *));
    *total = 0;
    const char *tsq = NULL;
    if (q->text) {
        int words = 0;
        tsq = zx_fts_query(p, q->text, &words);
        if (words > ZX_SEARCH_MAX_WORDS)
            return ZX_STORE_INVALID;
    }
    const char *folders = NULL, *one_folder = NULL;
    if (q->folders) {
        zx_buf b;
        zx_buf_init(&b, p, 64);
        zx_buf_putc(&b, '{');
        int n = 0;
        for (int i = 0; i < q->folders->nelts; i++) {
            const char *id = APR_ARRAY_IDX(q->folders, i, const char *);
            if (!zx_pg_valid_id(id))
                continue;       /* no such folder: it matches nothing */
            if (n++)
                zx_buf_putc(&b, ',');
            zx_buf_puts(&b, id);
            one_folder = id;
        }
        zx_buf_putc(&b, '}');
        zx_buf_putc(&b, '\0');
        if (n == 0)
            return ZX_STORE_OK;
        folders = b.data;
        if (n > 1 || q->deep)
            one_folder = NULL;
    }
    if (backfill(st, err) != ZX_STORE_OK)
        return ZX_STORE_ERROR;
    /* Two plans: a word in few messages is best found from the GIN index (its candidates,
     * then their items); a word in many is best found walking the items newest first and
     * checking each until ZX_SEARCH_MAX_TOTAL match, which stops early.  The planner cannot
     * tell them apart (no statistics for prefixes), so the index is asked first, for at most
     * CANDIDATES messages. */
    const char *cands = NULL;
    if (tsq) {
        const char *cp[3] = {st->account_id, tsq, apr_itoa(p, CANDIDATES + 1)};
        PGresult *cr = zx_db_exec(st->db,
            "SELECT count(*), CASE WHEN count(*) < $3::integer THEN array_agg(message_id) END "
            "FROM (SELECT message_id FROM message_search "
            "WHERE account_id = $1::bigint AND vec @@ $2::tsquery LIMIT $3::integer) c",
            3, cp, err);
        if (!cr)
            return ZX_STORE_ERROR;
        long long nc = zx_pg_ival(cr, 0, 0);
        if (nc > 0 && nc <= CANDIDATES) {
            cands = zx_pg_val(p, cr, 0, 1);
            tsq = NULL;         /* the candidates are the matches */
        }
        PQclear(cr);
        if (nc == 0)
            return ZX_STORE_OK;
    }
    stmt s;
    memset(&s, 0, sizeof s);
    zx_buf_init(&s.sql, p, 1024);
    hits_sql(p, &s, q, folders, one_folder, tsq, cands);
    s.params[0] = st->account_id;
    int nhits = s.n;
    zx_buf_printf(&s.sql, "SELECT " ITEM_COLS("i.") ", (SELECT count(*) FROM hits) "
                  "FROM (SELECT id FROM hits ORDER BY received DESC, id DESC "
                  "OFFSET %s::integer LIMIT %s::integer) page JOIN items i ON i.id = page.id "
                  "ORDER BY i.received DESC, i.id DESC",
                  param(p, &s, apr_itoa(p, q->offset > 0 ? q->offset : 0)),
                  param(p, &s, apr_itoa(p, q->limit > 0 ? q->limit : 0)));
    zx_buf_putc(&s.sql, '\0');
    PGresult *res = zx_db_exec(st->db, s.sql.data, s.n, s.params, err);
    if (!res)
        return ZX_STORE_ERROR;
    int rows = PQntuples(res);
    for (int r = 0; r < rows; r++)
        APR_ARRAY_PUSH(*out, zx_item *) = zx_pg_row_item(p, res, r);
    if (rows > 0)
        *total = zx_pg_ival(res, 0, PQnfields(res) - 1);
    PQclear(res);
    if (rows == 0 && q->offset > 0) {
        /* a page past the end: the count alone */
        stmt c;
        memset(&c, 0, sizeof c);
        zx_buf_init(&c.sql, p, 1024);
        hits_sql(p, &c, q, folders, one_folder, tsq, cands);
        c.params[0] = st->account_id;
        zx_buf_puts(&c.sql, "SELECT count(*) FROM hits");
        zx_buf_putc(&c.sql, '\0');
        res = zx_db_exec(st->db, c.sql.data, nhits, c.params, err);
        if (!res)
            return ZX_STORE_ERROR;
        *total = zx_pg_ival(res, 0, 0);
        PQclear(res);
    }
    return ZX_STORE_OK;
}

const zx_store_search zx_pg_search = {
    pg_search_mail,
};
