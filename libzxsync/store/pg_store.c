/* zxmobile - the PostgreSQL provider of the mail store (zxsync/store.h; schema in
 * sql/004_mailstore.sql): the helpers its files share and the provider table.
 *   pg_mailbox.c    the mailbox: folders, emptying a folder, delivery
 *   pg_items.c      the items: the change feed, reading and changing items
 *   pg_search.c     full-text search of the mail (fts.c: the words)
 *   pg_syncstate.c  the synchronisation states of the devices (zx_store_pg_state, used with
 *                   every provider)
 *
 * Every value goes to PostgreSQL as a parameter.  Ids that come from clients are checked to be
 * decimal numbers before they reach a ::bigint cast.  A change locks the folder row while it
 * takes its modseq (see store.h), then changes the item rows, and NOTIFYs "zx_mailbox" in the
 * same transaction.  The hot reads (changes, enumerate, item_contents) are one statement each
 * and read one index entry and one row per item they return.
 */
#include "pg_int.h"

#include <zxsync/buf.h>
#include <zxsync/log.h>
#include <zxsync/mime.h>
#include <zxsync/text.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <ctype.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------------------------- */

int zx_pg_valid_id(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 18)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

const char *zx_pg_val(apr_pool_t *p, PGresult *res, int r, int c)
{
    if (PQgetisnull(res, r, c))
        return NULL;
    return apr_pstrmemdup(p, PQgetvalue(res, r, c), (apr_size_t)PQgetlength(res, r, c));
}

long long zx_pg_ival(PGresult *res, int r, int c)
{
    return PQgetisnull(res, r, c) ? 0 : strtoll(PQgetvalue(res, r, c), NULL, 10);
}

int zx_pg_bval(PGresult *res, int r, int c)
{
    return !PQgetisnull(res, r, c) && PQgetvalue(res, r, c)[0] == 't';
}

/* big-endian integers of binary results */
long long zx_pg_bin_int(PGresult *res, int r, int c)
{
    if (PQgetisnull(res, r, c))
        return 0;
    const unsigned char *v = (const unsigned char *)PQgetvalue(res, r, c);
    int len = PQgetlength(res, r, c);
    uint64_t x = 0;
    for (int i = 0; i < len && i < 8; i++)
        x = (x << 8) | v[i];
    if (len == 4)
        return (long long)(int32_t)(uint32_t)x;
    if (len == 2)
        return (long long)(int16_t)(uint16_t)x;
    return (long long)x;
}

const char *zx_pg_lltoa(apr_pool_t *p, long long v)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)v);   /* APR has no %lld */
}

const char *zx_pg_time_param(apr_pool_t *p, apr_time_t t)
{
    return t ? apr_psprintf(p, "%" APR_TIME_T_FMT, t) : NULL;
}

/* PostgreSQL text[] output ({a,"b c"}) -> array of const char * */
apr_array_header_t *zx_pg_parse_text_array(apr_pool_t *p, const char *s)
{
    apr_array_header_t *a = apr_array_make(p, 2, sizeof(const char *));
    if (!s || *s != '{')
        return a;
    s++;
    while (*s && *s != '}') {
        zx_buf b;
        zx_buf_init(&b, p, 32);
        if (*s == '"') {
            s++;
            while (*s && *s != '"') {
                if (*s == '\\' && s[1])
                    s++;
                zx_buf_putc(&b, *s++);
            }
            if (*s == '"')
                s++;
        }
        else {
            while (*s && *s != ',' && *s != '}')
                zx_buf_putc(&b, *s++);
        }
        APR_ARRAY_PUSH(a, const char *) = b.data;
        if (*s == ',')
            s++;
    }
    return a;
}

/* array of const char * -> text[] literal with every element quoted */
const char *zx_pg_text_array_literal(apr_pool_t *p, const apr_array_header_t *a)
{
    zx_buf b;
    zx_buf_init(&b, p, 64);
    zx_buf_putc(&b, '{');
    for (int i = 0; a && i < a->nelts; i++) {
        const char *s = APR_ARRAY_IDX(a, i, const char *);
        if (i)
            zx_buf_putc(&b, ',');
        zx_buf_putc(&b, '"');
        for (; s && *s; s++) {
            if (*s == '"' || *s == '\\')
                zx_buf_putc(&b, '\\');
            zx_buf_putc(&b, *s);
        }
        zx_buf_putc(&b, '"');
    }
    zx_buf_putc(&b, '}');
    return b.data;
}

zx_item *zx_pg_row_item(apr_pool_t *p, PGresult *res, int r)
{
    zx_item *it = apr_pcalloc(p, sizeof *it);
    it->id = zx_pg_val(p, res, r, 0);
    it->folder_id = zx_pg_val(p, res, r, 1);
    it->modseq = zx_pg_ival(res, r, 2);
    it->deleted = zx_pg_bval(res, r, 3);
    it->changed_by = zx_pg_val(p, res, r, 4);
    it->item_class = zx_pg_val(p, res, r, 5);
    it->received = (apr_time_t)zx_pg_ival(res, r, 6);
    it->size = (apr_size_t)zx_pg_ival(res, r, 7);
    it->read = zx_pg_bval(res, r, 8);
    it->answered = zx_pg_bval(res, r, 9);
    it->forwarded = zx_pg_bval(res, r, 10);
    it->last_verb = (int)zx_pg_ival(res, r, 11);
    it->last_verb_time = (apr_time_t)zx_pg_ival(res, r, 12);
    it->flag.status = (int)zx_pg_ival(res, r, 13);
    it->flag.flag_type = zx_pg_val(p, res, r, 14);
    it->flag.start = (apr_time_t)zx_pg_ival(res, r, 15);
    it->flag.due = (apr_time_t)zx_pg_ival(res, r, 16);
    it->flag.utc_start = (apr_time_t)zx_pg_ival(res, r, 17);
    it->flag.utc_due = (apr_time_t)zx_pg_ival(res, r, 18);
    it->flag.complete_time = (apr_time_t)zx_pg_ival(res, r, 19);
    it->flag.date_completed = (apr_time_t)zx_pg_ival(res, r, 20);
    it->flag.reminder_set = zx_pg_bval(res, r, 21);
    it->flag.reminder_time = (apr_time_t)zx_pg_ival(res, r, 22);
    it->flag.subject = zx_pg_val(p, res, r, 23);
    it->flag.ordinal_date_set = !PQgetisnull(res, r, 24);
    it->flag.ordinal_date = (apr_time_t)zx_pg_ival(res, r, 24);
    it->flag.sub_ordinal_date = zx_pg_val(p, res, r, 25);
    it->categories = zx_pg_parse_text_array(p, PQgetvalue(res, r, 26));
    it->subject = zx_pg_val(p, res, r, 27);
    it->from = zx_pg_val(p, res, r, 28);
    it->to = zx_pg_val(p, res, r, 29);
    it->cc = zx_pg_val(p, res, r, 30);
    it->reply_to = zx_pg_val(p, res, r, 31);
    it->message_id = zx_pg_val(p, res, r, 32);
    it->thread_topic = zx_pg_val(p, res, r, 33);
    it->importance = (int)zx_pg_ival(res, r, 34);
    it->message_class = zx_pg_val(p, res, r, 35);
    it->content_class = zx_pg_val(p, res, r, 36);
    it->native_body_type = (int)zx_pg_ival(res, r, 37);
    it->has_attachments = zx_pg_bval(res, r, 38);
    it->created_modseq = zx_pg_ival(res, r, 39);
    it->created_by = zx_pg_val(p, res, r, 40);
    const char *hex = PQgetisnull(res, r, 41) ? NULL : PQgetvalue(res, r, 41);
    if (hex && strlen(hex) == 32) {
        unsigned char *cid = apr_palloc(p, 16);
        for (int i = 0; i < 16; i++)
            cid[i] = (unsigned char)(zx_hexval(hex[2 * i]) << 4 | zx_hexval(hex[2 * i + 1]));
        it->conversation_id = cid;
    }
    it->completed_modseq = zx_pg_ival(res, r, 42);
    it->reopened_modseq = zx_pg_ival(res, r, 43);
    it->prev_received = (apr_time_t)zx_pg_ival(res, r, 44);
    it->received_modseq = zx_pg_ival(res, r, 45);
    return it;
}

zx_folder *zx_pg_row_folder(apr_pool_t *p, PGresult *res, int r, int c0)
{
    zx_folder *f = apr_pcalloc(p, sizeof *f);
    f->id = zx_pg_val(p, res, r, c0 + 0);
    f->parent_id = zx_pg_val(p, res, r, c0 + 1);
    f->name = zx_pg_val(p, res, r, c0 + 2);
    f->type = (int)zx_pg_ival(res, r, c0 + 3);
    f->item_class = zx_pg_val(p, res, r, c0 + 4);
    f->system = zx_pg_bval(res, r, c0 + 5);
    f->created_seq = zx_pg_ival(res, r, c0 + 6);
    f->changed_seq = zx_pg_ival(res, r, c0 + 7);
    f->deleted = zx_pg_bval(res, r, c0 + 8);
    f->modseq = zx_pg_ival(res, r, c0 + 9);
    f->created_by = zx_pg_val(p, res, r, c0 + 10);
    f->changed_by = zx_pg_val(p, res, r, c0 + 11);
    return f;
}

int zx_pg_notify(zx_store *st, const char **err)
{
    const char *params[1] = {st->account_id};
    return zx_db_run(st->db, NOTIFY_SQL, 1, params, err) < 0 ? ZX_STORE_ERROR : ZX_STORE_OK;
}

apr_array_header_t *zx_pg_items_of(apr_pool_t *p, PGresult *res, int max)
{
    int n = PQntuples(res);
    if (max >= 0 && n > max)
        n = max;
    apr_array_header_t *a = apr_array_make(p, n > 0 ? n : 1, sizeof(zx_item *));
    for (int r = 0; r < n; r++)
        APR_ARRAY_PUSH(a, zx_item *) = zx_pg_row_item(p, res, r);
    return a;
}

/* Messages no item refers to any more. */
int zx_pg_drop_messages(zx_store *st, const char *ids_literal, const char **err)
{
    const char *params[1] = {ids_literal};
    return zx_db_run(st->db, "DELETE FROM messages m WHERE m.id = ANY($1::bigint[]) AND NOT "
                     "EXISTS (SELECT 1 FROM items i WHERE i.message_id = m.id)", 1, params,
                     err) < 0 ? ZX_STORE_ERROR : ZX_STORE_OK;
}

/* ids of the first column of res as a bigint[] literal */
const char *zx_pg_id_list(apr_pool_t *p, PGresult *res)
{
    zx_buf b;
    zx_buf_init(&b, p, 64);
    zx_buf_putc(&b, '{');
    int first = 1;
    for (int r = 0; r < PQntuples(res); r++) {
        if (PQgetisnull(res, r, 0))
            continue;
        if (!first)
            zx_buf_putc(&b, ',');
        zx_buf_puts(&b, PQgetvalue(res, r, 0));
        first = 0;
    }
    zx_buf_putc(&b, '}');
    return b.data;
}

/* End of a delete: res (NULL on error) lists the message ids the deleted items referred to;
 * drop those no item uses any more, then notify waiting devices. */
int zx_pg_finish_dropping(zx_store *st, PGresult *res, const char **err)
{
    if (!res)
        return ZX_STORE_ERROR;
    const char *ids = zx_pg_id_list(st->pool, res);
    PQclear(res);
    if (zx_pg_drop_messages(st, ids, err) < 0)
        return ZX_STORE_ERROR;
    return zx_pg_notify(st, err);
}

/* Take the next modseq of a folder (locks it until the transaction ends). */
int zx_pg_next_modseq(zx_store *st, const char *folder_id, long long n, long long *modseq,
                      const char **err)
{
    const char *params[3] = {folder_id, st->account_id, zx_pg_lltoa(st->pool, n)};
    PGresult *res = zx_db_exec(st->db, "UPDATE folders SET modseq = modseq + $3::bigint WHERE "
                               "id = $1::bigint AND account_id = $2::bigint AND NOT deleted "
                               "RETURNING modseq", 3, params, err);
    if (!res)
        return ZX_STORE_ERROR;
    int found = PQntuples(res) == 1;
    *modseq = found ? zx_pg_ival(res, 0, 0) : 0;
    PQclear(res);
    return found ? ZX_STORE_OK : ZX_STORE_NOT_FOUND;
}

/* ---- the provider ------------------------------------------------------------------------- */

const zx_store_provider zx_store_pg = {
    "pg",
    &zx_pg_mailbox,
    &zx_pg_items,
    &zx_pg_search,
};
