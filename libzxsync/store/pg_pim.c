/* zxmobile - the PostgreSQL store: contacts, tasks, notes and calendar events (zxsync/pim.h).  An item is a
 * row of items (the change feed, as for mail) and a row of its class's table (contacts,
 * tasks, notes: sql/018_pim.sql) with a column per field of pim_fields.def.  The statements
 * are built from that table: column names are the table's constants, every value is a
 * parameter. */
#include "pg_int.h"

#include <zxsync/buf.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <string.h>

/* the SQL type a parameter of field f is cast to */
static const char *sql_type(zx_pim_type t)
{
    switch (t) {
    case ZX_PT_INT: return "integer";
    case ZX_PT_BOOL: return "boolean";
    case ZX_PT_TIME: return "timestamptz";
    case ZX_PT_LIST: return "text[]";
    default: return "text";
    }
}

/* a value as the parameter of its column (NULL = SQL NULL) */
static const char *param_of(apr_pool_t *p, const zx_pim_field_def *d, const zx_pim_value *v)
{
    if (d->type == ZX_PT_LIST)
        return v->list ? zx_pg_text_array_literal(p, v->list) : NULL;
    return v->text;
}

/* the select expression giving field f back in its ActiveSync form */
static void put_select(zx_buf *b, const zx_pim_field_def *d)
{
    switch (d->type) {
    case ZX_PT_INT:
        zx_buf_printf(b, "c.%s::text", d->column);
        break;
    case ZX_PT_BOOL:
        zx_buf_printf(b, "c.%s::integer::text", d->column);
        break;
    case ZX_PT_TIME:
        zx_buf_printf(b, "to_char(c.%s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
                      d->column);
        break;
    default:
        zx_buf_printf(b, "c.%s", d->column);
        break;
    }
}

/* the items.flag_status of a task: "1" complete, else "0" */
static const char *task_status(const zx_pim_props *pr)
{
    const char *c = pr->v[ZX_PF_TASK_COMPLETE].text;
    return c && strcmp(c, "1") == 0 ? "1" : "0";
}

/* the end of an event's last occurrence as items.received: the far future for none */
#define NO_END "9999-12-31T00:00:00.000Z"

static int insert_row(zx_store *st, const char *item_id, const zx_pim_props *pr, const char **err);

/* a calendar event's exceptions replace the stored ones */
static int put_exceptions(zx_store *st, const char *item_id, const zx_pim_props *pr,
                          const char **err)
{
    const char *params[2] = {item_id, st->account_id};
    if (zx_db_run(st->db, "DELETE FROM calendar_exceptions WHERE item_id = $1::bigint AND "
                  "account_id = $2::bigint", 2, params, err) < 0)
        return ZX_STORE_ERROR;
    for (int i = 0; pr->exceptions && i < pr->exceptions->nelts; i++) {
        const zx_pim_props *e = APR_ARRAY_IDX(pr->exceptions, i, const zx_pim_props *);
        if (!e->v[ZX_PF_EXCEPTION_EXCEPTION_START].text)
            continue;
        int rc = insert_row(st, item_id, e, err);
        if (rc != ZX_STORE_OK)
            return rc;
    }
    return ZX_STORE_OK;
}

int zx_pg_pim_insert(zx_store *st, const char *item_id, const zx_pim_props *pr, const char **err)
{
    int rc = insert_row(st, item_id, pr, err);
    if (rc == ZX_STORE_OK && pr->cls == ZX_PIM_CALENDAR && pr->exceptions)
        rc = put_exceptions(st, item_id, pr, err);
    return rc;
}

static int insert_row(zx_store *st, const char *item_id, const zx_pim_props *pr, const char **err)
{
    apr_pool_t *p = st->pool;
    const zx_pim_class_def *cd = &zx_pim_classes[pr->cls];
    int n = (int)(cd->last - cd->first);
    const char **params = apr_pcalloc(p, sizeof(char *) * (size_t)(n + 2));
    zx_buf sql, vals;
    zx_buf_init(&sql, p, 2048);
    zx_buf_init(&vals, p, 1024);
    zx_buf_printf(&sql, "INSERT INTO %s (item_id, account_id", cd->table);
    zx_buf_puts(&vals, "$1::bigint, $2::bigint");
    params[0] = item_id;
    params[1] = st->account_id;
    int np = 2;
    for (int f = cd->first; f < (int)cd->last; f++) {
        const zx_pim_field_def *d = &zx_pim_fields[f];
        /* an exception is written whole (the stored ones kept by a change come as loaded) */
        if (!pr->set[f] && pr->cls != ZX_PIM_EXCEPTION)
            continue;
        const char *v = param_of(p, d, &pr->v[f]);
        if (!v)
            continue;
        params[np++] = v;
        zx_buf_printf(&sql, ", %s", d->column);
        zx_buf_printf(&vals, ", $%d::%s", np, sql_type(d->type));
    }
    zx_buf_puts(&sql, ") VALUES (");
    zx_buf_puts(&sql, vals.data);
    zx_buf_putc(&sql, ')');
    return zx_db_run(st->db, sql.data, np, params, err) < 0 ? ZX_STORE_ERROR : ZX_STORE_OK;
}

/* [MS-ASCAL] 2.2.2.22: a 16.x change that moves a series' start, end or recurrence deletes
 * its exceptions (before the change is written: compared with the stored values) */
static int drop_if_retimed(zx_store *st, const char *item_id, const zx_pim_props *pr,
                           const char **err)
{
    apr_pool_t *p = st->pool;
    const zx_pim_class_def *cd = &zx_pim_classes[ZX_PIM_CALENDAR];
    const char **params = apr_pcalloc(p, sizeof(char *) * (size_t)(cd->last - cd->first + 2));
    zx_buf cond;
    zx_buf_init(&cond, p, 512);
    params[0] = item_id;
    params[1] = st->account_id;
    int np = 2;
    for (int f = cd->first; f < (int)cd->last; f++) {
        const zx_pim_field_def *d = &zx_pim_fields[f];
        if (!pr->set[f] || !((d->flags & ZX_PFF_REC) || f == ZX_PF_CALENDAR_START ||
                             f == ZX_PF_CALENDAR_END))
            continue;
        params[np++] = param_of(p, d, &pr->v[f]);
        zx_buf_printf(&cond, "%sc.%s IS DISTINCT FROM $%d::%s", np > 3 ? " OR " : "", d->column,
                      np, sql_type(d->type));
    }
    if (np == 2)
        return ZX_STORE_OK;
    const char *sql = apr_psprintf(p, "DELETE FROM calendar_exceptions e USING calendar c "
                                   "WHERE c.item_id = $1::bigint AND c.account_id = $2::bigint "
                                   "AND e.item_id = c.item_id AND (%s)", cond.data);
    return zx_db_run(st->db, sql, np, params, err) < 0 ? ZX_STORE_ERROR : ZX_STORE_OK;
}

int zx_pg_pim_update(zx_store *st, const char *item_id, const zx_pim_props *pr, const char **err)
{
    apr_pool_t *p = st->pool;
    const zx_pim_class_def *cd = &zx_pim_classes[pr->cls];
    int n = (int)(cd->last - cd->first);
    const char **params = apr_pcalloc(p, sizeof(char *) * (size_t)(n + 2));
    zx_buf sql;
    zx_buf_init(&sql, p, 2048);
    zx_buf_printf(&sql, "UPDATE %s SET item_id = item_id", cd->table);
    params[0] = item_id;
    params[1] = st->account_id;
    int np = 2;
    for (int f = cd->first; f < (int)cd->last; f++) {
        const zx_pim_field_def *d = &zx_pim_fields[f];
        if (!pr->set[f])
            continue;
        params[np++] = param_of(p, d, &pr->v[f]);
        zx_buf_printf(&sql, ", %s = $%d::%s", d->column, np, sql_type(d->type));
    }
    zx_buf_puts(&sql, " WHERE item_id = $1::bigint AND account_id = $2::bigint");
    if (pr->cls == ZX_PIM_CALENDAR && pr->retime_drops_exceptions &&
        drop_if_retimed(st, item_id, pr, err) != ZX_STORE_OK)
        return ZX_STORE_ERROR;
    if (zx_db_run(st->db, sql.data, np, params, err) < 0)
        return ZX_STORE_ERROR;
    if (pr->cls == ZX_PIM_CALENDAR) {
        if (pr->exceptions_set && put_exceptions(st, item_id, pr, err) != ZX_STORE_OK)
            return ZX_STORE_ERROR;
        if (!pr->set[ZX_PF_CALENDAR_LAST_END])
            return ZX_STORE_OK;
        /* the window key of the sync engine follows the event's last occurrence */
        const char *rp[2] = {item_id, pr->v[ZX_PF_CALENDAR_LAST_END].text ?
                             pr->v[ZX_PF_CALENDAR_LAST_END].text : NO_END};
        return zx_db_run(st->db, "UPDATE items SET received = $2::timestamptz WHERE "
                         "id = $1::bigint", 2, rp, err) < 0 ? ZX_STORE_ERROR : ZX_STORE_OK;
    }
    if (pr->cls != ZX_PIM_TASK || !pr->set[ZX_PF_TASK_COMPLETE])
        return ZX_STORE_OK;
    /* a task's completion is also the item's flag status (1 complete, 0 not): the sync engine
     * reads it from the change feed for the "incomplete tasks" FilterType */
    const char *fp[2] = {item_id, task_status(pr)};
    return zx_db_run(st->db, "UPDATE items SET flag_status = $2::smallint, "
                     "completed_modseq = CASE WHEN $2::smallint = 1 AND flag_status <> 1 "
                     "  THEN modseq ELSE completed_modseq END, "
                     "reopened_modseq = CASE WHEN $2::smallint <> 1 AND flag_status = 1 "
                     "  THEN modseq ELSE reopened_modseq END WHERE id = $1::bigint",
                     2, fp, err) < 0 ? ZX_STORE_ERROR : ZX_STORE_OK;
}

int zx_pg_pim_repoint(zx_store *st, const char *item_class, const char *from, const char *to,
                      const char **err)
{
    int cls = zx_pim_class_of(item_class);
    if (cls < 0)
        return ZX_STORE_OK;
    const char *params[2] = {from, to};
    const char *sql = apr_psprintf(st->pool, "UPDATE %s SET item_id = $2::bigint WHERE "
                                   "item_id = $1::bigint", zx_pim_classes[cls].table);
    return zx_db_run(st->db, sql, 2, params, err) < 0 ? ZX_STORE_ERROR : ZX_STORE_OK;
}

static apr_status_t clear_result(void *res)
{
    PQclear(res);
    return APR_SUCCESS;
}

/* load the fields of the items of one class (ids: "{1,2}") */
static int load_class(zx_store *st, int cls, const char *ids, apr_hash_t *by_id,
                      const char **err)
{
    apr_pool_t *p = st->pool;
    const zx_pim_class_def *cd = &zx_pim_classes[cls];
    zx_buf sql;
    zx_buf_init(&sql, p, 4096);
    zx_buf_puts(&sql, "SELECT c.item_id");
    for (int f = cd->first; f < (int)cd->last; f++) {
        zx_buf_puts(&sql, ", ");
        put_select(&sql, &zx_pim_fields[f]);
    }
    zx_buf_printf(&sql, " FROM unnest($1::bigint[]) AS u(id) JOIN %s c ON c.item_id = u.id "
                  "WHERE c.account_id = $2::bigint", cd->table);
    if (cls == ZX_PIM_EXCEPTION)
        zx_buf_puts(&sql, " ORDER BY c.item_id, c.exception_start");
    const char *params[2] = {ids, st->account_id};
    PGresult *res = zx_db_exec(st->db, sql.data, 2, params, err);
    if (!res)
        return ZX_STORE_ERROR;
    for (int r = 0; r < PQntuples(res); r++) {
        zx_item *it = apr_hash_get(by_id, PQgetvalue(res, r, 0), APR_HASH_KEY_STRING);
        if (!it || (cls == ZX_PIM_EXCEPTION && (!it->content || !it->content->pim)))
            continue;
        zx_pim_props *pr = zx_pim_props_new(p, (zx_pim_class)cls);
        int col = 1;
        for (int f = cd->first; f < (int)cd->last; f++, col++) {
            if (PQgetisnull(res, r, col))
                continue;
            const char *v = PQgetvalue(res, r, col);     /* the result lives with p */
            if (zx_pim_fields[f].type == ZX_PT_LIST)
                pr->v[f].list = zx_pg_parse_text_array(p, v);
            else
                pr->v[f].text = v;
        }
        if (cls == ZX_PIM_EXCEPTION) {
            zx_pim_props *ev = (zx_pim_props *)it->content->pim;     /* made above */
            if (!ev->exceptions)
                ev->exceptions = apr_array_make(p, 4, sizeof(zx_pim_props *));
            APR_ARRAY_PUSH(ev->exceptions, zx_pim_props *) = pr;
            continue;
        }
        zx_item_content *c = apr_pcalloc(p, sizeof *c);
        c->pim = pr;
        it->content = c;
    }
    /* the values (photos, bodies: most of a window's bytes) are used where libpq put them */
    apr_pool_cleanup_register(p, res, clear_result, apr_pool_cleanup_null);
    return ZX_STORE_OK;
}

int zx_pg_pim_contents(zx_store *st, apr_array_header_t *items, apr_array_header_t **rest,
                       const char **err)
{
    apr_pool_t *p = st->pool;
    *rest = NULL;
    zx_buf ids[ZX_PIM_NCLASSES];
    int count[ZX_PIM_NCLASSES] = {0};
    apr_hash_t *by_id = NULL;
    for (int i = 0; i < items->nelts; i++) {
        zx_item *it = APR_ARRAY_IDX(items, i, zx_item *);
        int cls = zx_pim_class_of(it->item_class);
        if (cls < 0) {
            if (!*rest)
                *rest = apr_array_make(p, items->nelts, sizeof(zx_item *));
            APR_ARRAY_PUSH(*rest, zx_item *) = it;
            continue;
        }
        if (!by_id)
            by_id = apr_hash_make(p);
        if (count[cls]++ == 0) {
            zx_buf_init(&ids[cls], p, 16 * (apr_size_t)items->nelts);
            zx_buf_putc(&ids[cls], '{');
        }
        else
            zx_buf_putc(&ids[cls], ',');
        zx_buf_puts(&ids[cls], it->id);
        /* an item without its row (none should be) still gets empty properties */
        zx_item_content *c = apr_pcalloc(p, sizeof *c);
        c->pim = zx_pim_props_new(p, (zx_pim_class)cls);
        it->content = c;
        apr_hash_set(by_id, it->id, APR_HASH_KEY_STRING, it);
    }
    for (int cls = 0; cls < ZX_PIM_NCLASSES; cls++) {
        if (!count[cls])
            continue;
        zx_buf_putc(&ids[cls], '}');
        if (load_class(st, cls, ids[cls].data, by_id, err) != ZX_STORE_OK)
            return ZX_STORE_ERROR;
        /* the exceptions of the events, in one more statement */
        if (cls == ZX_PIM_CALENDAR &&
            load_class(st, ZX_PIM_EXCEPTION, ids[cls].data, by_id, err) != ZX_STORE_OK)
            return ZX_STORE_ERROR;
    }
    return ZX_STORE_OK;
}

/* a rough size of the item for the items row (Sync's estimates use it) */
static long long props_size(const zx_pim_props *pr)
{
    const zx_pim_class_def *cd = &zx_pim_classes[pr->cls];
    long long n = 0;
    for (int f = cd->first; f < (int)cd->last; f++) {
        if (pr->v[f].text)
            n += (long long)strlen(pr->v[f].text);
        if (pr->v[f].list)
            for (int i = 0; i < pr->v[f].list->nelts; i++)
                n += (long long)strlen(APR_ARRAY_IDX(pr->v[f].list, i, const char *));
    }
    return n;
}

int zx_pg_pim_create(zx_store *st, const char *folder_id, const zx_pim_props *pr,
                      const char *device, zx_item **out, const char **err)
{
    *out = NULL;
    zx_folder *f;
    int rc = zx_pg_mailbox.folder_get(st, folder_id, &f, err);
    if (rc != ZX_STORE_OK)
        return rc;
    if (zx_pim_class_of(f->item_class) != (int)pr->cls)
        return ZX_STORE_INVALID;
    int own;
    if (zx_db_tx_begin(st->db, &own, err) < 0)
        return ZX_STORE_ERROR;
    long long modseq = 0;
    rc = zx_pg_next_modseq(st, f->id, 1, &modseq, err);
    PGresult *res = NULL;
    if (rc == ZX_STORE_OK) {
        const zx_pim_class_def *cd = &zx_pim_classes[pr->cls];
        const char *subject = NULL;
        if (pr->cls == ZX_PIM_CONTACT)
            subject = pr->v[ZX_PF_CONTACT_FILE_AS].text;
        else if (pr->cls == ZX_PIM_TASK)
            subject = pr->v[ZX_PF_TASK_SUBJECT].text;
        else if (pr->cls == ZX_PIM_NOTE)
            subject = pr->v[ZX_PF_NOTE_SUBJECT].text;
        else
            subject = pr->v[ZX_PF_CALENDAR_SUBJECT].text;
        /* an event's window key: the end of its last occurrence */
        const char *received = NULL;
        if (pr->cls == ZX_PIM_CALENDAR)
            received = pr->v[ZX_PF_CALENDAR_LAST_END].text ? pr->v[ZX_PF_CALENDAR_LAST_END].text
                                                           : NO_END;
        const char *params[9] = {st->account_id, f->id, zx_pg_lltoa(st->pool, modseq), device,
                                 cd->item_class, zx_pg_lltoa(st->pool, props_size(pr)),
                                 subject, pr->cls == ZX_PIM_TASK ? task_status(pr) : "0",
                                 received};
        res = zx_db_exec(st->db,
            "INSERT INTO items AS i (account_id, folder_id, modseq, created_modseq, created_by, "
            "changed_by, item_class, size, read, subject, flag_status, completed_modseq, "
            "received) "
            "VALUES ($1::bigint, $2::bigint, $3::bigint, $3::bigint, $4::bigint, $4::bigint, $5, "
            "$6::bigint, true, $7, $8::smallint, CASE WHEN $8::smallint = 1 THEN $3::bigint END, "
            "coalesce($9::timestamptz, now())) "
            "RETURNING " ITEM_COLS("i."), 9, params, err);
        if (!res)
            rc = ZX_STORE_ERROR;
        else {
            *out = zx_pg_row_item(st->pool, res, 0);
            PQclear(res);
            rc = zx_pg_pim_insert(st, (*out)->id, pr, err);
        }
    }
    if (rc == ZX_STORE_OK)
        rc = zx_pg_notify(st, err);
    if (rc != ZX_STORE_OK)
        *out = NULL;
    return zx_db_tx_end(st->db, own, rc, err);
}

int zx_pg_calendar_window(zx_store *st, const char *id, const char *last_end, const char **err)
{
    const char *params[3] = {id, st->account_id, last_end};
    int n = zx_db_run(st->db,
        "WITH c AS (UPDATE calendar SET last_end = $3::timestamptz WHERE item_id = $1::bigint "
        "  AND account_id = $2::bigint RETURNING item_id) "
        "UPDATE items SET prev_received = received, received_modseq = modseq, "
        "  received = coalesce($3::timestamptz, '" NO_END "') "
        "WHERE id IN (SELECT item_id FROM c)", 3, params, err);
    return n < 0 ? ZX_STORE_ERROR : ZX_STORE_OK;
}

int zx_pg_contacts_match(zx_store *st, const char *to, int limit, apr_array_header_t **out,
                         const char **err)
{
    const char *lim = apr_itoa(st->pool, limit);
    const char *params[3] = {st->account_id, to, lim};
    PGresult *res = zx_db_exec(st->db,
        "WITH e AS ("
        "  SELECT c.item_id, c.first_name, c.last_name, c.file_as, x.n, "
        "         btrim(coalesce(substring(x.v from '<([^<>]*)>'), x.v)) AS addr "
        "    FROM contacts c JOIN items i ON i.id = c.item_id AND NOT i.deleted "
        "   CROSS JOIN LATERAL (VALUES (1, c.email1), (2, c.email2), (3, c.email3)) x(n, v) "
        "   WHERE c.account_id = $1::bigint AND i.account_id = $1::bigint "
        "     AND x.v IS NOT NULL AND x.v <> ''), "
        "p AS (SELECT replace(replace(replace(zx_gal_fold($2), '\\', '\\\\'), '%', '\\%'), "
        "             '_', '\\_') || '%' AS pat) "
        "SELECT e.item_id, coalesce(nullif(btrim(concat_ws(' ', e.first_name, e.last_name)), ''), "
        "       e.file_as), e.addr, lower(e.addr) = lower($2) "
        "  FROM e, p "
        " WHERE lower(e.addr) = lower($2) OR zx_gal_fold(e.first_name) LIKE p.pat "
        "    OR zx_gal_fold(e.last_name) LIKE p.pat OR zx_gal_fold(e.file_as) LIKE p.pat "
        "    OR zx_gal_fold(e.addr) LIKE p.pat "
        "    OR zx_gal_fold(concat_ws(' ', e.first_name, e.last_name)) LIKE p.pat "
        " ORDER BY 4 DESC, 2, e.item_id, e.n LIMIT $3::int",
        3, params, err);
    if (!res)
        return ZX_STORE_ERROR;
    *out = apr_array_make(st->pool, PQntuples(res) + 1, sizeof(zx_contact_match *));
    for (int i = 0; i < PQntuples(res); i++) {
        zx_contact_match *m = apr_pcalloc(st->pool, sizeof *m);
        m->item_id = apr_pstrdup(st->pool, PQgetvalue(res, i, 0));
        m->display_name = PQgetisnull(res, i, 1) ? NULL : apr_pstrdup(st->pool, PQgetvalue(res, i, 1));
        m->email = apr_pstrdup(st->pool, PQgetvalue(res, i, 2));
        m->exact = PQgetvalue(res, i, 3)[0] == 't';
        APR_ARRAY_PUSH(*out, zx_contact_match *) = m;
    }
    PQclear(res);
    return ZX_STORE_OK;
}
