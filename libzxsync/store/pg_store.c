/* zxmobile - the PostgreSQL provider of the mail store (zxsync/store.h; schema in
 * sql/004_mailstore.sql).
 *
 * Every value goes to PostgreSQL as a parameter.  Ids that come from clients are checked to be
 * decimal numbers before they reach a ::bigint cast.  A change locks the folder row while it
 * takes its modseq (see store.h), then changes the item rows, and NOTIFYs "zx_mailbox" in the
 * same transaction.  The hot reads (changes, enumerate, item_contents) are one statement each
 * and read one index entry and one row per item they return.
 */
#include <zxsync/buf.h>
#include <zxsync/log.h>
#include <zxsync/mime.h>
#include <zxsync/store.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <ctype.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* timestamptz <-> apr_time_t (microseconds since the epoch), exactly */
#define US(c) "(extract(epoch from " c ") * 1000000)::bigint"
#define TS(n) "('epoch'::timestamptz + (" n ")::bigint * interval '1 microsecond')"

#define ITEM_COLS(a) \
    a "id, " a "folder_id, " a "modseq, " a "deleted, " a "changed_by, " a "item_class, " \
    US(a "received") ", " a "size, " a "read, " a "answered, " a "forwarded, " a "last_verb, " \
    US(a "last_verb_time") ", " a "flag_status, " a "flag_type, " US(a "flag_start") ", " \
    US(a "flag_due") ", " US(a "flag_utc_start") ", " US(a "flag_utc_due") ", " \
    US(a "flag_complete_time") ", " US(a "flag_date_completed") ", " a "flag_reminder_set, " \
    US(a "flag_reminder_time") ", " a "flag_subject, " US(a "flag_ordinal_date") ", " \
    a "flag_sub_ordinal_date, " a "categories, " a "subject, " a "from_addr, " a "to_addr, " \
    a "cc_addr, " a "reply_to, " a "message_hdr_id, " a "thread_topic, " a "importance, " \
    a "message_class, " a "content_class, " a "native_body_type, " a "has_attachments, " \
    a "created_modseq, " a "created_by, encode(" a "conversation_id, 'hex')"

/* the columns a moved item keeps */
#define COPY_COLS \
    "message_id, item_class, received, size, read, answered, forwarded, last_verb, " \
    "last_verb_time, flag_status, flag_type, flag_start, flag_due, flag_utc_start, " \
    "flag_utc_due, flag_complete_time, flag_date_completed, flag_reminder_set, " \
    "flag_reminder_time, flag_subject, flag_ordinal_date, flag_sub_ordinal_date, categories, " \
    "subject, from_addr, to_addr, cc_addr, reply_to, message_hdr_id, thread_topic, importance, " \
    "message_class, content_class, native_body_type, has_attachments, conversation_id"

#define FOLDER_COLS(a) \
    a "id, coalesce(" a "parent_id, 0), " a "name, " a "type, " a "item_class, " a "system, " \
    a "created_seq, " a "changed_seq, " a "deleted, " a "modseq, " a "created_by, " a "changed_by"

#define NOTIFY_SQL "SELECT pg_notify('zx_mailbox', $1::text)"

/* ---- helpers ------------------------------------------------------------------------------- */

static int valid_id(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 18)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

static const char *val(apr_pool_t *p, PGresult *res, int r, int c)
{
    if (PQgetisnull(res, r, c))
        return NULL;
    return apr_pstrmemdup(p, PQgetvalue(res, r, c), (apr_size_t)PQgetlength(res, r, c));
}

static long long ival(PGresult *res, int r, int c)
{
    return PQgetisnull(res, r, c) ? 0 : strtoll(PQgetvalue(res, r, c), NULL, 10);
}

static int bval(PGresult *res, int r, int c)
{
    return !PQgetisnull(res, r, c) && PQgetvalue(res, r, c)[0] == 't';
}

/* big-endian integers of binary results */
static long long bin_int(PGresult *res, int r, int c)
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

static const char *lltoa(apr_pool_t *p, long long v)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)v);   /* APR has no %lld */
}

static const char *time_param(apr_pool_t *p, apr_time_t t)
{
    return t ? apr_psprintf(p, "%" APR_TIME_T_FMT, t) : NULL;
}

/* PostgreSQL text[] output ({a,"b c"}) -> array of const char * */
static apr_array_header_t *parse_text_array(apr_pool_t *p, const char *s)
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
static const char *text_array_literal(apr_pool_t *p, const apr_array_header_t *a)
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

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static zx_item *row_item(apr_pool_t *p, PGresult *res, int r)
{
    zx_item *it = apr_pcalloc(p, sizeof *it);
    it->id = val(p, res, r, 0);
    it->folder_id = val(p, res, r, 1);
    it->modseq = ival(res, r, 2);
    it->deleted = bval(res, r, 3);
    it->changed_by = val(p, res, r, 4);
    it->item_class = val(p, res, r, 5);
    it->received = (apr_time_t)ival(res, r, 6);
    it->size = (apr_size_t)ival(res, r, 7);
    it->read = bval(res, r, 8);
    it->answered = bval(res, r, 9);
    it->forwarded = bval(res, r, 10);
    it->last_verb = (int)ival(res, r, 11);
    it->last_verb_time = (apr_time_t)ival(res, r, 12);
    it->flag.status = (int)ival(res, r, 13);
    it->flag.flag_type = val(p, res, r, 14);
    it->flag.start = (apr_time_t)ival(res, r, 15);
    it->flag.due = (apr_time_t)ival(res, r, 16);
    it->flag.utc_start = (apr_time_t)ival(res, r, 17);
    it->flag.utc_due = (apr_time_t)ival(res, r, 18);
    it->flag.complete_time = (apr_time_t)ival(res, r, 19);
    it->flag.date_completed = (apr_time_t)ival(res, r, 20);
    it->flag.reminder_set = bval(res, r, 21);
    it->flag.reminder_time = (apr_time_t)ival(res, r, 22);
    it->flag.subject = val(p, res, r, 23);
    it->flag.ordinal_date_set = !PQgetisnull(res, r, 24);
    it->flag.ordinal_date = (apr_time_t)ival(res, r, 24);
    it->flag.sub_ordinal_date = val(p, res, r, 25);
    it->categories = parse_text_array(p, PQgetvalue(res, r, 26));
    it->subject = val(p, res, r, 27);
    it->from = val(p, res, r, 28);
    it->to = val(p, res, r, 29);
    it->cc = val(p, res, r, 30);
    it->reply_to = val(p, res, r, 31);
    it->message_id = val(p, res, r, 32);
    it->thread_topic = val(p, res, r, 33);
    it->importance = (int)ival(res, r, 34);
    it->message_class = val(p, res, r, 35);
    it->content_class = val(p, res, r, 36);
    it->native_body_type = (int)ival(res, r, 37);
    it->has_attachments = bval(res, r, 38);
    it->created_modseq = ival(res, r, 39);
    it->created_by = val(p, res, r, 40);
    const char *hex = PQgetisnull(res, r, 41) ? NULL : PQgetvalue(res, r, 41);
    if (hex && strlen(hex) == 32) {
        unsigned char *cid = apr_palloc(p, 16);
        for (int i = 0; i < 16; i++)
            cid[i] = (unsigned char)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
        it->conversation_id = cid;
    }
    return it;
}

static zx_folder *row_folder(apr_pool_t *p, PGresult *res, int r, int c0)
{
    zx_folder *f = apr_pcalloc(p, sizeof *f);
    f->id = val(p, res, r, c0 + 0);
    f->parent_id = val(p, res, r, c0 + 1);
    f->name = val(p, res, r, c0 + 2);
    f->type = (int)ival(res, r, c0 + 3);
    f->item_class = val(p, res, r, c0 + 4);
    f->system = bval(res, r, c0 + 5);
    f->created_seq = ival(res, r, c0 + 6);
    f->changed_seq = ival(res, r, c0 + 7);
    f->deleted = bval(res, r, c0 + 8);
    f->modseq = ival(res, r, c0 + 9);
    f->created_by = val(p, res, r, c0 + 10);
    f->changed_by = val(p, res, r, c0 + 11);
    return f;
}

static int notify(zx_store *st, const char **err)
{
    const char *params[1] = {st->account_id};
    return zx_db_run(st->db, NOTIFY_SQL, 1, params, err) < 0 ? ZX_STORE_ERROR : ZX_STORE_OK;
}

static apr_array_header_t *items_of(apr_pool_t *p, PGresult *res, int max)
{
    int n = PQntuples(res);
    if (max >= 0 && n > max)
        n = max;
    apr_array_header_t *a = apr_array_make(p, n > 0 ? n : 1, sizeof(zx_item *));
    for (int r = 0; r < n; r++)
        APR_ARRAY_PUSH(a, zx_item *) = row_item(p, res, r);
    return a;
}

/* ---- the mailbox and its folders -------------------------------------------------------------- */

/* The standard folders, created with the mailbox in one statement (nothing when it exists). */
static const char SQL_ENSURE[] =
    "WITH mb AS (INSERT INTO mailboxes (account_id, hier_seq) VALUES ($1::bigint, 1) "
    "            ON CONFLICT DO NOTHING RETURNING account_id) "
    "INSERT INTO folders (account_id, name, type, item_class, system, created_seq, changed_seq) "
    "SELECT mb.account_id, v.name, v.type, v.cls, true, 1, 1 FROM mb, (VALUES "
    "  (1, 'Inbox', 2, 'Email'), (2, 'Drafts', 3, 'Email'), (3, 'Deleted Items', 4, 'Email'), "
    "  (4, 'Sent Items', 5, 'Email'), (5, 'Outbox', 6, 'Email'), (6, 'Junk E-Mail', 12, 'Email'), "
    "  (7, 'Calendar', 8, 'Calendar'), (8, 'Contacts', 9, 'Contacts'), (9, 'Tasks', 7, 'Tasks'), "
    "  (10, 'Notes', 10, 'Notes')) AS v(ord, name, type, cls) ORDER BY v.ord";

static int pg_ensure_mailbox(zx_store *st, const char **err)
{
    const char *params[1] = {st->account_id};
    return zx_db_run(st->db, SQL_ENSURE, 1, params, err) < 0 ? ZX_STORE_ERROR : ZX_STORE_OK;
}

static int pg_folders(zx_store *st, long long since, apr_array_header_t **out, long long *now,
                      const char **err)
{
    const char *sql =
        "SELECT mb.hier_seq, " FOLDER_COLS("f.") " FROM (SELECT $1::bigint AS account_id) a "
        "LEFT JOIN mailboxes mb ON mb.account_id = a.account_id "
        "LEFT JOIN folders f ON f.account_id = a.account_id AND f.changed_seq > $2::bigint "
        "     AND ($2::bigint > 0 OR NOT f.deleted) "
        "ORDER BY f.changed_seq, f.id";
    const char *params[2] = {st->account_id, lltoa(st->pool, since)};
    for (int attempt = 0; attempt < 2; attempt++) {
        PGresult *res = zx_db_exec(st->db, sql, 2, params, err);
        if (!res)
            return ZX_STORE_ERROR;
        if (PQgetisnull(res, 0, 0)) {
            PQclear(res);
            if (attempt == 0 && pg_ensure_mailbox(st, err) < 0)
                return ZX_STORE_ERROR;
            continue;
        }
        *now = ival(res, 0, 0);
        int n = PQntuples(res);
        apr_array_header_t *a = apr_array_make(st->pool, n, sizeof(zx_folder *));
        for (int r = 0; r < n; r++)
            if (!PQgetisnull(res, r, 1))
                APR_ARRAY_PUSH(a, zx_folder *) = row_folder(st->pool, res, r, 1);
        PQclear(res);
        *out = a;
        return ZX_STORE_OK;
    }
    *err = "the mailbox cannot be created";
    return ZX_STORE_ERROR;
}

/* One folder from a query whose columns are FOLDER_COLS. */
static int one_folder(zx_store *st, const char *sql, int n, const char *const *params,
                      zx_folder **out, const char **err)
{
    *out = NULL;
    PGresult *res = zx_db_exec(st->db, sql, n, params, err);
    if (!res)
        return ZX_STORE_ERROR;
    if (PQntuples(res) > 0)
        *out = row_folder(st->pool, res, 0, 0);
    PQclear(res);
    return *out ? ZX_STORE_OK : ZX_STORE_NOT_FOUND;
}

static int pg_folder_get(zx_store *st, const char *id, zx_folder **out, const char **err)
{
    *out = NULL;
    if (!valid_id(id))
        return ZX_STORE_NOT_FOUND;
    const char *params[2] = {id, st->account_id};
    return one_folder(st, "SELECT " FOLDER_COLS("") " FROM folders WHERE id = $1::bigint "
                      "AND account_id = $2::bigint AND NOT deleted", 2, params, out, err);
}

static int pg_folder_by_type(zx_store *st, int type, zx_folder **out, const char **err)
{
    const char *params[2] = {st->account_id, apr_itoa(st->pool, type)};
    const char *sql = "SELECT " FOLDER_COLS("") " FROM folders WHERE account_id = $1::bigint "
                      "AND type = $2::smallint AND system AND NOT deleted";
    int rc = one_folder(st, sql, 2, params, out, err);
    if (rc != ZX_STORE_NOT_FOUND)
        return rc;
    if (pg_ensure_mailbox(st, err) < 0)
        return ZX_STORE_ERROR;
    return one_folder(st, sql, 2, params, out, err);
}

static int pg_folder_find(zx_store *st, const char *spec, zx_folder **out, const char **err)
{
    *out = NULL;
    if (valid_id(spec))
        return pg_folder_get(st, spec, out, err);
    if (!spec || !*spec)
        return ZX_STORE_NOT_FOUND;
    if (pg_ensure_mailbox(st, err) < 0)
        return ZX_STORE_ERROR;
    const char *parent = "0";
    char *path = apr_pstrdup(st->pool, spec), *last = NULL;
    zx_folder *f = NULL;
    for (char *name = apr_strtok(path, "/", &last); name; name = apr_strtok(NULL, "/", &last)) {
        const char *params[3] = {st->account_id, parent, name};
        int rc = one_folder(st, "SELECT " FOLDER_COLS("") " FROM folders WHERE account_id = "
                            "$1::bigint AND coalesce(parent_id, 0) = $2::bigint AND "
                            "lower(name) = lower($3) AND NOT deleted", 3, params, &f, err);
        if (rc != ZX_STORE_OK)
            return rc;
        parent = f->id;
    }
    *out = f;
    return f ? ZX_STORE_OK : ZX_STORE_NOT_FOUND;
}

static int user_folder_type(int type)
{
    return type == ZX_FOLDER_USER_GENERIC || (type >= ZX_FOLDER_USER_MAIL &&
                                              type <= ZX_FOLDER_USER_NOTES);
}

static int valid_folder_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 1 || n > 256)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20)
            return 0;
    return 1;
}

/* Next hierarchy sequence: locks the account's hierarchy until the transaction ends. */
static int next_hier_seq(zx_store *st, long long *seq, const char **err)
{
    const char *params[1] = {st->account_id};
    PGresult *res = zx_db_exec(st->db, "UPDATE mailboxes SET hier_seq = hier_seq + 1 "
                               "WHERE account_id = $1::bigint RETURNING hier_seq", 1, params, err);
    if (!res)
        return ZX_STORE_ERROR;
    int found = PQntuples(res) == 1;
    *seq = found ? ival(res, 0, 0) : 0;
    PQclear(res);
    if (!found) {
        *err = "the account has no mailbox";
        return ZX_STORE_ERROR;
    }
    return ZX_STORE_OK;
}

static int exists(zx_store *st, const char *sql, int n, const char *const *params, int *yes,
                  const char **err)
{
    PGresult *res = zx_db_exec(st->db, sql, n, params, err);
    if (!res)
        return ZX_STORE_ERROR;
    *yes = PQntuples(res) > 0;
    PQclear(res);
    return ZX_STORE_OK;
}

static const char SQL_SIBLING[] =
    "SELECT 1 FROM folders WHERE account_id = $1::bigint AND coalesce(parent_id, 0) = $2::bigint "
    "AND lower(name) = lower($3) AND NOT deleted AND id <> $4::bigint";

static int folder_create_tx(zx_store *st, const char *parent, const char *name, int type,
                            const char *device, zx_folder **out, const char **err)
{
    long long seq;
    int yes;
    if (next_hier_seq(st, &seq, err) < 0)
        return ZX_STORE_ERROR;
    if (strcmp(parent, "0") != 0) {
        const char *pp[2] = {parent, st->account_id};
        if (exists(st, "SELECT 1 FROM folders WHERE id = $1::bigint AND account_id = $2::bigint "
                   "AND NOT deleted", 2, pp, &yes, err) < 0)
            return ZX_STORE_ERROR;
        if (!yes)
            return ZX_STORE_PARENT_NOT_FOUND;
    }
    const char *sp[4] = {st->account_id, parent, name, "0"};
    if (exists(st, SQL_SIBLING, 4, sp, &yes, err) < 0)
        return ZX_STORE_ERROR;
    if (yes)
        return ZX_STORE_EXISTS;
    const char *ip[6] = {st->account_id, parent, name, apr_itoa(st->pool, type),
                         zx_store_type_class(type), lltoa(st->pool, seq)};
    const char *params[7] = {ip[0], ip[1], ip[2], ip[3], ip[4], ip[5], device};
    int rc = one_folder(st, "INSERT INTO folders AS f (account_id, parent_id, name, type, "
                        "item_class, created_seq, changed_seq, created_by, changed_by) VALUES "
                        "($1::bigint, nullif($2::bigint, 0), $3, $4::smallint, $5, $6::bigint, "
                        "$6::bigint, $7::bigint, $7::bigint) RETURNING " FOLDER_COLS("f."),
                        7, params, out, err);
    if (rc != ZX_STORE_OK)
        return rc == ZX_STORE_NOT_FOUND ? ZX_STORE_ERROR : rc;
    return notify(st, err);
}

static int pg_folder_create(zx_store *st, const char *parent_id, const char *name, int type,
                            const char *device, zx_folder **out, const char **err)
{
    *out = NULL;
    if (!valid_folder_name(name) || !user_folder_type(type))
        return ZX_STORE_INVALID;
    const char *parent = parent_id && *parent_id ? parent_id : "0";
    if (!valid_id(parent))
        return ZX_STORE_PARENT_NOT_FOUND;
    if (pg_ensure_mailbox(st, err) < 0)
        return ZX_STORE_ERROR;
    int own;
    if (zx_db_tx_begin(st->db, &own, err) < 0)
        return ZX_STORE_ERROR;
    int rc = folder_create_tx(st, parent, name, type, device, out, err);
    if (rc > 0)
        *out = NULL;
    return zx_db_tx_end(st->db, own, rc, err);
}

static int folder_update_tx(zx_store *st, const char *id, const char *parent_id,
                            const char *name, const char *device, const char **err)
{
    long long seq;
    zx_folder *f;
    if (next_hier_seq(st, &seq, err) < 0)
        return ZX_STORE_ERROR;
    int rc = pg_folder_get(st, id, &f, err);
    if (rc != ZX_STORE_OK)
        return rc;
    if (f->system)
        return ZX_STORE_SYSTEM;
    const char *parent = parent_id && *parent_id ? parent_id : f->parent_id;
    const char *newname = name ? name : f->name;
    if (!valid_folder_name(newname))
        return ZX_STORE_INVALID;
    if (!valid_id(parent))
        return ZX_STORE_PARENT_NOT_FOUND;
    int yes;
    if (strcmp(parent, f->parent_id) != 0 && strcmp(parent, "0") != 0) {
        const char *pp[2] = {parent, st->account_id};
        if (exists(st, "SELECT 1 FROM folders WHERE id = $1::bigint AND account_id = $2::bigint "
                   "AND NOT deleted", 2, pp, &yes, err) < 0)
            return ZX_STORE_ERROR;
        if (!yes)
            return ZX_STORE_PARENT_NOT_FOUND;
        /* not into itself or one of its subfolders */
        const char *up[2] = {parent, id};
        if (exists(st, "WITH RECURSIVE up AS (SELECT id, parent_id FROM folders WHERE id = "
                   "$1::bigint UNION ALL SELECT f.id, f.parent_id FROM folders f JOIN up ON "
                   "f.id = up.parent_id) SELECT 1 FROM up WHERE id = $2::bigint", 2, up, &yes,
                   err) < 0)
            return ZX_STORE_ERROR;
        if (yes)
            return ZX_STORE_INVALID;
    }
    if (strcmp(parent, f->parent_id) == 0 && strcmp(newname, f->name) == 0)
        return ZX_STORE_OK;     /* nothing changes */
    const char *sp[4] = {st->account_id, parent, newname, id};
    if (exists(st, SQL_SIBLING, 4, sp, &yes, err) < 0)
        return ZX_STORE_ERROR;
    if (yes)
        return ZX_STORE_EXISTS;
    const char *params[5] = {id, parent, newname, lltoa(st->pool, seq), device};
    if (zx_db_run(st->db, "UPDATE folders SET parent_id = nullif($2::bigint, 0), name = $3, "
                  "changed_seq = $4::bigint, changed_by = $5::bigint WHERE id = $1::bigint",
                  5, params, err) < 0)
        return ZX_STORE_ERROR;
    return notify(st, err);
}

static int pg_folder_update(zx_store *st, const char *id, const char *parent_id,
                            const char *name, const char *device, const char **err)
{
    if (!valid_id(id))
        return ZX_STORE_NOT_FOUND;
    if (pg_ensure_mailbox(st, err) < 0)
        return ZX_STORE_ERROR;
    int own;
    if (zx_db_tx_begin(st->db, &own, err) < 0)
        return ZX_STORE_ERROR;
    int rc = folder_update_tx(st, id, parent_id, name, device, err);
    return zx_db_tx_end(st->db, own, rc, err);
}

/* Messages no item refers to any more. */
static int drop_messages(zx_store *st, const char *ids_literal, const char **err)
{
    const char *params[1] = {ids_literal};
    return zx_db_run(st->db, "DELETE FROM messages m WHERE m.id = ANY($1::bigint[]) AND NOT "
                     "EXISTS (SELECT 1 FROM items i WHERE i.message_id = m.id)", 1, params,
                     err) < 0 ? ZX_STORE_ERROR : ZX_STORE_OK;
}

/* ids of the first column of res as a bigint[] literal */
static const char *id_list(apr_pool_t *p, PGresult *res)
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
static int finish_dropping(zx_store *st, PGresult *res, const char **err)
{
    if (!res)
        return ZX_STORE_ERROR;
    const char *ids = id_list(st->pool, res);
    PQclear(res);
    if (drop_messages(st, ids, err) < 0)
        return ZX_STORE_ERROR;
    return notify(st, err);
}

static int folder_delete_tx(zx_store *st, const char *id, const char *device, const char **err)
{
    long long seq;
    zx_folder *f;
    if (next_hier_seq(st, &seq, err) < 0)
        return ZX_STORE_ERROR;
    int rc = pg_folder_get(st, id, &f, err);
    if (rc != ZX_STORE_OK)
        return rc;
    if (f->system)
        return ZX_STORE_SYSTEM;
    const char *params[3] = {id, lltoa(st->pool, seq), device};
    PGresult *res = zx_db_exec(st->db,
        "WITH RECURSIVE sub AS (SELECT id FROM folders WHERE id = $1::bigint "
        "  UNION ALL SELECT f.id FROM folders f JOIN sub ON f.parent_id = sub.id WHERE NOT f.deleted), "
        "d AS (UPDATE folders SET deleted = true, changed_seq = $2::bigint, changed_by = $3::bigint "
        "      WHERE id IN (SELECT id FROM sub) RETURNING id), "
        "s AS (DELETE FROM sync_states WHERE folder_id IN (SELECT id FROM d)), "
        "i AS (DELETE FROM items WHERE folder_id IN (SELECT id FROM d) RETURNING message_id) "
        "SELECT DISTINCT message_id FROM i WHERE message_id IS NOT NULL", 3, params, err);
    return finish_dropping(st, res, err);
}

static int pg_folder_delete(zx_store *st, const char *id, const char *device, const char **err)
{
    if (!valid_id(id))
        return ZX_STORE_NOT_FOUND;
    if (pg_ensure_mailbox(st, err) < 0)
        return ZX_STORE_ERROR;
    int own;
    if (zx_db_tx_begin(st->db, &own, err) < 0)
        return ZX_STORE_ERROR;
    int rc = folder_delete_tx(st, id, device, err);
    return zx_db_tx_end(st->db, own, rc, err);
}

/* ---- reading items -------------------------------------------------------------------------- */

static int pg_changes(zx_store *st, const char *folder_id, long long since,
                      apr_time_t received_after, int limit, apr_array_header_t **out, int *more,
                      const char **err)
{
    *out = NULL;
    *more = 0;
    if (!valid_id(folder_id))
        return ZX_STORE_NOT_FOUND;
    if (limit < 0)
        limit = 0;
    const char *params[5] = {folder_id, st->account_id, lltoa(st->pool, since),
                             apr_itoa(st->pool, limit + 1), time_param(st->pool, received_after)};
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
    *out = items_of(st->pool, res, limit);
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
    if (!valid_id(folder_id))
        return ZX_STORE_NOT_FOUND;
    if (limit < 1)
        limit = 1;
    int cursor = pos->cursor_id && valid_id(pos->cursor_id);
    const char *params[7] = {folder_id, st->account_id, lltoa(st->pool, pos->modseq),
                             apr_itoa(st->pool, limit),
                             time_param(st->pool, received_after),
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
    *out = items_of(st->pool, res, live);
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
                       apr_time_t received_after, const char *device, long long *count,
                       const char **err)
{
    *count = 0;
    if (!valid_id(folder_id))
        return ZX_STORE_NOT_FOUND;
    int cursor = pos->enumerating && pos->cursor_id && valid_id(pos->cursor_id);
    const char *params[7] = {folder_id, st->account_id, lltoa(st->pool, pos->modseq), device,
                             time_param(st->pool, received_after),
                             cursor ? apr_psprintf(st->pool, "%" APR_TIME_T_FMT,
                                                   pos->cursor_received) : NULL,
                             cursor ? pos->cursor_id : NULL};
    /* changes after modseq as Sync classifies them (see eas/syncstate.c), plus what is left of
     * the enumeration */
    PGresult *res = zx_db_exec(st->db,
        "SELECT (SELECT count(*) FROM items i WHERE i.folder_id = $1::bigint AND "
        "  i.account_id = $2::bigint AND i.modseq > $3::bigint AND "
        "  CASE WHEN i.created_modseq <= $3::bigint OR i.created_by = $4::bigint "
        "       THEN i.changed_by IS DISTINCT FROM $4::bigint AND (i.deleted OR $5::bigint IS NULL "
        "            OR i.received >= " TS("$5") ") AND (i.id, i.modseq) NOT IN "
        "            (SELECT a.id, a.m FROM unnest($9::bigint[], $10::bigint[]) AS a(id, m)) "
        "       ELSE NOT i.deleted AND ($5::bigint IS NULL OR i.received >= " TS("$5") ") END), "
        " CASE WHEN $6::bigint IS NULL AND NOT $8::boolean THEN 0 ELSE "
        " (SELECT count(*) FROM items i WHERE i.folder_id = $1::bigint AND "
        "  i.account_id = $2::bigint AND NOT i.deleted AND i.created_modseq <= $3::bigint AND "
        "  ($5::bigint IS NULL OR i.received >= " TS("$5") ") AND ($6::bigint IS NULL OR "
        "  (i.received, i.id) < (" TS("$6") ", $7::bigint))) END",
        10, (const char *const[]){params[0], params[1], params[2], params[3], params[4],
                                  params[5], params[6], pos->enumerating ? "t" : "f",
                                  ahead_ids(st->pool, pos->ahead, 0),
                                  ahead_ids(st->pool, pos->ahead, 1)}, err);
    if (!res)
        return ZX_STORE_ERROR;
    *count = ival(res, 0, 0) + ival(res, 0, 1);
    PQclear(res);
    return ZX_STORE_OK;
}

static int pg_item_get(zx_store *st, const char *id, zx_item **out, const char **err)
{
    *out = NULL;
    if (!valid_id(id))
        return ZX_STORE_NOT_FOUND;
    const char *params[2] = {id, st->account_id};
    PGresult *res = zx_db_exec(st->db, "SELECT " ITEM_COLS("i.") " FROM items i WHERE "
                               "i.id = $1::bigint AND i.account_id = $2::bigint AND NOT i.deleted",
                               2, params, err);
    if (!res)
        return ZX_STORE_ERROR;
    if (PQntuples(res) == 1)
        *out = row_item(st->pool, res, 0);
    PQclear(res);
    return *out ? ZX_STORE_OK : ZX_STORE_NOT_FOUND;
}

static int pg_item_tombstone(zx_store *st, const char *id, zx_item **out, const char **err)
{
    *out = NULL;
    if (!valid_id(id))
        return ZX_STORE_NOT_FOUND;
    const char *params[2] = {id, st->account_id};
    PGresult *res = zx_db_exec(st->db, "SELECT " ITEM_COLS("i.") ", i.moved_to FROM items i "
                               "WHERE i.id = $1::bigint AND i.account_id = $2::bigint AND "
                               "i.deleted", 2, params, err);
    if (!res)
        return ZX_STORE_ERROR;
    if (PQntuples(res) == 1) {
        *out = row_item(st->pool, res, 0);
        (*out)->moved_to = val(st->pool, res, 0, PQnfields(res) - 1);
    }
    PQclear(res);
    return *out ? ZX_STORE_OK : ZX_STORE_NOT_FOUND;
}

static int pg_item_mime(zx_store *st, const char *id, const char **data, apr_size_t *len,
                        const char **err)
{
    *data = NULL;
    *len = 0;
    if (!valid_id(id))
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
    const char *np = want->plain < 0 || want->plain > 1000000000 ? NULL : lltoa(p, want->plain);
    const char *nh = want->html < 0 || want->html > 1000000000 ? NULL : lltoa(p, want->html);
    const char *nm = want->mime < 0 || want->mime > 1000000000 ? NULL : lltoa(p, want->mime);
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
        zx_item *it = apr_hash_get(by_id, lltoa(p, bin_int(res, r, 0)), APR_HASH_KEY_STRING);
        if (!it)
            continue;
        zx_item_content *c = apr_pcalloc(p, sizeof *c);
        if (want->plain != 0 && !PQgetisnull(res, r, 1)) {
            apr_size_t l = (apr_size_t)PQgetlength(res, r, 1);
            c->text_plain = apr_pstrmemdup(p, PQgetvalue(res, r, 1), l);
        }
        c->plain_size = (apr_size_t)bin_int(res, r, 2);
        if (want->html != 0 && !PQgetisnull(res, r, 3)) {
            apr_size_t l = (apr_size_t)PQgetlength(res, r, 3);
            c->text_html = apr_pstrmemdup(p, PQgetvalue(res, r, 3), l);
        }
        c->html_size = (apr_size_t)bin_int(res, r, 4);
        c->preview = val(p, res, r, 5);
        if (want->mime != 0 && !PQgetisnull(res, r, 6)) {
            c->mime_len = (apr_size_t)PQgetlength(res, r, 6);
            c->mime = apr_pstrmemdup(p, PQgetvalue(res, r, 6), c->mime_len);
        }
        c->mime_size = (apr_size_t)bin_int(res, r, 7);
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
        a->part = (int)ival(res, r, 1);
        a->name = val(p, res, r, 2);
        a->content_type = val(p, res, r, 3);
        a->content_id = val(p, res, r, 4);
        a->content_location = val(p, res, r, 5);
        a->is_inline = bval(res, r, 6);
        a->size = (apr_size_t)ival(res, r, 7);
    }
    PQclear(res);
    return ZX_STORE_OK;
}

/* ---- changing items ------------------------------------------------------------------------ */

static int pg_item_update(zx_store *st, const char *id, const zx_item_changes *ch,
                          const char *device, const char **err)
{
    if (!valid_id(id))
        return ZX_STORE_NOT_FOUND;
    apr_pool_t *p = st->pool;
    const zx_flag *fl = ch->flag;
    int clear = fl && fl->status == 0;
#define FLAGT(x) (fl && !clear ? time_param(p, (x)) : NULL)
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
        fl && !clear && fl->ordinal_date_set ? time_param(p, fl->ordinal_date) : NULL,
        fl && !clear ? fl->sub_ordinal_date : NULL,
        ch->categories ? text_array_literal(p, ch->categories) : NULL,
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
    long long n = ival(res, 0, 0);
    PQclear(res);
    return n == 1 ? ZX_STORE_OK : ZX_STORE_NOT_FOUND;
}

/* Take the next modseq of a folder (locks it until the transaction ends). */
static int next_modseq(zx_store *st, const char *folder_id, long long n, long long *modseq,
                       const char **err)
{
    const char *params[3] = {folder_id, st->account_id, lltoa(st->pool, n)};
    PGresult *res = zx_db_exec(st->db, "UPDATE folders SET modseq = modseq + $3::bigint WHERE "
                               "id = $1::bigint AND account_id = $2::bigint AND NOT deleted "
                               "RETURNING modseq", 3, params, err);
    if (!res)
        return ZX_STORE_ERROR;
    int found = PQntuples(res) == 1;
    *modseq = found ? ival(res, 0, 0) : 0;
    PQclear(res);
    return found ? ZX_STORE_OK : ZX_STORE_NOT_FOUND;
}

/* Move: a new item in dst created by dst_by, and changed by it when the source is still at
 * version seen (else by the server), the source a tombstone changed by src_by. */
static int move_tx(zx_store *st, const char *id, const char *src, const char *dst,
                   const char *src_by, const char *dst_by, long long seen, const char **new_id,
                   const char **err)
{
    long long sm = 0, dm = 0;
    /* lock both folders in id order */
    int src_first = strtoll(src, NULL, 10) < strtoll(dst, NULL, 10);
    int rc = next_modseq(st, src_first ? src : dst, 1, src_first ? &sm : &dm, err);
    if (rc == ZX_STORE_OK)
        rc = next_modseq(st, src_first ? dst : src, 1, src_first ? &dm : &sm, err);
    if (rc != ZX_STORE_OK)
        return rc;
    const char *params[7] = {id, st->account_id, dst, lltoa(st->pool, dm), dst_by, src,
                             lltoa(st->pool, seen)};
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
    const char *moved_to = val(st->pool, res, 0, 0);
    if (new_id)
        *new_id = moved_to;
    PQclear(res);
    const char *up[4] = {id, lltoa(st->pool, sm), src_by, moved_to};
    if (zx_db_run(st->db, "UPDATE items SET deleted = true, message_id = NULL, modseq = "
                  "$2::bigint, changed_by = $3::bigint, moved_to = $4::bigint WHERE "
                  "id = $1::bigint", 4, up, err) < 0)
        return ZX_STORE_ERROR;
    return notify(st, err);
}

static int move_item(zx_store *st, const char *id, const char *dst, const char *src_by,
                     const char *dst_by, long long seen, const char **new_id, const char **err)
{
    if (new_id)
        *new_id = NULL;
    if (!valid_id(id))
        return ZX_STORE_NOT_FOUND;
    if (!valid_id(dst))
        return ZX_STORE_PARENT_NOT_FOUND;
    zx_item *it;
    zx_folder *f;
    int rc = pg_item_get(st, id, &it, err);
    if (rc != ZX_STORE_OK)
        return rc;
    rc = pg_folder_get(st, dst, &f, err);
    if (rc != ZX_STORE_OK)
        return rc == ZX_STORE_NOT_FOUND ? ZX_STORE_PARENT_NOT_FOUND : rc;
    if (strcmp(it->folder_id, f->id) == 0)
        return ZX_STORE_INVALID;
    int own;
    if (zx_db_tx_begin(st->db, &own, err) < 0)
        return ZX_STORE_ERROR;
    rc = move_tx(st, id, it->folder_id, f->id, src_by, dst_by, seen, new_id, err);
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
    if (!valid_id(id))
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
        rc = ival(res, 0, 0) == 1 ? ZX_STORE_OK : ZX_STORE_NOT_FOUND;
        const char *msg = val(st->pool, res, 0, 1);
        PQclear(res);
        if (rc == ZX_STORE_OK && msg)
            rc = drop_messages(st, apr_pstrcat(st->pool, "{", msg, "}", NULL), err);
        if (rc == ZX_STORE_OK)
            rc = notify(st, err);
    }
    return zx_db_tx_end(st->db, own, rc, err);
}

static int folder_empty_tx(zx_store *st, const char *folder_id, const char *device,
                           const char **err)
{
    const char *cp[2] = {folder_id, st->account_id};
    /* lock the folder first, then count what it holds */
    long long base;
    int rc = next_modseq(st, folder_id, 0, &base, err);
    if (rc != ZX_STORE_OK)
        return rc;
    PGresult *res = zx_db_exec(st->db, "SELECT count(*) FROM items WHERE folder_id = $1::bigint "
                               "AND account_id = $2::bigint AND NOT deleted", 2, cp, err);
    if (!res)
        return ZX_STORE_ERROR;
    long long n = ival(res, 0, 0);
    PQclear(res);
    if (n == 0)
        return ZX_STORE_OK;
    long long top;
    if (next_modseq(st, folder_id, n, &top, err) != ZX_STORE_OK)
        return ZX_STORE_ERROR;
    const char *params[4] = {folder_id, st->account_id, lltoa(st->pool, top - n), device};
    res = zx_db_exec(st->db,
        "WITH live AS (SELECT id, message_id, row_number() OVER (ORDER BY id) AS rn FROM items "
        "              WHERE folder_id = $1::bigint AND account_id = $2::bigint AND NOT deleted), "
        "u AS (UPDATE items i SET deleted = true, message_id = NULL, modseq = $3::bigint + live.rn, "
        "      changed_by = $4::bigint FROM live WHERE i.id = live.id) "
        "SELECT DISTINCT message_id FROM live", 4, params, err);
    return finish_dropping(st, res, err);
}

static int pg_folder_empty(zx_store *st, const char *folder_id, int include_subfolders,
                           const char *device, const char **err)
{
    if (!valid_id(folder_id))
        return ZX_STORE_NOT_FOUND;
    int own;
    if (zx_db_tx_begin(st->db, &own, err) < 0)
        return ZX_STORE_ERROR;
    int rc = folder_empty_tx(st, folder_id, device, err);
    if (rc == ZX_STORE_OK && include_subfolders) {
        const char *params[2] = {folder_id, st->account_id};
        PGresult *res = zx_db_exec(st->db, "SELECT id FROM folders WHERE parent_id = $1::bigint "
                                   "AND account_id = $2::bigint AND NOT deleted AND NOT system",
                                   2, params, err);
        if (!res)
            rc = ZX_STORE_ERROR;
        for (int r = 0; res && r < PQntuples(res) && rc == ZX_STORE_OK; r++) {
            if (pg_ensure_mailbox(st, err) < 0) {
                rc = ZX_STORE_ERROR;
                break;
            }
            rc = folder_delete_tx(st, PQgetvalue(res, r, 0), device, err);
        }
        if (res)
            PQclear(res);
    }
    return zx_db_tx_end(st->db, own, rc, err);
}

/* ---- delivery -------------------------------------------------------------------------------- */

/* First <id> of a header such as References. */
static const char *first_msgid(apr_pool_t *p, const char *s)
{
    if (!s)
        return NULL;
    const char *a = strchr(s, '<');
    const char *b = a ? strchr(a, '>') : NULL;
    if (a && b && b > a + 1)
        return apr_pstrmemdup(p, a + 1, (apr_size_t)(b - a - 1));
    while (*s == ' ' || *s == '\t')
        s++;
    return *s ? s : NULL;
}

/* ConversationId: 16 bytes shared by a thread, from its first message's id (References,
 * In-Reply-To) or, without those, from the thread topic. */
static const char *conversation_hex(apr_pool_t *p, const zx_mime_message *m)
{
    const char *root = first_msgid(p, m->references);
    if (!root)
        root = first_msgid(p, m->in_reply_to);
    if (!root && m->message_id && *m->message_id)
        root = m->message_id;
    if (!root)
        root = apr_pstrcat(p, "topic:", m->thread_topic ? m->thread_topic :
                           m->subject ? m->subject : "", NULL);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(root, strlen(root), md, &mdlen, EVP_md5(), NULL) || mdlen < 16)
        return NULL;
    char *hex = apr_palloc(p, 33);
    for (int i = 0; i < 16; i++)
        apr_snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return hex;
}

/* Up to 255 characters of the text, white space folded, for airsyncbase:Preview. */
static const char *make_preview(apr_pool_t *p, const char *text)
{
    zx_buf b;
    zx_buf_init(&b, p, 256);
    int chars = 0, space = 0;
    for (const unsigned char *s = (const unsigned char *)(text ? text : ""); *s && chars < 255;) {
        if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' || *s == '\f' || *s == '\v') {
            space = b.len > 0;
            s++;
            continue;
        }
        if (space) {
            zx_buf_putc(&b, ' ');
            chars++;
            space = 0;
            if (chars >= 255)
                break;
        }
        apr_size_t n = 1;
        while (s[n] && (s[n] & 0xC0) == 0x80)
            n++;
        zx_buf_append(&b, s, n);
        s += n;
        chars++;
    }
    return b.data;
}

static int pg_deliver_at(zx_store *st, const char *folder_id, const char *data, apr_size_t len,
                         int read, apr_time_t received, zx_item **out, const char **err)
{
    apr_pool_t *p = st->pool;
    *out = NULL;
    zx_folder *f = NULL;
    int rc;
    if (!folder_id || !*folder_id)
        rc = pg_folder_by_type(st, ZX_FOLDER_INBOX, &f, err);
    else
        rc = pg_folder_get(st, folder_id, &f, err);
    if (rc != ZX_STORE_OK)
        return rc;
    zx_mime_message *m = NULL;
    if (!data)
        data = "";
    if (zx_mime_parse(p, data, len, &m, err) < 0)
        return ZX_STORE_ERROR;
    const char *plain = m->text_plain;
    if (!plain && m->text_html)
        plain = zx_mime_html_to_text(p, m->text_html);
    if (!plain)
        plain = "";
    /* attachments as parallel arrays */
    apr_array_header_t *parts = apr_array_make(p, 4, sizeof(const char *));
    apr_array_header_t *names = apr_array_make(p, 4, sizeof(const char *));
    apr_array_header_t *types = apr_array_make(p, 4, sizeof(const char *));
    apr_array_header_t *cids = apr_array_make(p, 4, sizeof(const char *));
    apr_array_header_t *locs = apr_array_make(p, 4, sizeof(const char *));
    apr_array_header_t *inl = apr_array_make(p, 4, sizeof(const char *));
    apr_array_header_t *sizes = apr_array_make(p, 4, sizeof(const char *));
    int natt = m->attachments ? m->attachments->nelts : 0;
    for (int i = 0; i < natt; i++) {
        const zx_mime_attachment *a = &APR_ARRAY_IDX(m->attachments, i, zx_mime_attachment);
        APR_ARRAY_PUSH(parts, const char *) = apr_itoa(p, a->part);
        APR_ARRAY_PUSH(names, const char *) = a->name ? a->name : "";
        APR_ARRAY_PUSH(types, const char *) = a->content_type ? a->content_type :
                                              "application/octet-stream";
        APR_ARRAY_PUSH(cids, const char *) = a->content_id ? a->content_id : "";
        APR_ARRAY_PUSH(locs, const char *) = a->content_location ? a->content_location : "";
        APR_ARRAY_PUSH(inl, const char *) = a->is_inline ? "t" : "f";
        APR_ARRAY_PUSH(sizes, const char *) = apr_psprintf(p, "%" APR_SIZE_T_FMT, a->size);
    }
    int nbt = m->native_body_type >= 1 && m->native_body_type <= 3 ? m->native_body_type :
              m->text_html && !m->text_plain ? 2 : 1;
    const char *params[30] = {
        f->id, st->account_id, data, plain, m->text_html, make_preview(p, plain),
        text_array_literal(p, parts), text_array_literal(p, names), text_array_literal(p, types),
        text_array_literal(p, cids), text_array_literal(p, locs), text_array_literal(p, inl),
        text_array_literal(p, sizes),
        received > 0 ? time_param(p, received) : NULL, apr_psprintf(p, "%" APR_SIZE_T_FMT, len),
        read ? "t" : "f", m->subject, m->from, m->to, m->cc, m->reply_to, m->message_id,
        m->thread_topic, apr_itoa(p, m->importance >= 0 && m->importance <= 2 ? m->importance : 1),
        m->message_class && *m->message_class ? m->message_class : "IPM.Note",
        m->content_class && *m->content_class ? m->content_class : "urn:content-classes:message",
        apr_itoa(p, nbt), natt > 0 ? "t" : "f", conversation_hex(p, m), NULL};
    int lengths[30] = {0};
    int formats[30] = {0};
    lengths[2] = (int)len;
    formats[2] = 1;
    PGresult *res = zx_db_exec_ex(st->db,
        "WITH f AS (UPDATE folders SET modseq = modseq + 1 WHERE id = $1::bigint AND "
        "           account_id = $2::bigint AND NOT deleted RETURNING id, modseq), "
        "m AS (INSERT INTO messages (account_id, mime, text_plain, text_html, preview) "
        "      SELECT $2::bigint, $3::bytea, $4::text, $5::text, $6::text FROM f RETURNING id), "
        "a AS (INSERT INTO message_attachments (message_id, part, name, content_type, content_id, "
        "      content_location, is_inline, size) SELECT m.id, t.part, nullif(t.name, ''), t.ct, "
        "      nullif(t.cid, ''), nullif(t.loc, ''), t.inl, t.size FROM m, unnest($7::integer[], "
        "      $8::text[], $9::text[], $10::text[], $11::text[], $12::boolean[], $13::bigint[]) "
        "      AS t(part, name, ct, cid, loc, inl, size) RETURNING 1), "
        "i AS (INSERT INTO items AS i (account_id, folder_id, modseq, created_modseq, message_id, "
        "      received, size, read, subject, from_addr, to_addr, cc_addr, reply_to, "
        "      message_hdr_id, thread_topic, importance, message_class, content_class, "
        "      native_body_type, has_attachments, conversation_id) "
        "      SELECT $2::bigint, f.id, f.modseq, f.modseq, m.id, coalesce(" TS("$14") ", now()), "
        "      $15::bigint, $16::boolean, $17, $18, $19, $20, $21, $22, $23, $24::smallint, $25, "
        "      $26, $27::smallint, $28::boolean, decode($29, 'hex') FROM f, m "
        "      RETURNING " ITEM_COLS("i.") ") "
        "SELECT i.*, (SELECT count(*) FROM a), pg_notify('zx_mailbox', $2::text) FROM i",
        29, params, lengths, formats, 0, err);
    if (!res)
        return ZX_STORE_ERROR;
    if (PQntuples(res) == 1)
        *out = row_item(p, res, 0);
    PQclear(res);
    return *out ? ZX_STORE_OK : ZX_STORE_NOT_FOUND;
}

static int pg_deliver(zx_store *st, const char *folder_id, const char *data, apr_size_t len,
                      int read, zx_item **out, const char **err)
{
    return pg_deliver_at(st, folder_id, data, len, read, 0, out, err);
}

static int pg_aged(zx_store *st, const char *folder_id, const zx_sync_pos *pos,
                   apr_time_t before, int limit, apr_array_header_t **out, const char **err)
{
    *out = apr_array_make(st->pool, 1, sizeof(zx_item *));
    if (!valid_id(folder_id) || !pos->aged_id || !valid_id(pos->aged_id) || before <= 0 ||
        before <= pos->aged_received)
        return ZX_STORE_OK;
    const char *params[7] = {folder_id, st->account_id, lltoa(st->pool, pos->modseq),
                             time_param(st->pool, pos->aged_received), pos->aged_id,
                             time_param(st->pool, before), apr_itoa(st->pool, limit)};
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
    *out = items_of(st->pool, res, -1);
    PQclear(res);
    return ZX_STORE_OK;
}

static int pg_purge_tombstones(zx_store *st, const char *folder_id, const char **err)
{
    if (!valid_id(folder_id))
        return ZX_STORE_NOT_FOUND;
    const char *params[2] = {folder_id, st->account_id};
    return zx_db_run(st->db,
        "DELETE FROM items WHERE folder_id = $1::bigint AND account_id = $2::bigint AND deleted "
        "AND modseq <= (SELECT coalesce(min(least(s.modseq, coalesce(s.prev_modseq, s.modseq))), "
        "               (SELECT modseq FROM folders WHERE id = $1::bigint)) "
        "               FROM sync_states s WHERE s.folder_id = $1::bigint)",
        2, params, err) < 0 ? ZX_STORE_ERROR : ZX_STORE_OK;
}

/* ---- synchronisation states --------------------------------------------------------------- */

/* position <-> (modseq, cursor): cursor NULL = enumeration done, "" = enumeration from the
 * newest item, "received_us:item_id" = after that item */
/* "received_us:item_id" */
static void parse_at(apr_pool_t *p, const char *c, apr_time_t *received, const char **id)
{
    const char *colon = strchr(c, ':');
    if (colon && valid_id(colon + 1)) {
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
    pos->modseq = ival(res, r, c_modseq);
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
        /* ids that are not numbers match no folder */
        if (!first)
            zx_buf_putc(&ids, ',');
        zx_buf_puts(&ids, valid_id(s->folder_id) ? s->folder_id : "0");
        first = 0;
    }
    zx_buf_putc(&ids, '}');
    if (n == 0)
        return ZX_STORE_OK;
    const char *params[3] = {ids.data, st->account_id, device};
    PGresult *res = zx_db_exec(st->db,
        "SELECT u.ord, " FOLDER_COLS("f.") ", s.sync_key, s.modseq, s.cursor, s.prev_key, "
        "s.prev_modseq, s.prev_cursor, s.filter_type, s.options, s.aged, s.prev_aged, "
        "s.ahead, s.prev_ahead "
        "FROM unnest($1::bigint[]) WITH ORDINALITY AS u(id, ord) "
        "JOIN folders f ON f.id = u.id AND f.account_id = $2::bigint AND NOT f.deleted "
        "LEFT JOIN sync_states s ON s.device_id = $3::bigint AND s.folder_id = f.id",
        3, params, err);
    if (!res)
        return ZX_STORE_ERROR;
    for (int r = 0; r < PQntuples(res); r++) {
        long long ord = ival(res, r, 0);
        if (ord < 1 || ord > n)
            continue;
        zx_sync_state *s = &states[ord - 1];
        s->folder = row_folder(p, res, r, 1);
        if (PQgetisnull(res, r, 13))
            continue;
        s->exists = 1;
        s->cur.key = ival(res, r, 13);
        pos_from(p, res, r, 14, 15, 21, 23, &s->cur.pos);
        s->prev.key = ival(res, r, 16);
        if (s->prev.key)
            pos_from(p, res, r, 17, 18, 22, 24, &s->prev.pos);
        s->filter_type = (int)ival(res, r, 19);
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
    }
    PQclear(res);
    return ZX_STORE_OK;
}

static int pg_sync_state_put(zx_store *st, const char *device, const zx_sync_state *s,
                             long long expect_key, const char **err)
{
    apr_pool_t *p = st->pool;
    if (!valid_id(s->folder_id) || !valid_id(device))
        return ZX_STORE_NOT_FOUND;
    const char *params[15] = {
        device, s->folder_id, lltoa(p, s->cur.key), lltoa(p, s->cur.pos.modseq),
        pos_cursor(p, &s->cur.pos),
        s->prev.key ? lltoa(p, s->prev.key) : NULL,
        s->prev.key ? lltoa(p, s->prev.pos.modseq) : NULL,
        s->prev.key ? pos_cursor(p, &s->prev.pos) : NULL,
        apr_itoa(p, s->filter_type), s->options, lltoa(p, expect_key),
        pos_aged(p, &s->cur.pos), s->prev.key ? pos_aged(p, &s->prev.pos) : NULL,
        ahead_text(p, &s->cur.pos), s->prev.key ? ahead_text(p, &s->prev.pos) : NULL};
    int lengths[15] = {0};
    int formats[15] = {0};
    lengths[9] = (int)s->options_len;
    formats[9] = 1;
    /* A new state is inserted only when the device had none (expect_key 0); otherwise only
     * the row still at expect_key is updated.  So a state dropped while this request was in
     * flight (doResetDevice, an ABQ status change) stays dropped: ZX_STORE_EXISTS. */
    PGresult *res = expect_key == 0
        ? zx_db_exec_ex(st->db,
            "INSERT INTO sync_states AS s (device_id, folder_id, sync_key, modseq, cursor, "
            "prev_key, prev_modseq, prev_cursor, filter_type, options, aged, prev_aged, ahead, "
            "prev_ahead) VALUES "
            "($1::bigint, $2::bigint, $3::bigint, $4::bigint, $5, $6::bigint, $7::bigint, $8, "
            "$9::smallint, $10::bytea, $12, $13, $14, $15) "
            "ON CONFLICT (device_id, folder_id) DO UPDATE SET sync_key = excluded.sync_key, "
            "modseq = excluded.modseq, cursor = excluded.cursor, prev_key = excluded.prev_key, "
            "prev_modseq = excluded.prev_modseq, prev_cursor = excluded.prev_cursor, "
            "filter_type = excluded.filter_type, options = excluded.options, "
            "aged = excluded.aged, prev_aged = excluded.prev_aged, ahead = excluded.ahead, "
            "prev_ahead = excluded.prev_ahead, updated_at = now() "
            "WHERE s.sync_key = $11::bigint RETURNING 1", 15, params, lengths, formats, 0, err)
        : zx_db_exec_ex(st->db,
            "UPDATE sync_states SET sync_key = $3::bigint, modseq = $4::bigint, cursor = $5, "
            "prev_key = $6::bigint, prev_modseq = $7::bigint, prev_cursor = $8, "
            "filter_type = $9::smallint, options = $10::bytea, aged = $12, prev_aged = $13, "
            "ahead = $14, prev_ahead = $15, "
            "updated_at = now() WHERE device_id = $1::bigint AND folder_id = $2::bigint AND "
            "sync_key = $11::bigint RETURNING 1", 15, params, lengths, formats, 0, err);
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
    if (!valid_id(device))
        return ZX_STORE_NOT_FOUND;
    const char *params[1] = {device};
    PGresult *res = zx_db_exec(st->db, "SELECT sync_key, hier_seq, prev_key, prev_hier_seq "
                               "FROM folder_states WHERE device_id = $1::bigint", 1, params, err);
    if (!res)
        return ZX_STORE_ERROR;
    if (PQntuples(res) == 1) {
        out->exists = 1;
        out->key = ival(res, 0, 0);
        out->hier_seq = ival(res, 0, 1);
        out->prev_key = ival(res, 0, 2);
        out->prev_hier_seq = ival(res, 0, 3);
    }
    PQclear(res);
    return ZX_STORE_OK;
}

static int pg_folder_state_put(zx_store *st, const char *device, const zx_folder_state *s,
                               long long expect_key, const char **err)
{
    apr_pool_t *p = st->pool;
    if (!valid_id(device))
        return ZX_STORE_NOT_FOUND;
    const char *params[6] = {device, lltoa(p, s->key), lltoa(p, s->hier_seq),
                             s->prev_key ? lltoa(p, s->prev_key) : NULL,
                             s->prev_key ? lltoa(p, s->prev_hier_seq) : NULL,
                             lltoa(p, expect_key)};
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
    if (!valid_id(device))
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
    if (!valid_id(device))
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

/* The planner's statistics of a freshly loaded folder say "a few rows": the window of the
 * initial Sync would then read and sort the whole folder instead of walking its
 * (folder_id, received DESC, id DESC) index (seen with EXPLAIN: 2,000 rows for a window of
 * 100) until autovacuum analyzes the tables. */
static int pg_bulk_loaded(zx_store *st, const char **err)
{
    return zx_db_run(st->db, "ANALYZE items, messages", 0, NULL, err) < 0 ? ZX_STORE_ERROR
                                                                          : ZX_STORE_OK;
}

const zx_store_provider zx_store_pg = {
    "pg",
    pg_ensure_mailbox,
    pg_folders,
    pg_folder_get,
    pg_folder_by_type,
    pg_folder_create,
    pg_folder_update,
    pg_folder_delete,
    pg_changes,
    pg_item_get,
    pg_item_mime,
    pg_item_update,
    pg_item_move,
    pg_item_delete,
    pg_folder_empty,
    pg_deliver,
    pg_deliver_at,
    pg_folder_find,
    pg_enumerate,
    pg_item_contents,
    pg_item_trash,
    pg_estimate,
    pg_aged,
    pg_purge_tombstones,
    pg_sync_states_get,
    pg_sync_state_put,
    pg_folder_state_get,
    pg_folder_state_put,
    pg_sync_cache_get,
    pg_sync_cache_put,
    pg_bulk_loaded,
    pg_item_tombstone,
};
