/* zxmobile - the PostgreSQL store: the mailbox (zx_store_mailbox): folders, emptying a
 * folder, delivery. */
#include "pg_int.h"
#include "fts.h"

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

/* ---- the mailbox and its folders ---------------------------------------------------------- */

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
    const char *params[2] = {st->account_id, zx_pg_lltoa(st->pool, since)};
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
        *now = zx_pg_ival(res, 0, 0);
        int n = PQntuples(res);
        apr_array_header_t *a = apr_array_make(st->pool, n, sizeof(zx_folder *));
        for (int r = 0; r < n; r++)
            if (!PQgetisnull(res, r, 1))
                APR_ARRAY_PUSH(a, zx_folder *) = zx_pg_row_folder(st->pool, res, r, 1);
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
        *out = zx_pg_row_folder(st->pool, res, 0, 0);
    PQclear(res);
    return *out ? ZX_STORE_OK : ZX_STORE_NOT_FOUND;
}

static int pg_folder_get(zx_store *st, const char *id, zx_folder **out, const char **err)
{
    *out = NULL;
    if (!zx_pg_valid_id(id))
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
    if (zx_pg_valid_id(spec))
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
    *seq = found ? zx_pg_ival(res, 0, 0) : 0;
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
                         zx_store_type_class(type), zx_pg_lltoa(st->pool, seq)};
    const char *params[7] = {ip[0], ip[1], ip[2], ip[3], ip[4], ip[5], device};
    int rc = one_folder(st, "INSERT INTO folders AS f (account_id, parent_id, name, type, "
                        "item_class, created_seq, changed_seq, created_by, changed_by) VALUES "
                        "($1::bigint, nullif($2::bigint, 0), $3, $4::smallint, $5, $6::bigint, "
                        "$6::bigint, $7::bigint, $7::bigint) RETURNING " FOLDER_COLS("f."),
                        7, params, out, err);
    if (rc != ZX_STORE_OK)
        return rc == ZX_STORE_NOT_FOUND ? ZX_STORE_ERROR : rc;
    return zx_pg_notify(st, err);
}

static int pg_folder_create(zx_store *st, const char *parent_id, const char *name, int type,
                            const char *device, zx_folder **out, const char **err)
{
    *out = NULL;
    if (!valid_folder_name(name) || !user_folder_type(type))
        return ZX_STORE_INVALID;
    const char *parent = parent_id && *parent_id ? parent_id : "0";
    if (!zx_pg_valid_id(parent))
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
    if (!zx_pg_valid_id(parent))
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
    const char *params[5] = {id, parent, newname, zx_pg_lltoa(st->pool, seq), device};
    if (zx_db_run(st->db, "UPDATE folders SET parent_id = nullif($2::bigint, 0), name = $3, "
                  "changed_seq = $4::bigint, changed_by = $5::bigint WHERE id = $1::bigint",
                  5, params, err) < 0)
        return ZX_STORE_ERROR;
    return zx_pg_notify(st, err);
}

static int pg_folder_update(zx_store *st, const char *id, const char *parent_id,
                            const char *name, const char *device, const char **err)
{
    if (!zx_pg_valid_id(id))
        return ZX_STORE_NOT_FOUND;
    if (pg_ensure_mailbox(st, err) < 0)
        return ZX_STORE_ERROR;
    int own;
    if (zx_db_tx_begin(st->db, &own, err) < 0)
        return ZX_STORE_ERROR;
    int rc = folder_update_tx(st, id, parent_id, name, device, err);
    return zx_db_tx_end(st->db, own, rc, err);
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
    const char *params[3] = {id, zx_pg_lltoa(st->pool, seq), device};
    PGresult *res = zx_db_exec(st->db,
        "WITH RECURSIVE sub AS (SELECT id FROM folders WHERE id = $1::bigint "
        "  UNION ALL SELECT f.id FROM folders f JOIN sub ON f.parent_id = sub.id WHERE NOT f.deleted), "
        "d AS (UPDATE folders SET deleted = true, changed_seq = $2::bigint, changed_by = $3::bigint "
        "      WHERE id IN (SELECT id FROM sub) RETURNING id), "
        "s AS (DELETE FROM sync_states WHERE folder_id IN (SELECT id FROM d)), "
        "i AS (DELETE FROM items WHERE folder_id IN (SELECT id FROM d) RETURNING message_id) "
        "SELECT DISTINCT message_id FROM i WHERE message_id IS NOT NULL", 3, params, err);
    return zx_pg_finish_dropping(st, res, err);
}

static int pg_folder_delete(zx_store *st, const char *id, const char *device, const char **err)
{
    if (!zx_pg_valid_id(id))
        return ZX_STORE_NOT_FOUND;
    if (pg_ensure_mailbox(st, err) < 0)
        return ZX_STORE_ERROR;
    int own;
    if (zx_db_tx_begin(st->db, &own, err) < 0)
        return ZX_STORE_ERROR;
    int rc = folder_delete_tx(st, id, device, err);
    return zx_db_tx_end(st->db, own, rc, err);
}

static int folder_empty_tx(zx_store *st, const char *folder_id, const char *device,
                           const char **err)
{
    const char *cp[2] = {folder_id, st->account_id};
    /* lock the folder first, then count what it holds */
    long long base;
    int rc = zx_pg_next_modseq(st, folder_id, 0, &base, err);
    if (rc != ZX_STORE_OK)
        return rc;
    PGresult *res = zx_db_exec(st->db, "SELECT count(*) FROM items WHERE folder_id = $1::bigint "
                               "AND account_id = $2::bigint AND NOT deleted", 2, cp, err);
    if (!res)
        return ZX_STORE_ERROR;
    long long n = zx_pg_ival(res, 0, 0);
    PQclear(res);
    if (n == 0)
        return ZX_STORE_OK;
    long long top;
    if (zx_pg_next_modseq(st, folder_id, n, &top, err) != ZX_STORE_OK)
        return ZX_STORE_ERROR;
    const char *params[4] = {folder_id, st->account_id, zx_pg_lltoa(st->pool, top - n), device};
    res = zx_db_exec(st->db,
        "WITH live AS (SELECT id, message_id, row_number() OVER (ORDER BY id) AS rn FROM items "
        "              WHERE folder_id = $1::bigint AND account_id = $2::bigint AND NOT deleted), "
        "u AS (UPDATE items i SET deleted = true, message_id = NULL, modseq = $3::bigint + live.rn, "
        "      changed_by = $4::bigint FROM live WHERE i.id = live.id) "
        "SELECT DISTINCT message_id FROM live", 4, params, err);
    return zx_pg_finish_dropping(st, res, err);
}

static int pg_folder_empty(zx_store *st, const char *folder_id, int include_subfolders,
                           const char *device, const char **err)
{
    if (!zx_pg_valid_id(folder_id))
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
    const char *params[31] = {
        f->id, st->account_id, data, plain, m->text_html, zx_mime_preview(p, plain),
        zx_pg_text_array_literal(p, parts), zx_pg_text_array_literal(p, names),
        zx_pg_text_array_literal(p, types), zx_pg_text_array_literal(p, cids),
        zx_pg_text_array_literal(p, locs), zx_pg_text_array_literal(p, inl),
        zx_pg_text_array_literal(p, sizes),
        received > 0 ? zx_pg_time_param(p, received) : NULL,
        apr_psprintf(p, "%" APR_SIZE_T_FMT, len),
        read ? "t" : "f", m->subject, m->from, m->to, m->cc, m->reply_to, m->message_id,
        m->thread_topic, apr_itoa(p, m->importance >= 0 && m->importance <= 2 ? m->importance : 1),
        m->message_class && *m->message_class ? m->message_class : "IPM.Note",
        m->content_class && *m->content_class ? m->content_class : "urn:content-classes:message",
        apr_itoa(p, nbt), natt > 0 ? "t" : "f", conversation_hex(p, m),
        /* the words of the message for search (sql/024_search.sql) */
        zx_fts_vector(p, m->subject, m->from, m->to, m->cc, plain), NULL};
    int lengths[31] = {0};
    int formats[31] = {0};
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
        "s AS (INSERT INTO message_search (message_id, account_id, vec) "
        "      SELECT m.id, $2::bigint, $30::tsvector FROM m), "
        "i AS (INSERT INTO items AS i (account_id, folder_id, modseq, created_modseq, message_id, "
        "      received, size, read, subject, from_addr, to_addr, cc_addr, reply_to, "
        "      message_hdr_id, thread_topic, importance, message_class, content_class, "
        "      native_body_type, has_attachments, conversation_id) "
        "      SELECT $2::bigint, f.id, f.modseq, f.modseq, m.id, coalesce(" TS("$14") ", now()), "
        "      $15::bigint, $16::boolean, $17, $18, $19, $20, $21, $22, $23, $24::smallint, $25, "
        "      $26, $27::smallint, $28::boolean, decode($29, 'hex') FROM f, m "
        "      RETURNING " ITEM_COLS("i.") ") "
        "SELECT i.*, (SELECT count(*) FROM a), pg_notify('zx_mailbox', $2::text) FROM i",
        30, params, lengths, formats, 0, err);
    if (!res)
        return ZX_STORE_ERROR;
    if (PQntuples(res) == 1)
        *out = zx_pg_row_item(p, res, 0);
    PQclear(res);
    return *out ? ZX_STORE_OK : ZX_STORE_NOT_FOUND;
}

static int pg_deliver(zx_store *st, const char *folder_id, const char *data, apr_size_t len,
                      int read, zx_item **out, const char **err)
{
    return pg_deliver_at(st, folder_id, data, len, read, 0, out, err);
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

const zx_store_mailbox zx_pg_mailbox = {
    pg_ensure_mailbox,
    pg_folders,
    pg_folder_get,
    pg_folder_by_type,
    pg_folder_find,
    pg_folder_create,
    pg_folder_update,
    pg_folder_delete,
    pg_folder_empty,
    pg_deliver,
    pg_deliver_at,
    pg_bulk_loaded,
    NULL,                       /* collections: the sync states' own join of folders */
};
