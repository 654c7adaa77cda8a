/* zxmobile - EAS filters (see zxsync/easfilter.h and spec section 9). */
#include <zxsync/config.h>
#include <zxsync/easfilter.h>
#include <zxsync/log.h>
#include <zxsync/gate.h>

#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_time.h>
#include <ctype.h>
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct zx_ef_rule {
    zx_ef_type type;
    const char *value;         /* as given (shown by getAllEASFilters) */
    regex_t *re;               /* regex */
    int nsub;                  /* and / or */
    zx_ef_rule **sub;
};

static const char *const type_names[] = {"and", "or", "regex", "contains", "account", "domain",
                                         "always"};
static const char *const mode_names[] = {"add", "subtract", "fixed", "limit"};

const char *zx_ef_type_name(zx_ef_type t)
{
    return (unsigned)t < sizeof type_names / sizeof type_names[0] ? type_names[t] : "?";
}

const char *zx_ef_mode_name(zx_ef_mode m)
{
    return (unsigned)m < sizeof mode_names / sizeof mode_names[0] ? mode_names[m] : "?";
}

int zx_ef_type_parse(const char *s, zx_ef_type *t)
{
    for (size_t i = 0; s && i < sizeof type_names / sizeof type_names[0]; i++)
        if (strcasecmp(s, type_names[i]) == 0) {
            *t = (zx_ef_type)i;
            return 0;
        }
    return -1;
}

int zx_ef_mode_parse(const char *s, zx_ef_mode *m)
{
    for (size_t i = 0; s && i < sizeof mode_names / sizeof mode_names[0]; i++)
        if (strcasecmp(s, mode_names[i]) == 0) {
            *m = (zx_ef_mode)i;
            return 0;
        }
    return -1;
}

/* ---- compiling -------------------------------------------------------------------------------- */

static apr_status_t regex_cleanup(void *re)
{
    regfree(re);
    return APR_SUCCESS;
}

static int leaf_type(zx_ef_type t)
{
    return t != ZX_EF_AND && t != ZX_EF_OR;
}

/* Does an extended regular expression use a back-reference (\1 to \9, a GNU extension)?
 * Inside a bracket expression a backslash is an ordinary character. */
static int has_backreference(const char *re)
{
    for (const char *c = re; *c; c++) {
        if (*c == '\\') {
            if (c[1] >= '1' && c[1] <= '9')
                return 1;
            if (c[1])
                c++;   /* an escaped character, e.g. \\ */
        }
        else if (*c == '[') {
            c++;
            if (*c == '^')
                c++;
            if (*c == ']')
                c++;   /* a leading ] is a member */
            while (*c && *c != ']') {
                if (c[0] == '[' && (c[1] == ':' || c[1] == '.' || c[1] == '=')) {
                    const char *end = strchr(c + 2, c[1]);
                    while (end && end[1] != ']')
                        end = strchr(end + 1, c[1]);
                    if (!end)
                        return 0;   /* malformed: regcomp refuses it */
                    c = end + 2;
                    continue;
                }
                c++;
            }
            if (!*c)
                return 0;
        }
    }
    return 0;
}

static zx_ef_rule *compile_leaf(apr_pool_t *p, zx_ef_type type, const char *value,
                                const char **err)
{
    zx_ef_rule *r = apr_pcalloc(p, sizeof *r);
    r->type = type;
    r->value = value;
    if (type == ZX_EF_ALWAYS)
        return r;
    if (!value || !*value) {
        *err = apr_psprintf(p, "the %s rule needs a value", zx_ef_type_name(type));
        return NULL;
    }
    if ((type == ZX_EF_ACCOUNT || type == ZX_EF_DOMAIN) && strpbrk(value, ",= \t")) {
        *err = apr_psprintf(p, "\"%s\" is not %s", value,
                            type == ZX_EF_ACCOUNT ? "an account (user@domain)" : "a domain name");
        return NULL;
    }
    if (type == ZX_EF_REGEX) {
        if (has_backreference(value)) {
            *err = apr_psprintf(p, "invalid regular expression \"%s\": back-references (\\1 to "
                                "\\9) are not allowed", value);
            return NULL;
        }
        r->re = apr_pcalloc(p, sizeof *r->re);
        int rc = regcomp(r->re, value, REG_EXTENDED | REG_ICASE | REG_NOSUB);
        if (rc != 0) {
            char buf[200];
            regerror(rc, r->re, buf, sizeof buf);
            *err = apr_psprintf(p, "invalid regular expression \"%s\": %s", value, buf);
            return NULL;
        }
        apr_pool_cleanup_register(p, r->re, regex_cleanup, apr_pool_cleanup_null);
    }
    return r;
}

/* Where the next "key=" of a composite parameter starts: a comma followed by a leaf type name
 * and '=' (so a regular expression may hold commas, e.g. {1,3}). */
static const char *next_part(const char *s)
{
    for (const char *c = strchr(s, ','); c; c = strchr(c + 1, ',')) {
        for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++) {
            if (!leaf_type((zx_ef_type)i))
                continue;
            size_t n = strlen(type_names[i]);
            if (strncasecmp(c + 1, type_names[i], n) == 0 && c[1 + n] == '=')
                return c;
        }
    }
    return NULL;
}

int zx_easfilter_compile(apr_pool_t *p, zx_easfilter *f, const char **err)
{
    if (leaf_type(f->type)) {
        f->rule = compile_leaf(p, f->type, f->parameter, err);
        return f->rule ? 0 : -1;
    }
    zx_ef_rule *r = apr_pcalloc(p, sizeof *r);
    r->type = f->type;
    r->value = f->parameter;
    apr_array_header_t *subs = apr_array_make(p, 4, sizeof(zx_ef_rule *));
    const char *s = f->parameter ? f->parameter : "";
    while (*s) {
        const char *end = next_part(s);
        const char *part = end ? apr_pstrmemdup(p, s, (apr_size_t)(end - s)) : s;
        const char *eq = strchr(part, '=');
        zx_ef_type t;
        if (!eq || zx_ef_type_parse(apr_pstrmemdup(p, part, (apr_size_t)(eq - part)), &t) < 0 ||
            !leaf_type(t)) {
            *err = apr_psprintf(p, "\"%s\" in the %s rule is not type=value with a type of "
                                "contains, regex, account, domain or always", part,
                                zx_ef_type_name(f->type));
            return -1;
        }
        zx_ef_rule *sub = compile_leaf(p, t, eq + 1, err);
        if (!sub)
            return -1;
        APR_ARRAY_PUSH(subs, zx_ef_rule *) = sub;
        s = end ? end + 1 : "";
    }
    if (subs->nelts == 0) {
        *err = apr_psprintf(p, "the %s rule needs type=value parts, e.g. "
                            "account=user@example.com,contains=android", zx_ef_type_name(f->type));
        return -1;
    }
    r->nsub = subs->nelts;
    r->sub = (zx_ef_rule **)subs->elts;
    f->rule = r;
    return 0;
}

/* ---- matching and evaluating ---------------------------------------------------------------- */

static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *h = hay; *h; h++) {
        size_t i = 0;
        while (i < n && h[i] &&
               tolower((unsigned char)h[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return n == 0;
}

static int rule_matches(const zx_ef_rule *r, const zx_ef_subject *s)
{
    const char *ua = s->user_agent ? s->user_agent : "";
    const char *acct = s->account ? s->account : "";
    const char *at = strrchr(acct, '@');
    switch (r->type) {
    case ZX_EF_ALWAYS:
        return 1;
    case ZX_EF_CONTAINS:
        return contains_ci(ua, r->value);
    case ZX_EF_REGEX:
        return r->re && regexec(r->re, ua, 0, NULL, 0) == 0;
    case ZX_EF_ACCOUNT:
        return *acct && strcasecmp(acct, r->value) == 0;
    case ZX_EF_DOMAIN:
        return at && strcasecmp(at + 1, r->value) == 0;
    case ZX_EF_AND:
        for (int i = 0; i < r->nsub; i++)
            if (!rule_matches(r->sub[i], s))
                return 0;
        return r->nsub > 0;
    case ZX_EF_OR:
        for (int i = 0; i < r->nsub; i++)
            if (rule_matches(r->sub[i], s))
                return 1;
        return 0;
    }
    return 0;
}

/* The subject with its User-Agent cut to ZX_EASFILTER_MAX_SUBJECT bytes (at a character
 * boundary) in buf. */
static const zx_ef_subject *bounded(const zx_ef_subject *s, zx_ef_subject *out,
                                    char buf[ZX_EASFILTER_MAX_SUBJECT + 1])
{
    if (!s->user_agent || strlen(s->user_agent) <= ZX_EASFILTER_MAX_SUBJECT)
        return s;
    size_t n = ZX_EASFILTER_MAX_SUBJECT;
    while (n > 0 && ((unsigned char)s->user_agent[n] & 0xC0) == 0x80)
        n--;
    memcpy(buf, s->user_agent, n);
    buf[n] = '\0';
    out->user_agent = buf;
    out->account = s->account;
    return out;
}

int zx_easfilter_matches(const zx_easfilter *f, const zx_ef_subject *s)
{
    zx_ef_subject b;
    char buf[ZX_EASFILTER_MAX_SUBJECT + 1];
    return f->rule && rule_matches(f->rule, bounded(s, &b, buf));
}

/* Every version up to and including the highest one of set. */
static zx_vset up_to_highest(zx_vset set)
{
    zx_vset mask = 0, acc = 0;
    for (int i = 0; zx_versions[i]; i++) {
        acc |= zx_vset_of(zx_versions[i]);
        if (set & zx_vset_of(zx_versions[i]))
            mask = acc;
    }
    return mask;
}

zx_vset zx_easfilters_eval(const zx_easfilter *const *filters, int n, zx_vset server,
                           const zx_ef_subject *s, int *matched)
{
    zx_vset pool = server;
    zx_ef_subject b;
    char buf[ZX_EASFILTER_MAX_SUBJECT + 1];
    s = bounded(s, &b, buf);
    if (matched)
        *matched = -1;
    for (int i = 0; i < n; i++) {
        const zx_easfilter *f = filters[i];
        if (!f->rule || !rule_matches(f->rule, s))
            continue;
        switch (f->mode) {
        case ZX_EF_FIXED: pool = f->versions; break;
        case ZX_EF_LIMIT: pool &= up_to_highest(f->versions); break;
        case ZX_EF_ADD: pool |= f->versions; break;
        case ZX_EF_SUBTRACT: pool &= ~f->versions; break;
        }
        if (matched)
            *matched = f->id;
        if (f->blocking)
            break;
    }
    return pool & server;
}

/* ---- rendering --------------------------------------------------------------------------------- */

static const char *leaf_str(apr_pool_t *p, const zx_ef_rule *r)
{
    if (r->type == ZX_EF_ALWAYS)
        return "[type = always]";
    return apr_psprintf(p, "[type = %s; rule = %s]", zx_ef_type_name(r->type), r->value);
}

const char *zx_easfilter_rule_str(apr_pool_t *p, const zx_easfilter *f)
{
    const zx_ef_rule *r = f->rule;
    if (!r)
        return apr_psprintf(p, "[type = %s; rule = %s]", zx_ef_type_name(f->type),
                            f->parameter ? f->parameter : "");
    if (leaf_type(r->type))
        return leaf_str(p, r);
    /* as the documented sample prints it (its outer bracket is left open) */
    const char *sep = r->type == ZX_EF_AND ? " AND " : " OR ";
    const char *s = apr_psprintf(p, "[type = %s; rules = [", zx_ef_type_name(r->type));
    for (int i = 0; i < r->nsub; i++)
        s = apr_pstrcat(p, s, i ? sep : "", leaf_str(p, r->sub[i]), NULL);
    return apr_pstrcat(p, s, "]", NULL);
}

/* ---- storage ----------------------------------------------------------------------------------- */

int zx_easfilters_load(apr_pool_t *p, zx_db *db, const char *server, apr_array_header_t **out,
                       const char **err)
{
    PGresult *res = zx_db_exec(db,
                               "SELECT position, type, parameter, mode, versions, blocking, "
                               "       builtin "
                               "  FROM eas_filters ORDER BY position",
                               0, NULL, err);
    if (!res)
        return -1;
    zx_vset outlook = 0;
    int need_outlook = 0;
    for (int r = 0; r < PQntuples(res); r++)
        if (!PQgetisnull(res, r, 6))
            need_outlook = 1;
    if (need_outlook) {
        zx_config_scope scope = {NULL, NULL, NULL, server};
        const char *v = NULL;
        if (zx_config_resolve(p, db, &scope, "ZxMobile_MaxOutlookVersion", &v, NULL, err) < 0) {
            PQclear(res);
            return -1;
        }
        outlook = zx_vset_of(zx_version_parse(v));
    }
    *out = apr_array_make(p, PQntuples(res) + 1, sizeof(zx_easfilter *));
    for (int r = 0; r < PQntuples(res); r++) {
        zx_easfilter *f = apr_pcalloc(p, sizeof *f);
        const char *bad = NULL, *why = NULL;
        f->id = r;   /* positions are kept 0..n-1; the row number is the ID either way */
        f->parameter = apr_pstrdup(p, PQgetvalue(res, r, 2));
        f->blocking = strcmp(PQgetvalue(res, r, 5), "t") == 0;
        f->builtin = PQgetisnull(res, r, 6) ? NULL : apr_pstrdup(p, PQgetvalue(res, r, 6));
        if (zx_ef_type_parse(PQgetvalue(res, r, 1), &f->type) < 0 ||
            zx_ef_mode_parse(PQgetvalue(res, r, 3), &f->mode) < 0)
            continue;   /* the table's CHECK constraints keep this from happening */
        f->versions = f->builtin ? outlook : zx_vset_parse(p, PQgetvalue(res, r, 4), &bad);
        if (zx_easfilter_compile(p, f, &why) < 0)
            f->rule = NULL;   /* checked when added: only a hand-edited row gets here; it never matches */
        APR_ARRAY_PUSH(*out, zx_easfilter *) = f;
    }
    PQclear(res);
    return 0;
}

static int lock_filters(zx_db *db, int *own, const char **err)
{
    if (zx_db_tx_begin(db, own, err) < 0)
        return -1;
    /* one writer at a time: positions stay 0..n-1 */
    if (zx_db_run(db, "LOCK TABLE eas_filters IN SHARE ROW EXCLUSIVE MODE", 0, NULL, err) < 0) {
        zx_db_tx_end(db, *own, -1, err);
        return -1;
    }
    return 0;
}

static int count_filters(zx_db *db, int *n, const char **err)
{
    PGresult *res = zx_db_exec(db, "SELECT count(*) FROM eas_filters", 0, NULL, err);
    if (!res)
        return -1;
    *n = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

int zx_easfilter_add(apr_pool_t *p, zx_db *db, const char *type, const char *parameter,
                     const char *mode, const char *versions, int blocking, int *id,
                     const char **err)
{
    zx_easfilter f;
    memset(&f, 0, sizeof f);
    const char *bad = NULL;
    if (zx_ef_type_parse(type, &f.type) < 0) {
        *err = apr_psprintf(p, "unknown filter type \"%s\" (and, or, regex, contains, account, "
                            "domain)", type ? type : "");
        return -1;
    }
    if (zx_ef_mode_parse(mode, &f.mode) < 0) {
        *err = apr_psprintf(p, "unknown filter mode \"%s\" (add, subtract, fixed, limit)",
                            mode ? mode : "");
        return -1;
    }
    f.versions = zx_vset_parse(p, versions ? versions : "", &bad);
    if (!f.versions) {
        *err = bad && *bad ? apr_psprintf(p, "unknown EAS version \"%s\" (2.5, 12.0, 12.1, 14.0, 14.1, "
                                  "16.0, 16.1)", bad)
                   : "no EAS versions given (e.g. 2.5,12.0,14.1)";
        return -1;
    }
    f.parameter = parameter ? parameter : "";
    if (zx_easfilter_compile(p, &f, err) < 0)
        return -1;
    int own = 0, n = 0;
    if (lock_filters(db, &own, err) < 0)
        return -1;
    int rc = count_filters(db, &n, err);
    if (rc == 0) {
        const char *params[] = {apr_itoa(p, n), zx_ef_type_name(f.type), f.parameter,
                                zx_ef_mode_name(f.mode), zx_vset_str(p, f.versions),
                                blocking ? "t" : "f"};
        rc = zx_db_run(db,
                       "INSERT INTO eas_filters (position, type, parameter, mode, versions, "
                       "blocking) VALUES ($1, $2, $3, $4, $5, $6)",
                       6, params, err);
    }
    rc = zx_db_tx_end(db, own, rc, err);
    if (rc == 0)
        *id = n;
    return rc;
}

static const char *no_such(apr_pool_t *p, int id, int n)
{
    if (n == 0)
        return apr_psprintf(p, "no EAS filter with ID %d: there are no filters", id);
    return apr_psprintf(p, "no EAS filter with ID %d: the IDs are 0 to %d", id, n - 1);
}

int zx_easfilter_delete(apr_pool_t *p, zx_db *db, int id, const char **err)
{
    int own = 0, n = 0;
    if (lock_filters(db, &own, err) < 0)
        return -1;
    int rc = count_filters(db, &n, err);
    if (rc == 0 && (id < 0 || id >= n)) {
        *err = no_such(p, id, n);
        rc = -1;
    }
    const char *params[] = {apr_itoa(p, id)};
    if (rc == 0)
        rc = zx_db_run(db, "DELETE FROM eas_filters WHERE position = $1", 1, params, err);
    if (rc == 0)
        rc = zx_db_run(db, "UPDATE eas_filters SET position = position - 1 WHERE position > $1",
                       1, params, err);
    return zx_db_tx_end(db, own, rc, err);
}

int zx_easfilter_move(apr_pool_t *p, zx_db *db, int from, int to, const char **err)
{
    int own = 0, n = 0;
    if (lock_filters(db, &own, err) < 0)
        return -1;
    int rc = count_filters(db, &n, err);
    if (rc == 0 && (from < 0 || from >= n)) {
        *err = no_such(p, from, n);
        rc = -1;
    }
    else if (rc == 0 && (to < 0 || to >= n)) {
        *err = apr_psprintf(p, "cannot move to position %d: the positions are 0 to %d", to, n - 1);
        rc = -1;
    }
    if (rc == 0 && from != to) {
        const char *params[] = {apr_itoa(p, from), apr_itoa(p, to)};
        rc = zx_db_run(db,
                       "UPDATE eas_filters SET position = CASE "
                       "    WHEN position = $1 THEN $2 "
                       "    WHEN $1 < $2 AND position > $1 AND position <= $2 THEN position - 1 "
                       "    WHEN $1 > $2 AND position >= $2 AND position < $1 THEN position + 1 "
                       "    ELSE position END "
                       " WHERE position BETWEEN LEAST($1::integer, $2::integer) "
                       "                    AND GREATEST($1::integer, $2::integer)",
                       2, params, err);
    }
    return zx_db_tx_end(db, own, rc, err);
}

/* ---- the per-process cache ------------------------------------------------------------------ */

/* The answers per (User-Agent, account): a direct-mapped table of fixed slots, emptied when
 * the filters change.  A key longer than a slot (it cannot be with a bounded User-Agent and an
 * account name) is evaluated every time. */
#define EF_SLOTS 128
#define EF_KEY_MAX (ZX_EASFILTER_MAX_SUBJECT + 1 + 320)
typedef struct {
    unsigned len;              /* 0 = empty */
    zx_vset versions;          /* for the server versions below */
    zx_vset server;
    int matched;
    char key[EF_KEY_MAX];
} ef_slot;

struct zx_easfilter_cache {
    apr_thread_mutex_t *mu;
    apr_time_t checked;
    int loaded;
    apr_pool_t *snap;          /* owns filters; an unmanaged pool swapped on refresh */
    zx_easfilter **filters;
    int n;
    const char *signature;     /* the filters as text (in snap): same filters, same answers */
    ef_slot *slots;
    unsigned long evaluations, hits;
};

static apr_status_t cache_cleanup(void *data)
{
    zx_easfilter_cache *c = data;
    if (c->snap)
        apr_pool_destroy(c->snap);
    c->snap = NULL;
    return APR_SUCCESS;
}

zx_easfilter_cache *zx_easfilter_cache_create(apr_pool_t *p)
{
    zx_easfilter_cache *c = apr_pcalloc(p, sizeof *c);
    if (apr_thread_mutex_create(&c->mu, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS)
        return NULL;
    c->slots = apr_pcalloc(p, EF_SLOTS * sizeof *c->slots);
    apr_pool_cleanup_register(p, c, cache_cleanup, apr_pool_cleanup_null);
    return c;
}

static const char *signature(apr_pool_t *p, apr_array_header_t *list)
{
    const char *sig = "";
    for (int i = 0; i < list->nelts; i++) {
        const zx_easfilter *f = APR_ARRAY_IDX(list, i, zx_easfilter *);
        sig = apr_psprintf(p, "%s%d\x1f%s\x1f%d\x1f%u\x1f%d\x1f%s\x1e", sig, (int)f->type,
                           f->parameter ? f->parameter : "", (int)f->mode, (unsigned)f->versions,
                           f->blocking, f->rule ? "" : "x");
    }
    return sig;
}

/* Call with c->mu held. */
static void install_locked(zx_easfilter_cache *c, apr_pool_t *owner, apr_array_header_t *list)
{
    const char *sig = signature(owner, list);
    if (!c->signature || strcmp(sig, c->signature) != 0)
        for (int i = 0; i < EF_SLOTS; i++)
            c->slots[i].len = 0;
    if (c->snap)
        apr_pool_destroy(c->snap);
    c->snap = owner;
    c->signature = sig;
    c->filters = (zx_easfilter **)list->elts;
    c->n = list->nelts;
    c->loaded = 1;
}

void zx_easfilter_cache_install(zx_easfilter_cache *c, apr_pool_t *owner, apr_array_header_t *list)
{
    apr_thread_mutex_lock(c->mu);
    install_locked(c, owner, list);
    apr_thread_mutex_unlock(c->mu);
}

zx_vset zx_easfilter_cache_eval(zx_easfilter_cache *c, zx_vset server, const zx_ef_subject *s,
                                int *matched)
{
    zx_ef_subject b;
    char buf[ZX_EASFILTER_MAX_SUBJECT + 1];
    s = bounded(s, &b, buf);
    const char *ua = s->user_agent ? s->user_agent : "", *acct = s->account ? s->account : "";
    size_t ul = strlen(ua), al = strlen(acct);
    char key[EF_KEY_MAX];
    unsigned len = 0;
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a of UA, an unused byte, account, flags */
    if (ul + al + 3 <= sizeof key) {
        memcpy(key, ua, ul);
        key[ul] = '\x01';
        memcpy(key + ul + 1, acct, al);
        key[ul + 1 + al] = s->user_agent ? 'u' : '-';
        key[ul + 2 + al] = s->account ? 'a' : '-';
        len = (unsigned)(ul + al + 3);
        for (unsigned i = 0; i < len; i++)
            h = (h ^ (unsigned char)key[i]) * 1099511628211ULL;
    }
    int m = -1;
    apr_thread_mutex_lock(c->mu);
    ef_slot *slot = len ? &c->slots[h % EF_SLOTS] : NULL;
    zx_vset v;
    if (slot && slot->len == len && slot->server == server && memcmp(slot->key, key, len) == 0) {
        v = slot->versions;
        m = slot->matched;
        c->hits++;
    }
    else {
        v = zx_easfilters_eval((const zx_easfilter *const *)c->filters, c->n, server, s, &m);
        c->evaluations++;
        if (slot) {
            memcpy(slot->key, key, len);
            slot->len = len;
            slot->versions = v;
            slot->server = server;
            slot->matched = m;
        }
    }
    apr_thread_mutex_unlock(c->mu);
    if (matched)
        *matched = m;
    return v;
}

void zx_easfilter_cache_stats(zx_easfilter_cache *c, unsigned long *evaluations,
                              unsigned long *hits)
{
    apr_thread_mutex_lock(c->mu);
    *evaluations = c->evaluations;
    *hits = c->hits;
    apr_thread_mutex_unlock(c->mu);
}

int zx_easfilter_versions(const zx_server *srv, zx_request *req, zx_vset *out, const char **err)
{
    zx_easfilter_cache *c = srv->easfilters;
    zx_vset server = srv->settings.versions;
    *out = server;
    if (!c)
        return 0;
    apr_time_t now = apr_time_now();
    apr_thread_mutex_lock(c->mu);
    int fresh = c->loaded && now - c->checked < apr_time_from_sec(ZX_EASFILTER_RECHECK);
    int loaded = c->loaded;
    apr_thread_mutex_unlock(c->mu);
    if (!fresh) {
        apr_pool_t *np = NULL;
        apr_array_header_t *list = NULL;
        const char *why = NULL;
        zx_db *db = zx_request_db(srv, req, &why);
        int ok = db && apr_pool_create(&np, NULL) == APR_SUCCESS &&
                 zx_easfilters_load(np, db, srv->server_name, &list, &why) == 0;
        if (!ok && np) {
            apr_pool_destroy(np);
            np = NULL;
        }
        apr_thread_mutex_lock(c->mu);
        c->checked = now;
        if (ok) {
            install_locked(c, np, list);
            loaded = 1;
        }
        apr_thread_mutex_unlock(c->mu);
        if (!ok) {
            if (!loaded) {
                *err = why ? why : "cannot read the EAS filters";
                return -1;
            }
            zx_log(req->log_ctx, ZX_LOG_WARNING,
                   ZXLOGNO(01510) "EAS filters: cannot refresh them, keeping the previous ones: %s",
                   why ? why : "internal error");
        }
    }
    zx_ef_subject s = {req->user_agent, req->authenticated ? req->account.name : NULL};
    int matched = -1;
    *out = zx_easfilter_cache_eval(c, server, &s, &matched);
    if (matched >= 0)
        zx_log(req->log_ctx, ZX_LOG_DEBUG,
               ZXLOGNO(01511) "EAS filters: %s with User-Agent \"%s\" gets %s (last matching "
               "filter: ID %d)", s.account ? s.account : "-", s.user_agent ? s.user_agent : "",
               zx_vset_str(req->pool, *out), matched);
    return 0;
}
