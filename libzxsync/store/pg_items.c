/* zxmobile - the PostgreSQL store: the items (zx_store_items): the change feed Sync walks,
 * reading items and changing them. */
#include "pg_int.h"

#include <zxsync/buf.h>
#include <zxsync/log.h>
#include <zxsync/mime.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <ctype.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading items -------------------------------------------------------------------------- */

static int pg_changes(zx_store *st, const char *folder_id, long long since,
                      apr_time_t received_after, int limit, apr_array_header_t **out, int *more,
                      const char **err)
{
    *out = NULL;
    *more = 0;
    if (!zx_pg_valid_id(folder_id))
        return ZX_STORE_NOT_FOUND;
    if (limit < 0)
        limit = 0;
    const char *params[5] = {folder_id, st->account_id, zx_pg_lltoa(st->pool, since),
                             apr_itoa(st->pool, limit + 1),
                             zx_pg_time_param(st->pool, received_after)};
    /* Two index scans merged by key: the items created after since by creation modseq
     * (items_folder_created_idx) and the older items changed after it by modseq
     * (items_folder_modseq_key).  The second stops at the last key of the first when that one
     * is full, so the items created after since that it passes over are at most limit + 1. */
#define CH_COLS "SELECT " ITEM_COLS("i.")
#define CH_WHERE " FROM items i WHERE i.folder_id = $1::bigint AND i.account_id = $2::bigint AND " \
        "($5::bigint IS NULL OR i.deleted OR i.received >= " TS("$5") ")"
    PGresult *res = zx_db_exec(st->db,
        "WITH a AS (" CH_COLS ", i.created_modseq AS k" CH_WHERE " AND i.created_modseq > "
        "           $3::bigint ORDER BY i.created_modseq LIMIT $4::integer), "
        "b AS (" CH_COLS ", i.modseq AS k" CH_WHERE " AND i.modseq > $3::bigint AND "
        "      i.created_modseq <= $3::bigint AND i.modseq <= (SELECT CASE WHEN count(*) < "
        "      $4::integer THEN 9223372036854775807 ELSE max(k) END FROM a) "
        "      ORDER BY i.modseq LIMIT $4::integer) "
        "SELECT * FROM (SELECT * FROM a UNION ALL SELECT * FROM b) u ORDER BY k "
        "LIMIT $4::integer", 5, params, err);
#undef CH_COLS
#undef CH_WHERE
    if (!res)
        return ZX_STORE_ERROR;
    *more = PQntuples(res) > limit;
    *out = zx_pg_items_of(st->pool, res, limit);
    PQclear(res);
    return ZX_STORE_OK;
}

/* "{1,2,3}" -> the numbers */
static int bigint_array(const char *s, long long *out, int max)
{
    int n = 0;
    if (!s || *s++ != '{')
        return 0;
    while (*s && *s != '}' && n < max) {
        char *end;
        long long v = strtoll(s, &end, 10);
        if (end == s)
            break;
        out[n++] = v;
        s = *end == ',' ? end + 1 : end;
    }
    return n;
}

static int pg_enumerate(zx_store *st, const char *folder_id, const zx_sync_pos *pos,
                        apr_time_t received_after, int limit, apr_array_header_t **out,
                        apr_array_header_t **gone, const char **err)
{
    *out = NULL;
    *gone = NULL;
    if (!zx_pg_valid_id(folder_id))
        return ZX_STORE_NOT_FOUND;
    if (limit < 1)
        limit = 1;
    int cursor = pos->cursor_id && zx_pg_valid_id(pos->cursor_id);
    const char *params[7] = {folder_id, st->account_id, zx_pg_lltoa(st->pool, pos->modseq),
                             apr_itoa(st->pool, limit),
                             zx_pg_time_param(st->pool, received_after),
                             cursor ? apr_psprintf(st->pool, "%" APR_TIME_T_FMT,
                                                   pos->cursor_received) : NULL,
                             cursor ? pos->cursor_id : NULL};
    /* four texts of the listing so that each gets its own plan on the (folder_id, received
     * DESC, id DESC) index; then, in the same statement (one snapshot), the tombstones of the
     * items deleted since the enumeration began that lie in the stretch it now passes:
     * after the cursor and, when the listing is full, before its limit-1'th item (the new
     * cursor).  There are few: tombstones go once every device passed them. */
    const char *e;
#define ENUM_HEAD "WITH e AS (SELECT " ITEM_COLS("i.") ", i.received AS rcv FROM items i WHERE " \
        "i.folder_id = $1::bigint AND i.account_id = $2::bigint AND NOT i.deleted AND " \
        "i.created_modseq <= $3::bigint"
#define ENUM_TAIL " ORDER BY i.received DESC, i.id DESC LIMIT $4::integer)"
#define ENUM_AFTER " AND i.received >= " TS("$5")
#define ENUM_CURSOR " AND (i.received, i.id) < (" TS("$6") ", $7::bigint)"
    if (received_after > 0 && cursor)
        e = ENUM_HEAD ENUM_AFTER ENUM_CURSOR ENUM_TAIL;
    else if (received_after > 0)
        e = ENUM_HEAD ENUM_AFTER " AND $6::bigint IS NULL AND $7::bigint IS NULL" ENUM_TAIL;
    else if (cursor)
        e = ENUM_HEAD " AND $5::bigint IS NULL" ENUM_CURSOR ENUM_TAIL;
    else
        e = ENUM_HEAD " AND $5::bigint IS NULL AND $6::bigint IS NULL AND $7::bigint IS NULL"
            ENUM_TAIL;
#undef ENUM_HEAD
#undef ENUM_TAIL
#undef ENUM_AFTER
#undef ENUM_CURSOR
    const char *sql = apr_pstrcat(st->pool, e,
        ", edge AS (SELECT rcv, id FROM e ORDER BY rcv DESC, id DESC OFFSET $4::integer - 1 "
        "           LIMIT 1), "
        "last AS (SELECT rcv, id FROM e ORDER BY rcv DESC, id DESC "
        "         OFFSET greatest($4::integer - 2, 0) "
        "         LIMIT 1), "
        "g AS (SELECT array_agg(t.id) AS ids, array_agg(t.modseq) AS ms FROM items t "
        "      WHERE t.folder_id = $1::bigint AND t.account_id = $2::bigint AND t.deleted AND "
        "      t.modseq > $3::bigint AND t.created_modseq <= $3::bigint AND "
        "      ($6::bigint IS NULL OR (t.received, t.id) < (" TS("$6") ", $7::bigint)) AND "
        "      (NOT EXISTS (SELECT 1 FROM edge) OR "
        "       (t.received, t.id) > (SELECT rcv, id FROM last))) "
        "SELECT e.*, g.ids, g.ms FROM g LEFT JOIN e ON true ORDER BY e.rcv DESC, e.id DESC",
        NULL);
    PGresult *res = zx_db_exec(st->db, sql, 7, params, err);
    if (!res)
        return ZX_STORE_ERROR;
    int rows = PQntuples(res), nf = PQnfields(res);
    /* one row with no item when the listing is empty */
    int live = rows > 0 && !PQgetisnull(res, 0, 0) ? rows : 0;
    *out = zx_pg_items_of(st->pool, res, live);
    if (rows > 0 && !PQgetisnull(res, 0, nf - 2)) {
        const char *ids = PQgetvalue(res, 0, nf - 2), *ms = PQgetvalue(res, 0, nf - 1);
        int max = 1;
        for (const char *c = ids; *c; c++)
            max += *c == ',';
        long long *iv = apr_palloc(st->pool, sizeof(long long) * (apr_size_t)max * 2);
        int n = bigint_array(ids, iv, max);
        if (bigint_array(ms, iv + max, max) == n && n > 0) {
            *gone = apr_array_make(st->pool, n, sizeof(zx_sync_ahead));
            for (int i = 0; i < n; i++) {
                zx_sync_ahead *g = apr_array_push(*gone);
                g->id = iv[i];
                g->modseq = iv[max + i];
            }
        }
    }
    PQclear(res);
    return ZX_STORE_OK;
}

/* The ids (which 0) or the modseqs (which 1) of a position's ahead entries, as an array
 * literal. */
static const char *ahead_ids(apr_pool_t *p, const apr_array_header_t *ahead, int which)
{
    zx_buf b;
    zx_buf_init(&b, p, 64);
    zx_buf_putc(&b, '{');
    for (int i = 0; ahead && i < ahead->nelts; i++) {
        const zx_sync_ahead *a = &APR_ARRAY_IDX(ahead, i, zx_sync_ahead);
        zx_buf_puts(&b, apr_psprintf(p, "%s%" APR_INT64_T_FMT, i ? "," : "",
                                     (apr_int64_t)(which ? a->modseq : a->id)));
    }
    zx_buf_putc(&b, '}');
    return b.data;
}

static int pg_estimate(zx_store *st, const char *folder_id, const zx_sync_pos *pos,
                       apr_time_t received_after, int skip_complete, const char *device,
                       long long *count, const char **err)
{
    *count = 0;
    if (!zx_pg_valid_id(folder_id))
        return ZX_STORE_NOT_FOUND;
    int cursor = pos->enumerating && pos->cursor_id && zx_pg_valid_id(pos->cursor_id);
    const char *params[7] = {folder_id, st->account_id, zx_pg_lltoa(st->pool, pos->modseq), device,
                             zx_pg_time_param(st->pool, received_after),
                             cursor ? apr_psprintf(st->pool, "%" APR_TIME_T_FMT,
                                                   pos->cursor_received) : NULL,
                             cursor ? pos->cursor_id : NULL};
    /* changes after modseq as Sync classifies them (see eas/syncstate.c), plus what is left of
     * the enumeration; neither counts the items skipped for the device (loop detection) */
    PGresult *res = zx_db_exec(st->db,
        "SELECT (SELECT count(*) FROM items i WHERE i.folder_id = $1::bigint AND "
        "  i.account_id = $2::bigint AND i.modseq > $3::bigint AND "
        "  CASE WHEN i.created_modseq <= $3::bigint OR i.created_by = $4::bigint "
        "       THEN i.changed_by IS DISTINCT FROM $4::bigint AND (i.deleted OR $5::bigint IS NULL "
        "            OR i.received >= " TS("$5") ") AND (i.id, i.modseq) NOT IN "
        "            (SELECT a.id, a.m FROM unnest($9::bigint[], $10::bigint[]) AS a(id, m)) "
        "       ELSE NOT i.deleted AND ($5::bigint IS NULL OR i.received >= " TS("$5") ") "
        "            AND NOT ($11::boolean AND i.flag_status = 1) END "
        "  AND NOT EXISTS (SELECT 1 FROM sync_skipped k WHERE k.device_id = $4::bigint "
        "                   AND k.folder_id = $1::bigint AND k.item_id = i.id)), "
        " CASE WHEN $6::bigint IS NULL AND NOT $8::boolean THEN 0 ELSE "
        " (SELECT count(*) FROM items i WHERE i.folder_id = $1::bigint AND "
        "  i.account_id = $2::bigint AND NOT i.deleted AND i.created_modseq <= $3::bigint AND "
        "  ($5::bigint IS NULL OR i.received >= " TS("$5") ") AND ($6::bigint IS NULL OR "
        "  (i.received, i.id) < (" TS("$6") ", $7::bigint)) AND "
        "  NOT ($11::boolean AND i.flag_status = 1) AND NOT EXISTS (SELECT 1 FROM sync_skipped k "
        "  WHERE k.device_id = $4::bigint AND k.folder_id = $1::bigint AND k.item_id = i.id)) END",
        11, (const char *const[]){params[0], params[1], params[2], params[3], params[4],
                                  params[5], params[6], pos->enumerating ? "t" : "f",
                                  ahead_ids(st->pool, pos->ahead, 0),
                                  ahead_ids(st->pool, pos->ahead, 1),
                                  skip_complete ? "t" : "f"}, err);
    if (!res)
        return ZX_STORE_ERROR;
    *count = zx_pg_ival(res, 0, 0) + zx_pg_ival(res, 0, 1);
    PQclear(res);
    return ZX_STORE_OK;
}

static int pg_item_get(zx_store *st, const char *id, zx_item **out, const char **err)
{
    *out = NULL;
    if (!zx_pg_valid_id(id))
        return ZX_STORE_NOT_FOUND;
    const char *params[2] = {id, st->account_id};
    PGresult *res = zx_db_exec(st->db, "SELECT " ITEM_COLS("i.") " FROM items i WHERE "
                               "i.id = $1::bigint AND i.account_id = $2::bigint AND NOT i.deleted",
                               2, params, err);
    if (!res)
        return ZX_STORE_ERROR;
    if (PQntuples(res) == 1)
        *out = zx_pg_row_item(st->pool, res, 0);
    PQclear(res);
    return *out ? ZX_STORE_OK : ZX_STORE_NOT_FOUND;
}

static int pg_item_tombstone(zx_store *st, const char *id, zx_item **out, const char **err)
{
    *out = NULL;
    if (!zx_pg_valid_id(id))
        return ZX_STORE_NOT_FOUND;
    const char *params[2] = {id, st->account_id};
    PGresult *res = zx_db_exec(st->db, "SELECT " ITEM_COLS("i.") ", i.moved_to FROM items i "
                               "WHERE i.id = $1::bigint AND i.account_id = $2::bigint AND "
                               "i.deleted", 2, params, err);
    if (!res)
        return ZX_STORE_ERROR;
    if (PQntuples(res) == 1) {
        *out = zx_pg_row_item(st->pool, res, 0);
        (*out)->moved_to = zx_pg_val(st->pool, res, 0, PQnfields(res) - 1);
    }
    PQclear(res);
    return *out ? ZX_STORE_OK : ZX_STORE_NOT_FOUND;
}

static int pg_item_mime(zx_store *st, const char *id, const char **data, apr_size_t *len,
                        const char **err)
{
    *data = NULL;
    *len = 0;
    if (!zx_pg_valid_id(id))
        return ZX_STORE_NOT_FOUND;
    const char *params[2] = {id, st->account_id};
    PGresult *res = zx_db_exec_ex(st->db, "SELECT m.mime FROM items i JOIN messages m ON "
                                  "m.id = i.message_id WHERE i.id = $1::bigint AND "
                                  "i.account_id = $2::bigint AND NOT i.deleted",
                                  2, params, NULL, NULL, 1, err);
    if (!res)
        return ZX_STORE_ERROR;
    int found = PQntuples(res) == 1;
    if (found) {
        *len = (apr_size_t)PQgetlength(res, 0, 0);
        *data = apr_pstrmemdup(st->pool, PQgetvalue(res, 0, 0), *len);
    }
    PQclear(res);
    return found ? ZX_STORE_OK : ZX_STORE_NOT_FOUND;
}

static int pg_item_contents(zx_store *st, apr_array_header_t *items, const zx_content_want *want,
                            const char **err)
{
    if (!items || items->nelts == 0)
        return ZX_STORE_OK;
    /* contacts, tasks and notes have their own tables; the messages are the rest */
    apr_array_header_t *rest;
    if (zx_pg_pim_contents(st, items, &rest, err) != ZX_STORE_OK)
        return ZX_STORE_ERROR;
    if (!rest)
        return ZX_STORE_OK;
    items = rest;
    apr_pool_t *p = st->pool;
    zx_buf ids, att_ids;
    zx_buf_init(&ids, p, 16 * (apr_size_t)items->nelts);
    zx_buf_init(&att_ids, p, 64);
    zx_buf_putc(&ids, '{');
    zx_buf_putc(&att_ids, '{');
    int natt = 0;
    for (int i = 0; i < items->nelts; i++) {
        zx_item *it = APR_ARRAY_IDX(items, i, zx_item *);
        if (i)
            zx_buf_putc(&ids, ',');
        zx_buf_puts(&ids, it->id);
        if (it->has_attachments) {
            if (natt++)
                zx_buf_putc(&att_ids, ',');
            zx_buf_puts(&att_ids, it->id);
        }
        it->content = NULL;
    }
    zx_buf_putc(&ids, '}');
    zx_buf_putc(&att_ids, '}');
    /* how much of each form: NULL parameter = all of it */
    /* (counts beyond 1 GB mean everything) */
    const char *np = want->plain < 0 || want->plain > 1000000000 ? NULL
                                                                 : zx_pg_lltoa(p, want->plain);
    const char *nh = want->html < 0 || want->html > 1000000000 ? NULL : zx_pg_lltoa(p, want->html);
    const char *nm = want->mime < 0 || want->mime > 1000000000 ? NULL : zx_pg_lltoa(p, want->mime);
    const char *params[5] = {ids.data, st->account_id, np, nh, nm};
    PGresult *res = zx_db_exec_ex(st->db,
        /* LATERAL: one index lookup of each item and of its message, whatever the planner
         * thinks of the array's size */
        "SELECT x.* FROM unnest($1::bigint[]) AS u(id) CROSS JOIN LATERAL ("
        "SELECT i.id, CASE WHEN $3::bigint IS NULL THEN m.text_plain "
        "                  ELSE left(m.text_plain, $3::integer) END, octet_length(m.text_plain), "
        "       CASE WHEN $4::bigint IS NULL THEN m.text_html "
        "            ELSE left(m.text_html, $4::integer) END, octet_length(m.text_html), "
        "       m.preview, "
        "       CASE WHEN $5::bigint IS NULL THEN m.mime WHEN $5::bigint = 0 THEN NULL "
        "            ELSE substring(m.mime FROM 1 FOR $5::integer) END, octet_length(m.mime) "
        "FROM items i JOIN messages m ON m.id = i.message_id "
        "WHERE i.id = u.id AND i.account_id = $2::bigint OFFSET 0) x",
        5, params, NULL, NULL, 1, err);
    if (!res)
        return ZX_STORE_ERROR;
    apr_hash_t *by_id = apr_hash_make(p);
    for (int i = 0; i < items->nelts; i++) {
        zx_item *it = APR_ARRAY_IDX(items, i, zx_item *);
        apr_hash_set(by_id, it->id, APR_HASH_KEY_STRING, it);
    }
    for (int r = 0; r < PQntuples(res); r++) {
        zx_item *it = apr_hash_get(by_id, zx_pg_lltoa(p, zx_pg_bin_int(res, r, 0)),
                                   APR_HASH_KEY_STRING);
        if (!it)
            continue;
        zx_item_content *c = apr_pcalloc(p, sizeof *c);
        if (want->plain != 0 && !PQgetisnull(res, r, 1)) {
            apr_size_t l = (apr_size_t)PQgetlength(res, r, 1);
            c->text_plain = apr_pstrmemdup(p, PQgetvalue(res, r, 1), l);
        }
        c->plain_size = (apr_size_t)zx_pg_bin_int(res, r, 2);
        if (want->html != 0 && !PQgetisnull(res, r, 3)) {
            apr_size_t l = (apr_size_t)PQgetlength(res, r, 3);
            c->text_html = apr_pstrmemdup(p, PQgetvalue(res, r, 3), l);
        }
        c->html_size = (apr_size_t)zx_pg_bin_int(res, r, 4);
        c->preview = zx_pg_val(p, res, r, 5);
        if (want->mime != 0 && !PQgetisnull(res, r, 6)) {
            c->mime_len = (apr_size_t)PQgetlength(res, r, 6);
            c->mime = apr_pstrmemdup(p, PQgetvalue(res, r, 6), c->mime_len);
        }
        c->mime_size = (apr_size_t)zx_pg_bin_int(res, r, 7);
        c->attachments = apr_array_make(p, 0, sizeof(zx_mime_attachment));
        it->content = c;
    }
    PQclear(res);
    if (natt == 0)
        return ZX_STORE_OK;
    const char *ap[2] = {att_ids.data, st->account_id};
    res = zx_db_exec(st->db,
        "SELECT x.* FROM unnest($1::bigint[]) AS u(id) CROSS JOIN LATERAL ("
        "SELECT i.id, a.part, a.name, a.content_type, a.content_id, a.content_location, "
        "a.is_inline, a.size FROM items i JOIN message_attachments a ON a.message_id = "
        "i.message_id WHERE i.id = u.id AND i.account_id = $2::bigint ORDER BY a.part) x",
        2, ap, err);
    if (!res)
        return ZX_STORE_ERROR;
    for (int r = 0; r < PQntuples(res); r++) {
        zx_item *it = apr_hash_get(by_id, PQgetvalue(res, r, 0), APR_HASH_KEY_STRING);
        if (!it || !it->content)
            continue;
        zx_mime_attachment *a = apr_array_push(((zx_item_content *)it->content)->attachments);
        a->part = (int)zx_pg_ival(res, r, 1);
        a->name = zx_pg_val(p, res, r, 2);
        a->content_type = zx_pg_val(p, res, r, 3);
        a->content_id = zx_pg_val(p, res, r, 4);
        a->content_location = zx_pg_val(p, res, r, 5);
        a->is_inline = zx_pg_bval(res, r, 6);
        a->size = (apr_size_t)zx_pg_ival(res, r, 7);
    }
    PQclear(res);
    return ZX_STORE_OK;
}

/* ---- changing items ------------------------------------------------------------------------ */

static int update_flags(zx_store *st, const char *id, const zx_item_changes *ch,
                        const char *device, const char **err);

static int pg_item_update(zx_store *st, const char *id, const zx_item_changes *ch,
                          const char *device, const char **err)
{
    if (!zx_pg_valid_id(id))
        return ZX_STORE_NOT_FOUND;
    if (!ch->pim)
        return update_flags(st, id, ch, device, err);
    /* a contact, task or note: its class row and the item's new version together */
    int own;
    if (zx_db_tx_begin(st->db, &own, err) < 0)
        return ZX_STORE_ERROR;
    int rc = update_flags(st, id, ch, device, err);
    if (rc == ZX_STORE_OK)
        rc = zx_pg_pim_update(st, id, ch->pim, err);
    return zx_db_tx_end(st->db, own, rc, err);
}

static int update_flags(zx_store *st, const char *id, const zx_item_changes *ch,
                        const char *device, const char **err)
{
    apr_pool_t *p = st->pool;
    const zx_flag *fl = ch->flag;
    int clear = fl && fl->status == 0;
#define FLAGT(x) (fl && !clear ? zx_pg_time_param(p, (x)) : NULL)
    const char *params[22] = {
        id, st->account_id, device,
        ch->read < 0 ? NULL : ch->read ? "t" : "f",
        ch->answered < 0 ? NULL : ch->answered ? "t" : "f",
        ch->forwarded < 0 ? NULL : ch->forwarded ? "t" : "f",
        ch->last_verb < 0 ? NULL : apr_itoa(p, ch->last_verb),
        fl ? "t" : "f",
        fl ? apr_itoa(p, fl->status == 1 || fl->status == 2 ? fl->status : 0) : "0",
        fl && !clear ? fl->flag_type : NULL,
        FLAGT(fl->start), FLAGT(fl->due), FLAGT(fl->utc_start), FLAGT(fl->utc_due),
        FLAGT(fl->complete_time), FLAGT(fl->date_completed),
        fl && !clear && fl->reminder_set ? "t" : "f",
        FLAGT(fl->reminder_time),
        fl && !clear ? fl->subject : NULL,
        fl && !clear && fl->ordinal_date_set ? zx_pg_time_param(p, fl->ordinal_date) : NULL,
        fl && !clear ? fl->sub_ordinal_date : NULL,
        ch->categories ? zx_pg_text_array_literal(p, ch->categories) : NULL,
    };
#undef FLAGT
    PGresult *res = zx_db_exec(st->db,
        "WITH it AS (SELECT folder_id FROM items WHERE id = $1::bigint AND account_id = $2::bigint "
        "            AND NOT deleted), "
        "f AS (UPDATE folders SET modseq = modseq + 1 WHERE id = (SELECT folder_id FROM it) "
        "      RETURNING id, modseq), "
        "u AS (UPDATE items i SET modseq = f.modseq, changed_by = $3::bigint, "
        "  read = coalesce($4::boolean, i.read), "
        "  answered = coalesce($5::boolean, i.answered), "
        "  forwarded = coalesce($6::boolean, i.forwarded), "
        "  last_verb = coalesce($7::smallint, i.last_verb), "
        "  last_verb_time = CASE WHEN $7::smallint IS NULL THEN i.last_verb_time ELSE now() END, "
        "  flag_status = CASE WHEN $8::boolean THEN $9::smallint ELSE i.flag_status END, "
        "  flag_type = CASE WHEN $8::boolean THEN $10::text ELSE i.flag_type END, "
        "  flag_start = CASE WHEN $8::boolean THEN " TS("$11") " ELSE i.flag_start END, "
        "  flag_due = CASE WHEN $8::boolean THEN " TS("$12") " ELSE i.flag_due END, "
        "  flag_utc_start = CASE WHEN $8::boolean THEN " TS("$13") " ELSE i.flag_utc_start END, "
        "  flag_utc_due = CASE WHEN $8::boolean THEN " TS("$14") " ELSE i.flag_utc_due END, "
        "  flag_complete_time = CASE WHEN $8::boolean THEN " TS("$15") " ELSE i.flag_complete_time END, "
        "  flag_date_completed = CASE WHEN $8::boolean THEN " TS("$16") " ELSE i.flag_date_completed END, "
        "  flag_reminder_set = CASE WHEN $8::boolean THEN $17::boolean ELSE i.flag_reminder_set END, "
        "  flag_reminder_time = CASE WHEN $8::boolean THEN " TS("$18") " ELSE i.flag_reminder_time END, "
        "  flag_subject = CASE WHEN $8::boolean THEN $19::text ELSE i.flag_subject END, "
        "  flag_ordinal_date = CASE WHEN $8::boolean THEN " TS("$20") " ELSE i.flag_ordinal_date END, "
        "  flag_sub_ordinal_date = CASE WHEN $8::boolean THEN $21::text ELSE i.flag_sub_ordinal_date END, "
        "  categories = coalesce($22::text[], i.categories) "
        "  FROM f WHERE i.id = $1::bigint AND i.folder_id = f.id AND NOT i.deleted RETURNING i.id) "
        "SELECT (SELECT count(*) FROM u), CASE WHEN EXISTS (SELECT 1 FROM u) "
        "       THEN pg_notify('zx_mailbox', $2::text) END",
        22, params, err);
    if (!res)
        return ZX_STORE_ERROR;
    long long n = zx_pg_ival(res, 0, 0);
    PQclear(res);
    return n == 1 ? ZX_STORE_OK : ZX_STORE_NOT_FOUND;
}

/* Move: a new item in dst created by dst_by, and changed by it when the source is still at
 * version seen (else by the server), the source a tombstone changed by src_by. */
static int move_tx(zx_store *st, const char *id, const char *item_class, const char *src,
                   const char *dst, const char *src_by, const char *dst_by, long long seen, const char **new_id,
                   const char **err)
{
    long long sm = 0, dm = 0;
    /* lock both folders in id order */
    int src_first = strtoll(src, NULL, 10) < strtoll(dst, NULL, 10);
    int rc = zx_pg_next_modseq(st, src_first ? src : dst, 1, src_first ? &sm : &dm, err);
    if (rc == ZX_STORE_OK)
        rc = zx_pg_next_modseq(st, src_first ? dst : src, 1, src_first ? &dm : &sm, err);
    if (rc != ZX_STORE_OK)
        return rc;
    const char *params[7] = {id, st->account_id, dst, zx_pg_lltoa(st->pool, dm), dst_by, src,
                             zx_pg_lltoa(st->pool, seen)};
    PGresult *res = zx_db_exec(st->db,
        "INSERT INTO items (account_id, folder_id, modseq, created_modseq, created_by, "
        "changed_by, " COPY_COLS ") SELECT account_id, $3::bigint, $4::bigint, $4::bigint, "
        "$5::bigint, CASE WHEN modseq = $7::bigint THEN $5::bigint END, " COPY_COLS
        " FROM items WHERE id = $1::bigint AND account_id = $2::bigint AND folder_id = $6::bigint "
        "AND NOT deleted RETURNING id",
        7, params, err);
    if (!res)
        return ZX_STORE_ERROR;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return ZX_STORE_NOT_FOUND;
    }
    const char *moved_to = zx_pg_val(st->pool, res, 0, 0);
    if (new_id)
        *new_id = moved_to;
    PQclear(res);
    if (zx_pg_pim_repoint(st, item_class, id, moved_to, err) != ZX_STORE_OK)
        return ZX_STORE_ERROR;
    const char *up[4] = {id, zx_pg_lltoa(st->pool, sm), src_by, moved_to};
    if (zx_db_run(st->db, "UPDATE items SET deleted = true, message_id = NULL, modseq = "
                  "$2::bigint, changed_by = $3::bigint, moved_to = $4::bigint WHERE "
                  "id = $1::bigint", 4, up, err) < 0)
        return ZX_STORE_ERROR;
    return zx_pg_notify(st, err);
}

static int move_item(zx_store *st, const char *id, const char *dst, const char *src_by,
                     const char *dst_by, long long seen, const char **new_id, const char **err)
{
    if (new_id)
        *new_id = NULL;
    if (!zx_pg_valid_id(id))
        return ZX_STORE_NOT_FOUND;
    if (!zx_pg_valid_id(dst))
        return ZX_STORE_PARENT_NOT_FOUND;
    zx_item *it;
    zx_folder *f;
    int rc = pg_item_get(st, id, &it, err);
    if (rc != ZX_STORE_OK)
        return rc;
    rc = zx_pg_mailbox.folder_get(st, dst, &f, err);
    if (rc != ZX_STORE_OK)
        return rc == ZX_STORE_NOT_FOUND ? ZX_STORE_PARENT_NOT_FOUND : rc;
    if (strcmp(it->folder_id, f->id) == 0)
        return ZX_STORE_INVALID;
    /* contacts go to contacts folders, tasks to tasks folders, ... */
    if (zx_pim_class_of(it->item_class) != zx_pim_class_of(f->item_class))
        return ZX_STORE_INVALID;
    int own;
    if (zx_db_tx_begin(st->db, &own, err) < 0)
        return ZX_STORE_ERROR;
    rc = move_tx(st, id, it->item_class, it->folder_id, f->id, src_by, dst_by, seen, new_id, err);
    if (rc > 0 && own) {
        /* nothing must stay of a half-done move */
        const char *e2;
        zx_db_run(st->db, "ROLLBACK", 0, NULL, &e2);
        return rc;
    }
    return zx_db_tx_end(st->db, own, rc, err);
}

static int pg_item_move(zx_store *st, const char *id, const char *dst_folder_id,
                        const char *device, long long seen_modseq, const char **new_id,
                        const char **err)
{
    return move_item(st, id, dst_folder_id, device, device, device ? seen_modseq : 0, new_id,
                     err);
}

static int pg_item_trash(zx_store *st, const char *id, const char *dst_folder_id,
                         const char *device, const char **err)
{
    return move_item(st, id, dst_folder_id, device, NULL, 0, NULL, err);
}

static int pg_item_delete(zx_store *st, const char *id, const char *device, const char **err)
{
    if (!zx_pg_valid_id(id))
        return ZX_STORE_NOT_FOUND;
    int own;
    if (zx_db_tx_begin(st->db, &own, err) < 0)
        return ZX_STORE_ERROR;
    const char *params[3] = {id, st->account_id, device};
    PGresult *res = zx_db_exec(st->db,
        "WITH it AS (SELECT folder_id, message_id FROM items WHERE id = $1::bigint AND "
        "            account_id = $2::bigint AND NOT deleted), "
        "f AS (UPDATE folders SET modseq = modseq + 1 WHERE id = (SELECT folder_id FROM it) "
        "      RETURNING id, modseq), "
        "u AS (UPDATE items i SET deleted = true, message_id = NULL, modseq = f.modseq, "
        "      changed_by = $3::bigint FROM f WHERE i.id = $1::bigint AND i.folder_id = f.id "
        "      AND NOT i.deleted RETURNING i.id) "
        "SELECT (SELECT count(*) FROM u), (SELECT message_id FROM it)", 3, params, err);
    int rc = ZX_STORE_ERROR;
    if (res) {
        rc = zx_pg_ival(res, 0, 0) == 1 ? ZX_STORE_OK : ZX_STORE_NOT_FOUND;
        const char *msg = zx_pg_val(st->pool, res, 0, 1);
        PQclear(res);
        if (rc == ZX_STORE_OK && msg)
            rc = zx_pg_drop_messages(st, apr_pstrcat(st->pool, "{", msg, "}", NULL), err);
        if (rc == ZX_STORE_OK)
            rc = zx_pg_notify(st, err);
    }
    return zx_db_tx_end(st->db, own, rc, err);
}

/* ---- drafts (16.x) ------------------------------------------------------------------------- */

/* The message is delivered as any other (pg_mailbox.c: its envelope, attachments and search
 * words); a new draft is then the device's creation, and a replaced one takes the delivered
 * row's message and envelope under its own id, the delivered row (seen by no one: same
 * transaction) going away. */
static int draft_save_tx(zx_store *st, const char *folder_id, const char *replace_id,
                         const char *data, apr_size_t len, const char *device, zx_item **out,
                         const char **err)
{
    apr_pool_t *p = st->pool;
    const char *old_msg = NULL;
    if (replace_id) {
        const char *params[3] = {replace_id, st->account_id, folder_id};
        PGresult *res = zx_db_exec(st->db,
            "SELECT message_id FROM items WHERE id = $1::bigint AND account_id = $2::bigint "
            "AND folder_id = $3::bigint AND NOT deleted FOR UPDATE", 3, params, err);
        if (!res)
            return ZX_STORE_ERROR;
        int found = PQntuples(res) == 1;
        old_msg = found ? zx_pg_val(p, res, 0, 0) : NULL;
        PQclear(res);
        if (!found)
            return ZX_STORE_NOT_FOUND;
    }
    zx_item *fresh = NULL;
    int rc = zx_pg_mailbox.deliver(st, folder_id, data, len, 1, &fresh, err);
    if (rc != ZX_STORE_OK)
        return rc;
    PGresult *res;
    if (!replace_id) {
        const char *params[3] = {fresh->id, st->account_id, device};
        res = zx_db_exec(st->db,
            "UPDATE items i SET created_by = $3::bigint WHERE id = $1::bigint AND "
            "account_id = $2::bigint RETURNING " ITEM_COLS("i."), 3, params, err);
    }
    else {
        long long modseq = 0;
        if ((rc = zx_pg_next_modseq(st, folder_id, 1, &modseq, err)) != ZX_STORE_OK)
            return rc;
        const char *params[5] = {fresh->id, replace_id, st->account_id,
                                 zx_pg_lltoa(p, modseq), device};
        res = zx_db_exec(st->db,
            "WITH n AS (DELETE FROM items WHERE id = $1::bigint AND account_id = $3::bigint "
            "           RETURNING *) "
            "UPDATE items i SET message_id = n.message_id, size = n.size, subject = n.subject, "
            "  from_addr = n.from_addr, to_addr = n.to_addr, cc_addr = n.cc_addr, "
            "  reply_to = n.reply_to, message_hdr_id = n.message_hdr_id, "
            "  thread_topic = n.thread_topic, importance = n.importance, "
            "  message_class = n.message_class, content_class = n.content_class, "
            "  native_body_type = n.native_body_type, has_attachments = n.has_attachments, "
            "  conversation_id = n.conversation_id, received = n.received, "
            "  modseq = $4::bigint, changed_by = $5::bigint "
            "FROM n WHERE i.id = $2::bigint AND i.account_id = $3::bigint "
            "RETURNING " ITEM_COLS("i."), 5, params, err);
    }
    if (!res)
        return ZX_STORE_ERROR;
    if (PQntuples(res) == 1)
        *out = zx_pg_row_item(p, res, 0);
    PQclear(res);
    if (!*out)
        return ZX_STORE_NOT_FOUND;
    if (old_msg && (rc = zx_pg_drop_messages(st, apr_pstrcat(p, "{", old_msg, "}", NULL),
                                             err)) != ZX_STORE_OK)
        return rc;
    return zx_pg_notify(st, err);
}

static int pg_draft_save(zx_store *st, const char *folder_id, const char *replace_id,
                         const char *data, apr_size_t len, const char *device, zx_item **out,
                         const char **err)
{
    *out = NULL;
    if (!zx_pg_valid_id(folder_id) || (replace_id && !zx_pg_valid_id(replace_id)))
        return ZX_STORE_NOT_FOUND;
    int own;
    if (zx_db_tx_begin(st->db, &own, err) < 0)
        return ZX_STORE_ERROR;
    int rc = draft_save_tx(st, folder_id, replace_id, data, len, device, out, err);
    if (rc != ZX_STORE_OK)
        *out = NULL;
    /* a refusal (no such draft) rolls back the delivery too */
    return zx_db_tx_end(st->db, own, rc == ZX_STORE_OK ? 0 : -1, err) < 0 && rc == ZX_STORE_OK
           ? ZX_STORE_ERROR : rc;
}

/* ---- conversations ------------------------------------------------------------------------ */

static const char *conversation_hex(apr_pool_t *p, const unsigned char *cid)
{
    char *hex = apr_palloc(p, 33);
    for (int i = 0; i < 16; i++)
        apr_snprintf(hex + 2 * i, 3, "%02x", cid[i]);
    return hex;
}

static int pg_conversation_items(zx_store *st, const unsigned char *conversation_id,
                                 const char *except_folder, apr_array_header_t **out,
                                 const char **err)
{
    apr_pool_t *p = st->pool;
    *out = apr_array_make(p, 4, sizeof(zx_item *));
    const char *params[3] = {st->account_id, conversation_hex(p, conversation_id),
                             zx_pg_valid_id(except_folder) ? except_folder : "0"};
    PGresult *res = zx_db_exec(st->db,
        "SELECT i.id, i.folder_id FROM items i JOIN folders f ON f.id = i.folder_id "
        "WHERE i.account_id = $1::bigint AND i.conversation_id = decode($2, 'hex') "
        "AND NOT i.deleted AND i.folder_id <> $3::bigint AND f.item_class = 'Email' "
        "AND NOT (f.system AND f.type = 5) ORDER BY i.id", 3, params, err);
    if (!res)
        return ZX_STORE_ERROR;
    for (int r = 0; r < PQntuples(res); r++) {
        zx_item *it = apr_pcalloc(p, sizeof *it);
        it->id = zx_pg_val(p, res, r, 0);
        it->folder_id = zx_pg_val(p, res, r, 1);
        APR_ARRAY_PUSH(*out, zx_item *) = it;
    }
    PQclear(res);
    return ZX_STORE_OK;
}

static int pg_conversation_known(zx_store *st, const unsigned char *conversation_id, int *yes,
                                 const char **err)
{
    const char *params[2] = {st->account_id, conversation_hex(st->pool, conversation_id)};
    PGresult *res = zx_db_exec(st->db, "SELECT 1 FROM items WHERE account_id = $1::bigint "
                               "AND conversation_id = decode($2, 'hex') AND NOT deleted "
                               "LIMIT 1", 2, params, err);
    if (!res)
        return ZX_STORE_ERROR;
    *yes = PQntuples(res) > 0;
    PQclear(res);
    return ZX_STORE_OK;
}

/* ---- the window ---------------------------------------------------------------------------- */

static int pg_aged(zx_store *st, const char *folder_id, const zx_sync_pos *pos,
                   apr_time_t before, int limit, apr_array_header_t **out, const char **err)
{
    *out = apr_array_make(st->pool, 1, sizeof(zx_item *));
    if (!zx_pg_valid_id(folder_id) || !pos->aged_id || !zx_pg_valid_id(pos->aged_id) ||
        before <= 0 || before <= pos->aged_received)
        return ZX_STORE_OK;
    const char *params[7] = {folder_id, st->account_id, zx_pg_lltoa(st->pool, pos->modseq),
                             zx_pg_time_param(st->pool, pos->aged_received), pos->aged_id,
                             zx_pg_time_param(st->pool, before), apr_itoa(st->pool, limit)};
    if (!params[3])
        params[3] = "0";
    /* the (folder_id, received DESC, id DESC) index, walked backwards from the window's old
     * edge */
    PGresult *res = zx_db_exec(st->db,
        "SELECT " ITEM_COLS("i.") " FROM items i WHERE i.folder_id = $1::bigint AND "
        "i.account_id = $2::bigint AND NOT i.deleted AND i.created_modseq <= $3::bigint AND "
        "(i.received, i.id) >= (" TS("$4") ", $5::bigint) AND i.received < " TS("$6") " "
        "ORDER BY i.received, i.id LIMIT $7::integer", 7, params, err);
    if (!res)
        return ZX_STORE_ERROR;
    *out = zx_pg_items_of(st->pool, res, -1);
    PQclear(res);
    return ZX_STORE_OK;
}

static int pg_purge_tombstones(zx_store *st, const char *folder_id, const char **err)
{
    if (!zx_pg_valid_id(folder_id))
        return ZX_STORE_NOT_FOUND;
    const char *params[2] = {folder_id, st->account_id};
    return zx_db_run(st->db,
        "DELETE FROM items WHERE folder_id = $1::bigint AND account_id = $2::bigint AND deleted "
        "AND modseq <= (SELECT coalesce(min(least(s.modseq, coalesce(s.prev_modseq, s.modseq))), "
        "               (SELECT modseq FROM folders WHERE id = $1::bigint)) "
        "               FROM sync_states s WHERE s.folder_id = $1::bigint)",
        2, params, err) < 0 ? ZX_STORE_ERROR : ZX_STORE_OK;
}

const zx_store_items zx_pg_items = {
    pg_changes,
    pg_enumerate,
    pg_estimate,
    pg_aged,
    pg_purge_tombstones,
    pg_item_get,
    pg_item_tombstone,
    pg_item_mime,
    pg_item_contents,
    pg_conversation_items,
    pg_conversation_known,
    pg_item_update,
    pg_item_move,
    pg_item_trash,
    pg_item_delete,
    zx_pg_pim_create,
    zx_pg_calendar_window,
    zx_pg_contacts_match,
    pg_draft_save,
};
