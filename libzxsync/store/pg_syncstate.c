/* zxmobile - the synchronisation states of the devices in PostgreSQL (zx_store_pg_state):
 * the one implementation, whatever provider holds the mail (zxsync/store.h). */
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

/* ---- synchronisation states --------------------------------------------------------------- */

/* position <-> (modseq, cursor): cursor NULL = enumeration done, "" = enumeration from the
 * newest item, "received_us:item_id" = after that item */
/* "received_us:item_id" */
static void parse_at(apr_pool_t *p, const char *c, apr_time_t *received, const char **id)
{
    const char *colon = strchr(c, ':');
    if (colon && zx_pg_valid_id(colon + 1)) {
        *received = (apr_time_t)strtoll(c, NULL, 10);
        *id = apr_pstrdup(p, colon + 1);
    }
}

/* "id:modseq,id:modseq" <-> zx_sync_ahead elements */
static apr_array_header_t *ahead_parse(apr_pool_t *p, const char *s)
{
    apr_array_header_t *a = NULL;
    while (s && *s) {
        char *end;
        long long id = strtoll(s, &end, 10);
        if (*end != ':')
            break;
        long long m = strtoll(end + 1, &end, 10);
        if (id > 0 && m > 0) {
            if (!a)
                a = apr_array_make(p, 4, sizeof(zx_sync_ahead));
            zx_sync_ahead *e = apr_array_push(a);
            e->id = id;
            e->modseq = m;
        }
        if (*end != ',')
            break;
        s = end + 1;
    }
    return a;
}

static const char *ahead_text(apr_pool_t *p, const zx_sync_pos *pos)
{
    if (!pos->ahead || pos->ahead->nelts == 0)
        return NULL;
    zx_buf b;
    zx_buf_init(&b, p, 24 * (apr_size_t)pos->ahead->nelts);
    for (int i = 0; i < pos->ahead->nelts; i++) {
        const zx_sync_ahead *a = &APR_ARRAY_IDX(pos->ahead, i, zx_sync_ahead);
        zx_buf_puts(&b, apr_psprintf(p, "%s%" APR_INT64_T_FMT ":%" APR_INT64_T_FMT, i ? "," : "",
                                     (apr_int64_t)a->id, (apr_int64_t)a->modseq));
    }
    return b.data;
}

static void pos_from(apr_pool_t *p, PGresult *res, int r, int c_modseq, int c_cursor,
                     int c_aged, int c_ahead, zx_sync_pos *pos)
{
    memset(pos, 0, sizeof *pos);
    pos->modseq = zx_pg_ival(res, r, c_modseq);
    if (!PQgetisnull(res, r, c_ahead))
        pos->ahead = ahead_parse(p, PQgetvalue(res, r, c_ahead));
    if (!PQgetisnull(res, r, c_aged))
        parse_at(p, PQgetvalue(res, r, c_aged), &pos->aged_received, &pos->aged_id);
    if (PQgetisnull(res, r, c_cursor))
        return;
    pos->enumerating = 1;
    parse_at(p, PQgetvalue(res, r, c_cursor), &pos->cursor_received, &pos->cursor_id);
}

static const char *pos_aged(apr_pool_t *p, const zx_sync_pos *pos)
{
    if (!pos->aged_id)
        return NULL;
    return apr_psprintf(p, "%" APR_TIME_T_FMT ":%s", pos->aged_received, pos->aged_id);
}

static const char *pos_cursor(apr_pool_t *p, const zx_sync_pos *pos)
{
    if (!pos->enumerating)
        return NULL;
    if (!pos->cursor_id)
        return "";
    return apr_psprintf(p, "%" APR_TIME_T_FMT ":%s", pos->cursor_received, pos->cursor_id);
}

/* "{1,2,3}" -> the ids as text */
static apr_array_header_t *skipped_parse(apr_pool_t *p, const char *s)
{
    apr_array_header_t *a = apr_array_make(p, 2, sizeof(const char *));
    char *copy = apr_pstrdup(p, s), *last = NULL;
    for (char *t = apr_strtok(copy, "{},", &last); t; t = apr_strtok(NULL, "{},", &last))
        if (zx_pg_valid_id(t))
            APR_ARRAY_PUSH(a, const char *) = t;
    return a->nelts ? a : NULL;
}

static int pg_sync_states_get(zx_store *st, const char *device, zx_sync_state *states, int n,
                              const char **err)
{
    apr_pool_t *p = st->pool;
    zx_buf ids;
    zx_buf_init(&ids, p, 16 * (apr_size_t)(n + 1));
    zx_buf_putc(&ids, '{');
    int first = 1;
    for (int i = 0; i < n; i++) {
        zx_sync_state *s = &states[i];
        s->folder = NULL;
        s->exists = 0;
        memset(&s->cur, 0, sizeof s->cur);
        memset(&s->prev, 0, sizeof s->prev);
        s->filter_type = 0;
        s->options = NULL;
        s->options_len = 0;
        s->supported = NULL;
        s->retries = 0;
        s->skipped = NULL;
        /* ids that are not numbers match no folder */
        if (!first)
            zx_buf_putc(&ids, ',');
        zx_buf_puts(&ids, zx_pg_valid_id(s->folder_id) ? s->folder_id : "0");
        first = 0;
    }
    zx_buf_putc(&ids, '}');
    if (n == 0)
        return ZX_STORE_OK;
    const char *params[3] = {ids.data, st->account_id, device};
    PGresult *res = zx_db_exec(st->db,
        "SELECT u.ord, " FOLDER_COLS("f.") ", s.sync_key, s.modseq, s.cursor, s.prev_key, "
        "s.prev_modseq, s.prev_cursor, s.filter_type, s.options, s.aged, s.prev_aged, "
        "s.ahead, s.prev_ahead, s.supported, s.retries, "
        "(SELECT array_agg(k.item_id ORDER BY k.item_id) FROM sync_skipped k "
        " WHERE k.device_id = s.device_id AND k.folder_id = s.folder_id) "
        "FROM unnest($1::bigint[]) WITH ORDINALITY AS u(id, ord) "
        "JOIN folders f ON f.id = u.id AND f.account_id = $2::bigint AND NOT f.deleted "
        "LEFT JOIN sync_states s ON s.device_id = $3::bigint AND s.folder_id = f.id",
        3, params, err);
    if (!res)
        return ZX_STORE_ERROR;
    for (int r = 0; r < PQntuples(res); r++) {
        long long ord = zx_pg_ival(res, r, 0);
        if (ord < 1 || ord > n)
            continue;
        zx_sync_state *s = &states[ord - 1];
        s->folder = zx_pg_row_folder(p, res, r, 1);
        if (PQgetisnull(res, r, 13))
            continue;
        s->exists = 1;
        s->cur.key = zx_pg_ival(res, r, 13);
        pos_from(p, res, r, 14, 15, 21, 23, &s->cur.pos);
        s->prev.key = zx_pg_ival(res, r, 16);
        if (s->prev.key)
            pos_from(p, res, r, 17, 18, 22, 24, &s->prev.pos);
        s->filter_type = (int)zx_pg_ival(res, r, 19);
        if (!PQgetisnull(res, r, 20)) {
            size_t len = 0;
            unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, r, 20),
                                                 &len);
            if (raw) {
                s->options = apr_pstrmemdup(p, (const char *)raw, len);
                s->options_len = len;
                PQfreemem(raw);
            }
        }
        s->supported = zx_pg_val(p, res, r, 25);
        s->retries = (int)zx_pg_ival(res, r, 26);
        if (!PQgetisnull(res, r, 27))
            s->skipped = skipped_parse(p, PQgetvalue(res, r, 27));
    }
    PQclear(res);
    return ZX_STORE_OK;
}

static int pg_sync_state_put(zx_store *st, const char *device, const zx_sync_state *s,
                             long long expect_key, const char **err)
{
    apr_pool_t *p = st->pool;
    if (!zx_pg_valid_id(s->folder_id) || !zx_pg_valid_id(device))
        return ZX_STORE_NOT_FOUND;
    const char *params[17] = {
        device, s->folder_id, zx_pg_lltoa(p, s->cur.key), zx_pg_lltoa(p, s->cur.pos.modseq),
        pos_cursor(p, &s->cur.pos),
        s->prev.key ? zx_pg_lltoa(p, s->prev.key) : NULL,
        s->prev.key ? zx_pg_lltoa(p, s->prev.pos.modseq) : NULL,
        s->prev.key ? pos_cursor(p, &s->prev.pos) : NULL,
        apr_itoa(p, s->filter_type), s->options, zx_pg_lltoa(p, expect_key),
        pos_aged(p, &s->cur.pos), s->prev.key ? pos_aged(p, &s->prev.pos) : NULL,
        ahead_text(p, &s->cur.pos), s->prev.key ? ahead_text(p, &s->prev.pos) : NULL,
        s->supported, apr_itoa(p, s->retries > 32767 ? 32767 : s->retries)};
    int lengths[17] = {0};
    int formats[17] = {0};
    lengths[9] = (int)s->options_len;
    formats[9] = 1;
    /* A new state is inserted only when the device had none (expect_key 0); otherwise only
     * the row still at expect_key is updated.  So a state dropped while this request was in
     * flight (doResetDevice, an ABQ status change) stays dropped: ZX_STORE_EXISTS. */
    PGresult *res = expect_key == 0
        ? zx_db_exec_ex(st->db,
            "INSERT INTO sync_states AS s (device_id, folder_id, sync_key, modseq, cursor, "
            "prev_key, prev_modseq, prev_cursor, filter_type, options, aged, prev_aged, ahead, "
            "prev_ahead, supported, retries) VALUES "
            "($1::bigint, $2::bigint, $3::bigint, $4::bigint, $5, $6::bigint, $7::bigint, $8, "
            "$9::smallint, $10::bytea, $12, $13, $14, $15, $16::integer[], $17::smallint) "
            "ON CONFLICT (device_id, folder_id) DO UPDATE SET sync_key = excluded.sync_key, "
            "modseq = excluded.modseq, cursor = excluded.cursor, prev_key = excluded.prev_key, "
            "prev_modseq = excluded.prev_modseq, prev_cursor = excluded.prev_cursor, "
            "filter_type = excluded.filter_type, options = excluded.options, "
            "aged = excluded.aged, prev_aged = excluded.prev_aged, ahead = excluded.ahead, "
            "prev_ahead = excluded.prev_ahead, supported = excluded.supported, "
            "retries = excluded.retries, updated_at = now() "
            "WHERE s.sync_key = $11::bigint RETURNING 1", 17, params, lengths, formats, 0, err)
        : zx_db_exec_ex(st->db,
            "UPDATE sync_states SET sync_key = $3::bigint, modseq = $4::bigint, cursor = $5, "
            "prev_key = $6::bigint, prev_modseq = $7::bigint, prev_cursor = $8, "
            "filter_type = $9::smallint, options = $10::bytea, aged = $12, prev_aged = $13, "
            "ahead = $14, prev_ahead = $15, supported = $16::integer[], retries = $17::smallint, "
            "updated_at = now() WHERE device_id = $1::bigint AND folder_id = $2::bigint AND "
            "sync_key = $11::bigint RETURNING 1", 17, params, lengths, formats, 0, err);
    if (!res)
        return ZX_STORE_ERROR;
    int ok = PQntuples(res) == 1;
    PQclear(res);
    return ok ? ZX_STORE_OK : ZX_STORE_EXISTS;
}

static int pg_folder_state_get(zx_store *st, const char *device, zx_folder_state *out,
                               const char **err)
{
    memset(out, 0, sizeof *out);
    if (!zx_pg_valid_id(device))
        return ZX_STORE_NOT_FOUND;
    const char *params[1] = {device};
    PGresult *res = zx_db_exec(st->db, "SELECT sync_key, hier_seq, prev_key, prev_hier_seq "
                               "FROM folder_states WHERE device_id = $1::bigint", 1, params, err);
    if (!res)
        return ZX_STORE_ERROR;
    if (PQntuples(res) == 1) {
        out->exists = 1;
        out->key = zx_pg_ival(res, 0, 0);
        out->hier_seq = zx_pg_ival(res, 0, 1);
        out->prev_key = zx_pg_ival(res, 0, 2);
        out->prev_hier_seq = zx_pg_ival(res, 0, 3);
    }
    PQclear(res);
    return ZX_STORE_OK;
}

static int pg_folder_state_put(zx_store *st, const char *device, const zx_folder_state *s,
                               long long expect_key, const char **err)
{
    apr_pool_t *p = st->pool;
    if (!zx_pg_valid_id(device))
        return ZX_STORE_NOT_FOUND;
    const char *params[6] = {device, zx_pg_lltoa(p, s->key), zx_pg_lltoa(p, s->hier_seq),
                             s->prev_key ? zx_pg_lltoa(p, s->prev_key) : NULL,
                             s->prev_key ? zx_pg_lltoa(p, s->prev_hier_seq) : NULL,
                             zx_pg_lltoa(p, expect_key)};
    /* as pg_sync_state_put: insert only a first state, otherwise update the expected one */
    PGresult *res = expect_key == 0
        ? zx_db_exec(st->db,
            "INSERT INTO folder_states AS s (device_id, sync_key, hier_seq, prev_key, "
            "prev_hier_seq) VALUES ($1::bigint, $2::bigint, $3::bigint, $4::bigint, $5::bigint) "
            "ON CONFLICT (device_id) DO UPDATE SET sync_key = excluded.sync_key, "
            "hier_seq = excluded.hier_seq, prev_key = excluded.prev_key, "
            "prev_hier_seq = excluded.prev_hier_seq, updated_at = now() "
            "WHERE s.sync_key = $6::bigint RETURNING 1", 6, params, err)
        : zx_db_exec(st->db,
            "UPDATE folder_states SET sync_key = $2::bigint, hier_seq = $3::bigint, "
            "prev_key = $4::bigint, prev_hier_seq = $5::bigint, updated_at = now() "
            "WHERE device_id = $1::bigint AND sync_key = $6::bigint RETURNING 1", 6, params, err);
    if (!res)
        return ZX_STORE_ERROR;
    int ok = PQntuples(res) == 1;
    PQclear(res);
    return ok ? ZX_STORE_OK : ZX_STORE_EXISTS;
}

static int pg_sync_cache_get(zx_store *st, const char *device, const char **data,
                             apr_size_t *len, const char **err)
{
    *data = NULL;
    *len = 0;
    if (!zx_pg_valid_id(device))
        return ZX_STORE_NOT_FOUND;
    const char *params[2] = {device, st->account_id};
    PGresult *res = zx_db_exec_ex(st->db, "SELECT sync_cache FROM devices WHERE id = $1::bigint "
                                  "AND account_id = $2::bigint AND sync_cache IS NOT NULL",
                                  2, params, NULL, NULL, 1, err);
    if (!res)
        return ZX_STORE_ERROR;
    if (PQntuples(res) == 1) {
        *len = (apr_size_t)PQgetlength(res, 0, 0);
        *data = apr_pstrmemdup(st->pool, PQgetvalue(res, 0, 0), *len);
    }
    PQclear(res);
    return *data ? ZX_STORE_OK : ZX_STORE_NOT_FOUND;
}

static int pg_sync_cache_put(zx_store *st, const char *device, const char *data, apr_size_t len,
                             const char **err)
{
    if (!zx_pg_valid_id(device))
        return ZX_STORE_NOT_FOUND;
    const char *params[3] = {device, st->account_id, data};
    int lengths[3] = {0, 0, (int)len};
    int formats[3] = {0, 0, 1};
    PGresult *res = zx_db_exec_ex(st->db, "UPDATE devices SET sync_cache = $3::bytea WHERE "
                                  "id = $1::bigint AND account_id = $2::bigint AND sync_cache "
                                  "IS DISTINCT FROM $3::bytea", 3, params, lengths, formats, 0,
                                  err);
    if (!res)
        return ZX_STORE_ERROR;
    PQclear(res);
    return ZX_STORE_OK;
}

static int pg_device_states(zx_store *st, const char *device, apr_array_header_t **out,
                            const char **err)
{
    apr_pool_t *p = st->pool;
    const char *params[1] = {device};
    PGresult *res = zx_db_exec(st->db,
        "SELECT s.folder_id, f.name, f.type, s.sync_key, s.filter_type, " US("s.updated_at")
        "  FROM sync_states s JOIN folders f ON f.id = s.folder_id "
        " WHERE s.device_id = $1::bigint ORDER BY f.type, f.name, f.id", 1, params, err);
    if (!res)
        return ZX_STORE_ERROR;
    *out = apr_array_make(p, PQntuples(res) + 1, sizeof(zx_sync_state *));
    for (int r = 0; r < PQntuples(res); r++) {
        zx_sync_state *s = apr_pcalloc(p, sizeof *s);
        zx_folder *f = apr_pcalloc(p, sizeof *f);
        s->folder_id = f->id = zx_pg_val(p, res, r, 0);
        f->name = zx_pg_val(p, res, r, 1);
        f->type = (int)zx_pg_ival(res, r, 2);
        s->folder = f;
        s->exists = 1;
        s->cur.key = zx_pg_ival(res, r, 3);
        s->filter_type = (int)zx_pg_ival(res, r, 4);
        s->updated = (apr_time_t)zx_pg_ival(res, r, 5);
        APR_ARRAY_PUSH(*out, zx_sync_state *) = s;
    }
    PQclear(res);
    return ZX_STORE_OK;
}

static int pg_sync_skip(zx_store *st, const char *device, const char *folder_id,
                        const char *item_id, int attempts, int window, const char **err)
{
    apr_pool_t *p = st->pool;
    if (!zx_pg_valid_id(device) || !zx_pg_valid_id(folder_id) || !zx_pg_valid_id(item_id))
        return ZX_STORE_NOT_FOUND;
    const char *params[5] = {device, folder_id, item_id, apr_itoa(p, attempts),
                             apr_itoa(p, window)};
    PGresult *res = zx_db_exec(st->db,
        "INSERT INTO sync_skipped (device_id, folder_id, item_id, attempts, window_size) "
        "VALUES ($1::bigint, $2::bigint, $3::bigint, $4::integer, $5::integer) "
        "ON CONFLICT (device_id, folder_id, item_id) DO NOTHING", 5, params, err);
    if (!res)
        return ZX_STORE_ERROR;
    PQclear(res);
    return ZX_STORE_OK;
}

const zx_store_syncstate zx_store_pg_state = {
    pg_sync_states_get,
    pg_sync_state_put,
    pg_folder_state_get,
    pg_folder_state_put,
    pg_sync_cache_get,
    pg_sync_cache_put,
    pg_device_states,
    pg_sync_skip,
};
