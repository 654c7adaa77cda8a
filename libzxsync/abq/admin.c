/* zxmobile - ABQ administration (zxsync/abq.h): the device control list, the rules and the
 * custom messages, as zxsuite mobile ABQ ... and setABQMessage ... use them.  Every change is
 * one transaction with its audit record, and NOTIFYs the accounts whose devices it may
 * concern, so that a waiting Ping re-runs the gates at once (the gate resets the device's
 * sync state when what it is served changes). */
#include <zxsync/abq.h>
#include <zxsync/audit.h>
#include <zxsync/directory.h>
#include <zxsync/notify.h>

#include "abq_int.h"

#include <apr_strings.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- lookups ------------------------------------------------------------------------------- */

/* An account by name (user@domain) or uuid: 1 found, 0 unknown (*err), -1 error. */
static int account_lookup(apr_pool_t *p, zx_db *db, const char *who, const char **id,
                          const char **name, const char **err)
{
    zx_account_ref a;
    int rc = zx_dir_find_account(p, db, who, &a, err);
    if (rc == 1) {
        *id = a.id;
        if (name)
            *name = a.name;
    }
    else if (rc == 0)
        *err = apr_psprintf(p, "unknown account \"%s\"", who);
    return rc;
}

/* A domain by name or id: 1 found, 0 unknown (*err), -1 error. */
static int domain_lookup(apr_pool_t *p, zx_db *db, const char *dom, const char **id,
                         const char **name, const char **err)
{
    const char *params[1] = {dom};
    PGresult *res = zx_db_exec(db,
        "SELECT id, name FROM domains WHERE name = lower($1) "
        "    OR ($1 ~ '^[0-9]{1,18}$' AND id = $1::bigint) ORDER BY name = lower($1) DESC LIMIT 1",
        1, params, err);
    if (!res)
        return -1;
    int found = PQntuples(res) == 1;
    if (found) {
        *id = apr_pstrdup(p, PQgetvalue(res, 0, 0));
        if (name)
            *name = apr_pstrdup(p, PQgetvalue(res, 0, 1));
    }
    else
        *err = apr_psprintf(p, "unknown domain \"%s\"", dom);
    PQclear(res);
    return found;
}

/* NOTIFY the accounts that use device_id (only account_id's when given). */
static int notify_device(zx_db *db, const char *device_id, const char *account_id,
                         const char **err)
{
    const char *params[2] = {device_id, account_id};
    PGresult *res = zx_db_exec(db,
        "SELECT DISTINCT account_id FROM devices WHERE lower(device_id) = lower($1) "
        "   AND ($2::bigint IS NULL OR account_id = $2::bigint)",
        2, params, err);
    if (!res)
        return -1;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && rc == 0; i++)
        rc = zx_notify_account(db, PQgetvalue(res, i, 0), err);
    PQclear(res);
    return rc;
}

/* NOTIFY the accounts with a device the regex matches (in the domain when given). */
static int notify_regex(apr_pool_t *p, zx_db *db, const char *regex, const char *domain_id,
                        const char **err)
{
    const char *params[1] = {domain_id};
    PGresult *res = zx_db_exec(db,
        "SELECT d.device_id, d.account_id FROM devices d JOIN accounts a ON a.id = d.account_id "
        " WHERE $1::bigint IS NULL OR a.domain_id = $1::bigint ORDER BY d.account_id",
        1, params, err);
    if (!res)
        return -1;
    regex_t re;
    if (zx_abq_regex_compile(p, regex, &re, err) < 0) {
        PQclear(res);
        return -1;
    }
    int rc = 0;
    const char *last = NULL;
    for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
        const char *acct = PQgetvalue(res, i, 1);
        if (last && strcmp(last, acct) == 0)
            continue;
        if (regexec(&re, PQgetvalue(res, i, 0), 0, NULL, 0) == 0) {
            rc = zx_notify_account(db, acct, err);
            last = acct;
        }
    }
    regfree(&re);
    PQclear(res);
    return rc;
}

static int device_arg(apr_pool_t *p, const char *device_id, const char **err)
{
    if (zx_abq_device_id_valid(device_id))
        return 0;
    *err = apr_psprintf(p, "invalid device id \"%s\": 1-32 letters and digits", device_id ? device_id : "");
    return -1;
}

/* ---- the device control list ------------------------------------------------------------- */

int zx_abq_list(apr_pool_t *p, zx_db *db, zx_abq_status status, apr_array_header_t **out,
                const char **err)
{
    const char *params[1] = {zx_abq_status_name(status)};
    PGresult *res = zx_db_exec(db,
        "SELECT e.device_id, CASE WHEN e.account_id IS NULL THEN NULL "
        "                         ELSE a.local_part || '@' || d.name END, e.status, e.source, "
        "       to_char(e.modified_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
        "  FROM abq_devices e LEFT JOIN accounts a ON a.id = e.account_id "
        "  LEFT JOIN domains d ON d.id = a.domain_id "
        " WHERE $1::text IS NULL OR e.status = $1 "
        " ORDER BY lower(e.device_id), e.account_id NULLS FIRST, 2",
        1, params, err);
    if (!res)
        return -1;
    *out = apr_array_make(p, PQntuples(res) + 1, sizeof(zx_abq_entry));
    for (int i = 0; i < PQntuples(res); i++) {
        zx_abq_entry *e = apr_array_push(*out);
        e->device_id = apr_pstrdup(p, PQgetvalue(res, i, 0));
        e->account = PQgetisnull(res, i, 1) ? NULL : apr_pstrdup(p, PQgetvalue(res, i, 1));
        e->status = zx_abq_status_parse(PQgetvalue(res, i, 2));
        e->source = apr_pstrdup(p, PQgetvalue(res, i, 3));
        e->modified = apr_pstrdup(p, PQgetvalue(res, i, 4));
    }
    PQclear(res);
    return 0;
}

/* Upsert one entry; *inserted / *was (previous status, NONE if new).  account_id NULL =
 * device-wide. */
static int upsert(zx_db *db, const char *actor, const char *device_id, const char *account_id,
                  zx_abq_status status, const char *source, int *inserted,
                  zx_abq_status *was, const char **err)
{
    const char *params[5] = {device_id, account_id, zx_abq_status_name(status), source, actor};
    PGresult *res = zx_db_exec(db,
        "WITH old AS (SELECT status FROM abq_devices WHERE lower(device_id) = lower($1) "
        "               AND COALESCE(account_id, 0) = COALESCE($2::bigint, 0)) "
        "INSERT INTO abq_devices (device_id, account_id, status, source, modified_by) "
        "VALUES ($1, $2::bigint, $3, $4, $5) "
        "ON CONFLICT (lower(device_id), COALESCE(account_id, 0)) DO UPDATE "
        "   SET status = EXCLUDED.status, source = EXCLUDED.source, modified_at = now(), "
        "       modified_by = EXCLUDED.modified_by "
        "RETURNING (SELECT status FROM old)",
        5, params, err);
    if (!res)
        return -1;
    *was = zx_abq_status_parse(PQgetisnull(res, 0, 0) ? NULL : PQgetvalue(res, 0, 0));
    if (inserted)
        *inserted = PQgetisnull(res, 0, 0);
    PQclear(res);
    return 0;
}

int zx_abq_set(apr_pool_t *p, zx_db *db, const char *actor, const char *action,
               const char *device_id, const char *account, zx_abq_status status, int *changed,
               const char **err)
{
    if (device_arg(p, device_id, err) < 0)
        return -1;
    if (status == ZX_ABQ_NONE) {
        *err = "status must be Allowed, Blocked or Quarantined";
        return -1;
    }
    int own;
    if (zx_db_tx_begin(db, &own, err) < 0)
        return -1;
    int rc = -1;
    const char *acct_id = NULL, *acct_name = NULL;
    if (account && account_lookup(p, db, account, &acct_id, &acct_name, err) != 1)
        goto done;
    zx_abq_status was;
    if (upsert(db, actor, device_id, acct_id, status, "admin", NULL, &was, err) < 0)
        goto done;
    *changed = was != status;
    if (!acct_id) {
        /* a device-wide decision replaces what a mode decided for single accounts */
        const char *params[1] = {device_id};
        long n = zx_db_affected(db,
            "DELETE FROM abq_devices WHERE lower(device_id) = lower($1) AND account_id IS NOT NULL "
            "   AND source IN ('interactive', 'strict')", 1, params, err);
        if (n < 0)
            goto done;
        if (n > 0)
            *changed = 1;
    }
    if (zx_audit_record(db, actor, action, acct_name, device_id,
                        apr_psprintf(p, "status %s%s", zx_abq_status_name(status),
                                     acct_id ? "" : " (every account)"), err) < 0 ||
        notify_device(db, device_id, acct_id, err) < 0)
        goto done;
    rc = 0;
done:
    return zx_db_tx_end(db, own, rc, err);
}

int zx_abq_delete(apr_pool_t *p, zx_db *db, const char *actor, const char *device_id,
                  const char *account, int *deleted, const char **err)
{
    if (device_arg(p, device_id, err) < 0)
        return -1;
    int own;
    if (zx_db_tx_begin(db, &own, err) < 0)
        return -1;
    int rc = -1;
    const char *acct_id = NULL, *acct_name = NULL;
    if (account && account_lookup(p, db, account, &acct_id, &acct_name, err) != 1)
        goto done;
    const char *params[2] = {device_id, acct_id};
    long n = zx_db_affected(db,
        "DELETE FROM abq_devices WHERE lower(device_id) = lower($1) "
        "   AND ($2::bigint IS NULL OR account_id = $2::bigint)", 2, params, err);
    if (n < 0)
        goto done;
    *deleted = (int)n;
    if (n > 0 && (zx_audit_record(db, actor, "ABQ delete", acct_name, device_id,
                                  apr_psprintf(p, "%ld entries", n), err) < 0 ||
                  notify_device(db, device_id, acct_id, err) < 0))
        goto done;
    rc = 0;
done:
    return zx_db_tx_end(db, own, rc, err);
}

int zx_abq_import(apr_pool_t *p, zx_db *db, const char *actor, const char *text,
                  zx_abq_status status, int *added, int *updated, const char **err)
{
    *added = *updated = 0;
    if (status == ZX_ABQ_NONE) {
        *err = "status must be Allowed, Blocked or Quarantined";
        return -1;
    }
    /* every line first: nothing is added unless all are good */
    typedef struct { const char *device, *account, *account_id; int line; } row;
    apr_array_header_t *rows = apr_array_make(p, 64, sizeof(row));
    int lineno = 0;
    const char *s = text ? text : "";
    while (*s) {
        const char *e = strchr(s, '\n');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        lineno++;
        const char *dev, *acct, *why;
        int r = zx_abq_import_line(p, apr_pstrndup(p, s, n), &dev, &acct, &why);
        if (r < 0) {
            *err = apr_psprintf(p, "line %d: %s; nothing imported", lineno, why);
            return -1;
        }
        if (r > 0) {
            row *w = apr_array_push(rows);
            w->device = dev;
            w->account = acct;
            w->account_id = NULL;
            w->line = lineno;
        }
        s += n;
        if (*s == '\n')
            s++;
    }
    int own;
    if (zx_db_tx_begin(db, &own, err) < 0)
        return -1;
    int rc = -1;
    for (int i = 0; i < rows->nelts; i++) {
        row *w = &APR_ARRAY_IDX(rows, i, row);
        if (w->account) {
            const char *why = NULL;
            int f = account_lookup(p, db, w->account, &w->account_id, NULL, &why);
            if (f < 0) {
                *err = why;
                goto done;
            }
            if (f == 0) {
                *err = apr_psprintf(p, "line %d: %s; nothing imported", w->line, why);
                goto done;
            }
        }
    }
    for (int i = 0; i < rows->nelts; i++) {
        row *w = &APR_ARRAY_IDX(rows, i, row);
        int inserted;
        zx_abq_status was;
        if (upsert(db, actor, w->device, w->account_id, status, "import", &inserted, &was,
                   err) < 0 ||
            notify_device(db, w->device, w->account_id, err) < 0)
            goto done;
        if (inserted)
            (*added)++;
        else
            (*updated)++;
    }
    if (zx_audit_record(db, actor, "ABQ import", NULL, NULL,
                        apr_psprintf(p, "%d added, %d updated, status %s", *added, *updated,
                                     zx_abq_status_name(status)), err) < 0)
        goto done;
    rc = 0;
done:
    return zx_db_tx_end(db, own, rc, err);
}

/* ---- rules --------------------------------------------------------------------------------- */

int zx_abq_rules_list(apr_pool_t *p, zx_db *db, const char *domain, apr_array_header_t **out,
                      const char **err)
{
    const char *dom_id = NULL;
    if (domain && domain_lookup(p, db, domain, &dom_id, NULL, err) != 1)
        return -1;
    const char *params[1] = {dom_id};
    PGresult *res = zx_db_exec(db,
        "SELECT r.regex, r.status, r.ord, d.name FROM abq_rules r "
        "  LEFT JOIN domains d ON d.id = r.domain_id "
        " WHERE $1::bigint IS NULL OR r.domain_id = $1::bigint "
        " ORDER BY r.ord, r.domain_id IS NULL, r.regex",
        1, params, err);
    if (!res)
        return -1;
    *out = apr_array_make(p, PQntuples(res) + 1, sizeof(zx_abq_rule));
    for (int i = 0; i < PQntuples(res); i++) {
        zx_abq_rule *r = apr_array_push(*out);
        r->regex = apr_pstrdup(p, PQgetvalue(res, i, 0));
        r->status = zx_abq_status_parse(PQgetvalue(res, i, 1));
        r->order = atoll(PQgetvalue(res, i, 2));
        r->domain = PQgetisnull(res, i, 3) ? NULL : apr_pstrdup(p, PQgetvalue(res, i, 3));
    }
    PQclear(res);
    return 0;
}

int zx_abq_rule_set(apr_pool_t *p, zx_db *db, const char *actor, const char *regex,
                    zx_abq_status status, long long order, const char *domain, const char **err)
{
    if (zx_abq_regex_check(p, regex, err) < 0)
        return -1;
    if (status == ZX_ABQ_NONE) {
        *err = "status must be Allowed, Blocked or Quarantined";
        return -1;
    }
    int own;
    if (zx_db_tx_begin(db, &own, err) < 0)
        return -1;
    int rc = -1;
    const char *dom_id = NULL, *dom_name = NULL;
    if (domain && domain_lookup(p, db, domain, &dom_id, &dom_name, err) != 1)
        goto done;
    const char *params[4] = {regex, zx_abq_status_name(status),
                             apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)order), dom_id};
    if (zx_db_run(db,
                  "INSERT INTO abq_rules (regex, status, ord, domain_id) "
                  "VALUES ($1, $2, $3::bigint, $4::bigint) "
                  "ON CONFLICT (regex, COALESCE(domain_id, 0)) DO UPDATE "
                  "   SET status = EXCLUDED.status, ord = EXCLUDED.ord, modified_at = now()",
                  4, params, err) < 0 ||
        zx_audit_record(db, actor, "ABQ setRule", NULL, NULL,
                        apr_psprintf(p, "\"%s\" %s order %s%s%s", regex,
                                     zx_abq_status_name(status), params[2],
                                     dom_name ? " domain " : "", dom_name ? dom_name : ""),
                        err) < 0 ||
        notify_regex(p, db, regex, dom_id, err) < 0)
        goto done;
    rc = 0;
done:
    return zx_db_tx_end(db, own, rc, err);
}

int zx_abq_rule_delete(apr_pool_t *p, zx_db *db, const char *actor, const char *regex,
                       const char *domain, int *deleted, const char **err)
{
    int own;
    if (zx_db_tx_begin(db, &own, err) < 0)
        return -1;
    int rc = -1;
    const char *dom_id = NULL, *dom_name = NULL;
    if (domain && domain_lookup(p, db, domain, &dom_id, &dom_name, err) != 1)
        goto done;
    const char *params[2] = {regex, dom_id};
    long n = zx_db_affected(db,
        "DELETE FROM abq_rules WHERE regex = $1 AND COALESCE(domain_id, 0) = COALESCE($2::bigint, 0)",
        2, params, err);
    if (n < 0)
        goto done;
    *deleted = (int)n;
    if (n > 0 && (zx_audit_record(db, actor, "ABQ deleteRule", NULL, NULL,
                                  apr_psprintf(p, "\"%s\"%s%s", regex, dom_name ? " domain " : "",
                                               dom_name ? dom_name : ""), err) < 0 ||
                  notify_regex(p, db, regex, dom_id, err) < 0))
        goto done;
    rc = 0;
done:
    return zx_db_tx_end(db, own, rc, err);
}

/* ---- messages ------------------------------------------------------------------------------ */

static const char *type_name(zx_abq_msg_type t)
{
    return t == ZX_ABQ_MSG_BLOCKED ? "blocked" : "quarantined";
}

/* The scope of a message command: NULL domain = global. */
static int msg_scope(apr_pool_t *p, zx_db *db, const char *domain, const char **dom_id,
                     const char **dom_name, const char **err)
{
    *dom_id = *dom_name = NULL;
    if (!domain)
        return 0;
    return domain_lookup(p, db, domain, dom_id, dom_name, err) == 1 ? 0 : -1;
}

static const char *scope_text(apr_pool_t *p, const char *dom_name)
{
    return dom_name ? apr_pstrcat(p, "domain ", dom_name, NULL) : "global";
}

static int msg_exists(zx_db *db, const char *dom_id, const char *type, const char *locale,
                      int *exists, const char **err)
{
    const char *params[3] = {dom_id, type, locale};
    PGresult *res = zx_db_exec(db,
        "SELECT 1 FROM abq_messages WHERE COALESCE(domain_id, 0) = COALESCE($1::bigint, 0) "
        "   AND type = $2 AND locale = $3", 3, params, err);
    if (!res)
        return -1;
    *exists = PQntuples(res) > 0;
    PQclear(res);
    return 0;
}

int zx_abq_message_set(apr_pool_t *p, zx_db *db, const char *actor, const char *domain,
                       zx_abq_msg_type type, const char *locale, const zx_abq_message *f,
                       const char **err)
{
    const char *loc = zx_abq_locale_norm(p, locale);
    if (!loc) {
        *err = apr_psprintf(p, "invalid locale \"%s\" (default, or e.g. fr, en_US, en-us)",
                            locale ? locale : "");
        return -1;
    }
    int own;
    if (zx_db_tx_begin(db, &own, err) < 0)
        return -1;
    int rc = -1, exists = 0;
    const char *dom_id, *dom_name;
    if (msg_scope(p, db, domain, &dom_id, &dom_name, err) < 0)
        goto done;
    if (strcmp(loc, "default") != 0) {
        if (msg_exists(db, dom_id, type_name(type), "default", &exists, err) < 0)
            goto done;
        if (!exists) {
            *err = apr_psprintf(p, "set the default %s message of %s first "
                                "(setABQMessage %s %s default ...)", type_name(type),
                                scope_text(p, dom_name), scope_text(p, dom_name),
                                type_name(type));
            goto done;
        }
    }
    const zx_abq_message *b = zx_abq_message_builtin(type);
    /* a new message starts from the default of its level and type (the built-in one for a
     * default); NULL fields keep what is there; "" clears the optional ones */
    const char *all[10] = {dom_id, type_name(type), loc, f->from, f->reply_to, f->subject,
                           f->body_plain, f->body_html, b->subject, b->body_plain};
    if (zx_db_run(db,
                  "WITH dflt AS (SELECT from_addr, reply_to, subject, body_plain, body_html "
                  "                FROM abq_messages WHERE type = $2 AND locale = 'default' "
                  "                 AND COALESCE(domain_id, 0) = COALESCE($1::bigint, 0)) "
                  "INSERT INTO abq_messages (domain_id, type, locale, from_addr, reply_to, subject, "
                  "                          body_plain, body_html) "
                  "SELECT $1::bigint, $2, $3, "
                  "  CASE WHEN $4::text IS NULL THEN (SELECT from_addr FROM dflt) ELSE NULLIF($4, '') END, "
                  "  CASE WHEN $5::text IS NULL THEN (SELECT reply_to FROM dflt) ELSE NULLIF($5, '') END, "
                  "  COALESCE($6, (SELECT subject FROM dflt), $9), "
                  "  COALESCE($7, (SELECT body_plain FROM dflt), $10), "
                  "  CASE WHEN $8::text IS NULL THEN (SELECT body_html FROM dflt) ELSE NULLIF($8, '') END "
                  "ON CONFLICT (COALESCE(domain_id, 0), type, locale) DO UPDATE SET "
                  "  from_addr = CASE WHEN $4 IS NULL THEN abq_messages.from_addr ELSE NULLIF($4, '') END, "
                  "  reply_to = CASE WHEN $5 IS NULL THEN abq_messages.reply_to ELSE NULLIF($5, '') END, "
                  "  subject = COALESCE($6, abq_messages.subject), "
                  "  body_plain = COALESCE($7, abq_messages.body_plain), "
                  "  body_html = CASE WHEN $8 IS NULL THEN abq_messages.body_html ELSE NULLIF($8, '') END, "
                  "  modified_at = now()",
                  10, all, err) < 0 ||
        zx_audit_record(db, actor, "setABQMessage", NULL, NULL,
                        apr_psprintf(p, "%s %s %s", scope_text(p, dom_name), type_name(type), loc),
                        err) < 0)
        goto done;
    rc = 0;
done:
    return zx_db_tx_end(db, own, rc, err);
}

int zx_abq_message_get(apr_pool_t *p, zx_db *db, const char *domain, zx_abq_msg_type type,
                       const char *locale, apr_array_header_t **out, const char **err)
{
    const char *loc = NULL;
    if (!locale || strcasecmp(locale, "all") != 0) {
        loc = zx_abq_locale_norm(p, locale);
        if (!loc) {
            *err = apr_psprintf(p, "invalid locale \"%s\" (all, default, or e.g. fr, en_US)",
                                locale ? locale : "");
            return -1;
        }
    }
    const char *dom_id, *dom_name;
    if (msg_scope(p, db, domain, &dom_id, &dom_name, err) < 0)
        return -1;
    const char *params[3] = {dom_id, type_name(type), loc};
    PGresult *res = zx_db_exec(db,
        "SELECT locale, from_addr, reply_to, subject, body_plain, body_html FROM abq_messages "
        " WHERE COALESCE(domain_id, 0) = COALESCE($1::bigint, 0) AND type = $2 "
        "   AND ($3::text IS NULL OR locale = $3) ORDER BY locale <> 'default', locale",
        3, params, err);
    if (!res)
        return -1;
    *out = apr_array_make(p, PQntuples(res) + 1, sizeof(zx_abq_message));
    for (int i = 0; i < PQntuples(res); i++) {
        zx_abq_message *m = apr_array_push(*out);
#define V(c) (PQgetisnull(res, i, c) ? NULL : apr_pstrdup(p, PQgetvalue(res, i, c)))
        m->domain = dom_name;
        m->locale = V(0);
        m->from = V(1);
        m->reply_to = V(2);
        m->subject = V(3);
        m->body_plain = V(4);
        m->body_html = V(5);
#undef V
    }
    PQclear(res);
    if (loc && (*out)->nelts == 0) {
        *err = apr_psprintf(p, "no %s message for locale %s (%s)", type_name(type), loc,
                            scope_text(p, dom_name));
        return -1;
    }
    return 0;
}

int zx_abq_message_delete(apr_pool_t *p, zx_db *db, const char *actor, const char *domain,
                          zx_abq_msg_type type, const char *locale, const char **err)
{
    const char *loc = zx_abq_locale_norm(p, locale);
    if (!loc) {
        *err = apr_psprintf(p, "invalid locale \"%s\"", locale ? locale : "");
        return -1;
    }
    int own;
    if (zx_db_tx_begin(db, &own, err) < 0)
        return -1;
    int rc = -1;
    const char *dom_id, *dom_name;
    if (msg_scope(p, db, domain, &dom_id, &dom_name, err) < 0)
        goto done;
    const char *params[3] = {dom_id, type_name(type), loc};
    if (strcmp(loc, "default") == 0) {
        /* the default goes last: the locales depend on it */
        long others = zx_db_affected(db,
            "SELECT 1 FROM abq_messages WHERE COALESCE(domain_id, 0) = COALESCE($1::bigint, 0) "
            "   AND type = $2 AND locale <> $3", 3, params, err);
        if (others < 0)
            goto done;
        if (others > 0) {
            *err = apr_psprintf(p, "the %s default %s message is used by %ld other locale(s): "
                                "delete them first", scope_text(p, dom_name), type_name(type),
                                others);
            goto done;
        }
    }
    long n = zx_db_affected(db,
        "DELETE FROM abq_messages WHERE COALESCE(domain_id, 0) = COALESCE($1::bigint, 0) "
        "   AND type = $2 AND locale = $3", 3, params, err);
    if (n < 0)
        goto done;
    if (n == 0) {
        *err = apr_psprintf(p, "no %s message for locale %s (%s)", type_name(type), loc,
                            scope_text(p, dom_name));
        goto done;
    }
    if (zx_audit_record(db, actor, "deleteABQMessage", NULL, NULL,
                        apr_psprintf(p, "%s %s %s", scope_text(p, dom_name), type_name(type), loc),
                        err) < 0)
        goto done;
    rc = 0;
done:
    return zx_db_tx_end(db, own, rc, err);
}

int zx_abq_message_duplicate(apr_pool_t *p, zx_db *db, const char *actor, const char *domain,
                             zx_abq_msg_type type, const char *from_locale,
                             const char *to_locale, const char **err)
{
    const char *from = zx_abq_locale_norm(p, from_locale), *to = zx_abq_locale_norm(p, to_locale);
    if (!from || !to) {
        *err = apr_psprintf(p, "invalid locale \"%s\"", !from ? from_locale : to_locale);
        return -1;
    }
    int own;
    if (zx_db_tx_begin(db, &own, err) < 0)
        return -1;
    int rc = -1;
    const char *dom_id, *dom_name;
    if (msg_scope(p, db, domain, &dom_id, &dom_name, err) < 0)
        goto done;
    const char *params[4] = {dom_id, type_name(type), from, to};
    long n = zx_db_affected(db,
        "INSERT INTO abq_messages (domain_id, type, locale, from_addr, reply_to, subject, "
        "                          body_plain, body_html) "
        "SELECT domain_id, type, $4, from_addr, reply_to, subject, body_plain, body_html "
        "  FROM abq_messages WHERE COALESCE(domain_id, 0) = COALESCE($1::bigint, 0) "
        "   AND type = $2 AND locale = $3 "
        "ON CONFLICT (COALESCE(domain_id, 0), type, locale) DO UPDATE SET "
        "  from_addr = EXCLUDED.from_addr, reply_to = EXCLUDED.reply_to, "
        "  subject = EXCLUDED.subject, body_plain = EXCLUDED.body_plain, "
        "  body_html = EXCLUDED.body_html, modified_at = now()",
        4, params, err);
    if (n < 0)
        goto done;
    if (n == 0) {
        *err = apr_psprintf(p, "no %s message for locale %s (%s)", type_name(type), from,
                            scope_text(p, dom_name));
        goto done;
    }
    if (zx_audit_record(db, actor, "duplicateABQMessage", NULL, NULL,
                        apr_psprintf(p, "%s %s %s -> %s", scope_text(p, dom_name),
                                     type_name(type), from, to), err) < 0)
        goto done;
    rc = 0;
done:
    return zx_db_tx_end(db, own, rc, err);
}

int zx_abq_message_init(apr_pool_t *p, zx_db *db, const char *actor, int *count,
                        const char **err)
{
    int own;
    if (zx_db_tx_begin(db, &own, err) < 0)
        return -1;
    int rc = -1;
    *count = 0;
    for (int t = 0; t < 2; t++) {
        const zx_abq_message *b = zx_abq_message_builtin((zx_abq_msg_type)t);
        const char *params[3] = {type_name((zx_abq_msg_type)t), b->subject, b->body_plain};
        if (zx_db_run(db,
                      "INSERT INTO abq_messages (domain_id, type, locale, subject, body_plain) "
                      "VALUES (NULL, $1, 'default', $2, $3) "
                      "ON CONFLICT (COALESCE(domain_id, 0), type, locale) DO UPDATE SET "
                      "  from_addr = NULL, reply_to = NULL, subject = EXCLUDED.subject, "
                      "  body_plain = EXCLUDED.body_plain, body_html = NULL, modified_at = now()",
                      3, params, err) < 0)
            goto done;
        (*count)++;
    }
    if (zx_audit_record(db, actor, "initABQMessage", NULL, NULL, "all", err) < 0)
        goto done;
    rc = 0;
done:
    return zx_db_tx_end(db, own, rc, err);
}
