/* zxmobile - ABQ, Allow/Block/Quarantine (zxsync/abq.h): the pure parts (decision, rules,
 * locales, messages, parsers), what the gate reads and writes, and the administrators'
 * notification.  The pipeline's stage is gate/abq.c, the dummy mailbox abq/dummy.c, the
 * administration abq/admin.c. */
#include <zxsync/abq.h>
#include <zxsync/config.h>
#include <zxsync/log.h>
#include <zxsync/notification.h>

#include "abq_int.h"

#include <apr_strings.h>
#include <apr_time.h>
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- names ------------------------------------------------------------------------------- */

const char *zx_abq_status_name(zx_abq_status s)
{
    switch (s) {
    case ZX_ABQ_ALLOWED: return "Allowed";
    case ZX_ABQ_BLOCKED: return "Blocked";
    case ZX_ABQ_QUARANTINED: return "Quarantined";
    default: return NULL;
    }
}

zx_abq_status zx_abq_status_parse(const char *s)
{
    if (!s)
        return ZX_ABQ_NONE;
    if (strcasecmp(s, "Allowed") == 0)
        return ZX_ABQ_ALLOWED;
    if (strcasecmp(s, "Blocked") == 0)
        return ZX_ABQ_BLOCKED;
    if (strcasecmp(s, "Quarantined") == 0)
        return ZX_ABQ_QUARANTINED;
    return ZX_ABQ_NONE;
}

zx_abq_mode zx_abq_mode_parse(const char *s)
{
    if (s && strcasecmp(s, "Interactive") == 0)
        return ZX_ABQ_INTERACTIVE;
    if (s && strcasecmp(s, "Strict") == 0)
        return ZX_ABQ_STRICT;
    if (s && strcasecmp(s, "Disabled") == 0)
        return ZX_ABQ_DISABLED;
    return ZX_ABQ_PERMISSIVE;
}

const char *zx_abq_mode_name(zx_abq_mode m)
{
    static const char *const names[] = {"Permissive", "Interactive", "Strict", "Disabled"};
    return m <= ZX_ABQ_DISABLED ? names[m] : "Permissive";
}

char zx_abq_view_char(zx_abq_status s)
{
    return s == ZX_ABQ_QUARANTINED ? 'Q' : s == ZX_ABQ_BLOCKED ? 'B' : 'A';
}

/* ---- rules ------------------------------------------------------------------------------- */

/* Compile regex anchored at both ends; "(?i)" in front makes it case-insensitive. */
static int compile(apr_pool_t *p, const char *regex, regex_t *re, const char **err)
{
    int flags = REG_EXTENDED | REG_NOSUB;
    if (strncmp(regex, "(?i)", 4) == 0) {
        flags |= REG_ICASE;
        regex += 4;
    }
    if (!*regex) {
        if (err)
            *err = "empty regular expression";
        return -1;
    }
    int rc = regcomp(re, apr_pstrcat(p, "^(", regex, ")$", NULL), flags);
    if (rc != 0) {
        if (err) {
            char buf[160];
            regerror(rc, re, buf, sizeof buf);
            *err = apr_psprintf(p, "invalid regular expression \"%s\": %s", regex, buf);
        }
        regfree(re);
        return -1;
    }
    return 0;
}

int zx_abq_regex_compile(apr_pool_t *p, const char *regex, regex_t *re, const char **err)
{
    return compile(p, regex, re, err);
}

int zx_abq_regex_check(apr_pool_t *p, const char *regex, const char **err)
{
    regex_t re;
    if (!regex || strlen(regex) > 1024) {
        *err = "the regular expression is missing or longer than 1024 characters";
        return -1;
    }
    for (const char *s = regex; *s; s++)
        if (iscntrl((unsigned char)*s)) {
            *err = "the regular expression has a control character";
            return -1;
        }
    if (compile(p, regex, &re, err) < 0)
        return -1;
    regfree(&re);
    return 0;
}

int zx_abq_regex_match(apr_pool_t *p, const char *regex, const char *device_id)
{
    regex_t re;
    if (!regex || compile(p, regex, &re, NULL) < 0)
        return -1;
    int m = regexec(&re, device_id ? device_id : "", 0, NULL, 0) == 0;
    regfree(&re);
    return m;
}

zx_abq_decision zx_abq_decide(apr_pool_t *p, int running, zx_abq_mode mode, zx_abq_status pair,
                              zx_abq_status device, const char *device_id,
                              const apr_array_header_t *rules)
{
    zx_abq_decision d = {ZX_ABQ_ALLOWED, ZX_ABQ_BY_SERVICE, NULL, 0};
    if (!running)
        return d;
    if (mode == ZX_ABQ_DISABLED) {
        d.by = ZX_ABQ_BY_DISABLED;
        return d;
    }
    if (pair != ZX_ABQ_NONE) {
        d.status = pair;
        d.by = ZX_ABQ_BY_PAIR;
        return d;
    }
    if (device != ZX_ABQ_NONE) {
        d.status = device;
        d.by = ZX_ABQ_BY_DEVICE;
        return d;
    }
    for (int i = 0; rules && i < rules->nelts; i++) {
        const zx_abq_rule *r = &APR_ARRAY_IDX(rules, i, zx_abq_rule);
        if (r->status != ZX_ABQ_NONE && zx_abq_regex_match(p, r->regex, device_id) == 1) {
            d.status = r->status;
            d.by = ZX_ABQ_BY_RULE;
            d.rule = r;
            return d;
        }
    }
    d.by = ZX_ABQ_BY_MODE;
    if (mode == ZX_ABQ_INTERACTIVE) {
        d.status = ZX_ABQ_QUARANTINED;
        d.record = 1;
    }
    else if (mode == ZX_ABQ_STRICT) {
        d.status = ZX_ABQ_BLOCKED;
        d.record = 1;
    }
    return d;
}

/* ---- messages ---------------------------------------------------------------------------- */

int zx_abq_msg_type_parse(const char *s)
{
    if (s && strcasecmp(s, "quarantined") == 0)
        return ZX_ABQ_MSG_QUARANTINED;
    if (s && strcasecmp(s, "blocked") == 0)
        return ZX_ABQ_MSG_BLOCKED;
    return -1;
}

const char *zx_abq_locale_norm(apr_pool_t *p, const char *s)
{
    if (!s || !*s)
        return NULL;
    if (strcasecmp(s, "default") == 0)
        return "default";
    size_t n = strlen(s), i = 0;
    if (n > 12)
        return NULL;
    char *out = apr_pstrdup(p, s);
    while (i < n && isalpha((unsigned char)out[i])) {
        out[i] = (char)tolower((unsigned char)out[i]);
        i++;
    }
    if (i < 2 || i > 3)
        return NULL;
    if (i == n)
        return out;
    if (out[i] != '_' && out[i] != '-')
        return NULL;
    out[i] = '_';
    size_t r = ++i;
    while (i < n && isalnum((unsigned char)out[i])) {
        out[i] = (char)toupper((unsigned char)out[i]);
        i++;
    }
    if (i != n || n - r < 2 || n - r > 8)
        return NULL;
    return out;
}

static const zx_abq_message builtin[2] = {
    {NULL, "default", NULL, NULL,
     "Your device is waiting for approval",
     "This mobile device cannot synchronize your mailbox yet: it is in quarantine, waiting for "
     "an administrator to approve it.\n\n"
     "You do not need to do anything. As soon as the device is approved, your mail, contacts "
     "and calendars appear on it automatically.\n",
     NULL},
    {NULL, "default", NULL, NULL,
     "Your device is blocked",
     "This mobile device is not allowed to synchronize your mailbox: an administrator has "
     "blocked it.\n\n"
     "If you think this is a mistake, please contact your administrator.\n",
     NULL},
};

const zx_abq_message *zx_abq_message_builtin(zx_abq_msg_type type)
{
    return &builtin[type == ZX_ABQ_MSG_BLOCKED ? 1 : 0];
}

static const zx_abq_message *find_msg(const apr_array_header_t *c, const char *domain,
                                      const char *locale)
{
    if (!locale || !*locale)
        return NULL;
    for (int i = 0; c && i < c->nelts; i++) {
        const zx_abq_message *m = &APR_ARRAY_IDX(c, i, zx_abq_message);
        int same_scope = domain ? (m->domain && strcasecmp(m->domain, domain) == 0) : !m->domain;
        if (same_scope && m->locale && strcmp(m->locale, locale) == 0)
            return m;
    }
    return NULL;
}

const zx_abq_message *zx_abq_message_pick(apr_pool_t *p, const apr_array_header_t *candidates,
                                          const char *domain, const char *locale,
                                          zx_abq_msg_type type)
{
    const char *full = zx_abq_locale_norm(p, locale);
    const char *lang = NULL;
    if (full && strcmp(full, "default") == 0)
        full = NULL;
    if (full && strchr(full, '_'))
        lang = apr_pstrndup(p, full, (apr_size_t)(strchr(full, '_') - full));
    const char *scopes[2] = {domain, NULL};
    for (int s = domain ? 0 : 1; s < 2; s++) {
        const zx_abq_message *m;
        if ((m = find_msg(candidates, scopes[s], full)) ||
            (m = find_msg(candidates, scopes[s], lang)) ||
            (m = find_msg(candidates, scopes[s], "default")))
            return m;
    }
    return zx_abq_message_builtin(type);
}

/* ---- parsers ----------------------------------------------------------------------------- */

long long zx_abq_interval_parse(const char *s)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || v < 0 || !isdigit((unsigned char)s[0]))
        return -1;
    long long mult;
    if (!*end || strcasecmp(end, "ms") == 0)
        mult = 1;
    else if (strcasecmp(end, "s") == 0)
        mult = 1000;
    else if (strcasecmp(end, "m") == 0)
        mult = 60000;
    else if (strcasecmp(end, "h") == 0)
        mult = 3600000;
    else if (strcasecmp(end, "d") == 0)
        mult = 86400000;
    else
        return -1;
    if (v > 2147483647LL / mult)
        return -1;          /* abqNotificationsInterval is an int */
    return v * mult;
}

int zx_abq_device_id_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 32)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]))
            return 0;
    return 1;
}

int zx_abq_import_line(apr_pool_t *p, const char *line, const char **device,
                       const char **account, const char **why)
{
    *device = *account = NULL;
    const char *s = line;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    if (n && s[n - 1] == ',') {
        n--;
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
    }
    if (n == 0 || s[0] == '#')
        return 0;
    char *t = apr_pstrndup(p, s, n);
    char *slash = strchr(t, '/');
    if (slash) {
        *slash = '\0';
        const char *acct = slash + 1;
        if (!*acct || strchr(acct, '/') || strchr(acct, ' ') || strchr(acct, '\t')) {
            *why = apr_psprintf(p, "\"%s\" is not DEVICEID/account", s);
            return -1;
        }
        *account = acct;
    }
    if (!zx_abq_device_id_valid(t)) {
        *why = apr_psprintf(p, "\"%s\" is not a DeviceId (1-32 letters and digits)", t);
        return -1;
    }
    *device = t;
    return 1;
}

/* ---- what the gate reads, and what it writes --------------------------------------------- */

/* ZX_ABQ_CTX_COLS (abq.h) on their own: $1 DeviceId, $2 account, $3 COS, $4 device row,
 * $5 domain. */
static const char *const CTX_SQL =
    "SELECT " ZX_ABQ_CTX_COLS("$1", "$2", "$2::bigint", "$3",
                              "(SELECT abq_status FROM devices WHERE id = $4::bigint)",
                              "$5::bigint")
    " FROM abq_state s WHERE s.id = 1";

static const char *col(const PGresult *r, int c)
{
    return PQgetisnull(r, 0, c) ? NULL : PQgetvalue(r, 0, c);
}

int zx_abq_ctx_load(apr_pool_t *p, zx_db *db, const char *device_id, const char *account_id,
                    const char *cos_id, const char *device_row, const char *domain_id,
                    zx_abq_ctx *g, const char **err)
{
    const char *params[5] = {device_id, account_id, cos_id, device_row, domain_id};
    PGresult *res = zx_db_exec(db, CTX_SQL, 5, params, err);
    if (!res)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        *err = "the abq_state row is missing (zxsuite db migrate)";
        return -1;
    }
    zx_abq_ctx_parse(p, res, 0, g);
    PQclear(res);
    return 0;
}

void zx_abq_ctx_parse(apr_pool_t *p, const PGresult *res, int c0, zx_abq_ctx *g)
{
    const char *startup = col(res, c0 + 1), *gmode = col(res, c0 + 2), *mode = col(res, c0 + 3);
    int svc = col(res, c0 + 0) && col(res, c0 + 0)[0] == 't';
    int startup_on = !startup || strcasecmp(startup, "TRUE") == 0;
    zx_abq_mode global = zx_abq_mode_parse(gmode);
    g->running = svc && startup_on && global != ZX_ABQ_DISABLED;
    g->mode = mode ? zx_abq_mode_parse(mode) : global;
    g->pair = zx_abq_status_parse(col(res, c0 + 4));
    g->device = zx_abq_status_parse(col(res, c0 + 5));
    g->served = col(res, c0 + 6) ? col(res, c0 + 6)[0] : 'A';
    g->rules = apr_array_make(p, 4, sizeof(zx_abq_rule));
    if (col(res, c0 + 7)) {
        char *last, *text = apr_pstrdup(p, col(res, c0 + 7));
        for (char *line = apr_strtok(text, "\n", &last); line;
             line = apr_strtok(NULL, "\n", &last)) {
            char *sp = strchr(line, ' ');
            if (!sp)
                continue;
            *sp = '\0';
            zx_abq_rule *r = apr_array_push(g->rules);
            memset(r, 0, sizeof *r);
            r->status = zx_abq_status_parse(line);
            r->regex = sp + 1;
            r->order = g->rules->nelts;
        }
    }
    g->need_import = col(res, c0 + 8) && col(res, c0 + 8)[0] == 't';
    g->interval = col(res, c0 + 9) ? atoll(col(res, c0 + 9)) : 0;
    g->pending = col(res, c0 + 10) && col(res, c0 + 10)[0] == 't';
    g->since_last = col(res, c0 + 11) ? atoll(col(res, c0 + 11)) : -1;
}

int zx_abq_import_known(apr_pool_t *p, zx_db *db, const char *exclude_row, const char **count,
                        const char **err)
{
    const char *params[1] = {exclude_row ? exclude_row : "0"};
    PGresult *res = zx_db_exec(db,
        "WITH claim AS (UPDATE abq_state SET imported_at = now() "
        "               WHERE id = 1 AND imported_at IS NULL RETURNING id), "
        "ins AS (INSERT INTO abq_devices (device_id, account_id, status, source) "
        "        SELECT d.device_id, d.account_id, 'Allowed', 'startup' FROM devices d "
        "         WHERE EXISTS (SELECT 1 FROM claim) AND d.id <> $1::bigint "
        "           AND COALESCE(d.abq_status, 'A') = 'A' "
        "           AND NOT EXISTS (SELECT 1 FROM abq_devices) "
        "        ON CONFLICT DO NOTHING RETURNING 1) "
        "SELECT (SELECT count(*) FROM claim), (SELECT count(*) FROM ins)",
        1, params, err);
    if (!res)
        return -1;
    int claimed = atoi(PQgetvalue(res, 0, 0)) == 1;
    *count = claimed ? apr_pstrdup(p, PQgetvalue(res, 0, 1)) : NULL;
    PQclear(res);
    if (!claimed)
        return 0;
    const char *cp[1] = {*count};
    if (zx_db_run(db, "UPDATE abq_state SET imported_count = $1::bigint WHERE id = 1", 1, cp,
                  err) < 0)
        return -1;
    return 1;
}

int zx_abq_reset_device(zx_db *db, const char *device_row, char view, const char **err)
{
    char v[2] = {view, '\0'};
    const char *params[2] = {device_row, v};
    PGresult *res = zx_db_exec(db,
        "WITH d AS (UPDATE devices SET abq_status = $2, abq_since = now(), abq_notified = false, "
        "                  sync_cache = NULL "
        "           WHERE id = $1::bigint AND COALESCE(abq_status, 'A') <> $2 RETURNING id), "
        "s AS (UPDATE sync_states SET sync_key = GREATEST(sync_key, COALESCE(prev_key, 0)) + 1, "
        "             modseq = 0, cursor = NULL, aged = NULL, prev_key = NULL, "
        "             prev_modseq = NULL, prev_cursor = NULL, prev_aged = NULL, options = NULL, "
        "             updated_at = now() WHERE device_id IN (SELECT id FROM d)), "
        "f AS (UPDATE folder_states SET sync_key = GREATEST(sync_key, COALESCE(prev_key, 0)) + 1, "
        "             hier_seq = 0, prev_key = NULL, prev_hier_seq = NULL, updated_at = now() "
        "       WHERE device_id IN (SELECT id FROM d)) "
        "SELECT count(*) FROM d",
        2, params, err);
    if (!res)
        return -1;
    int n = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return n > 0;
}

int zx_abq_record(zx_db *db, const char *device_id, const char *account_id,
                  zx_abq_status status, zx_abq_mode mode, const char **err)
{
    const char *params[4] = {device_id, account_id, zx_abq_status_name(status),
                             mode == ZX_ABQ_STRICT ? "strict" : "interactive"};
    return zx_db_run(db,
                     "INSERT INTO abq_devices (device_id, account_id, status, source) "
                     "VALUES ($1, $2::bigint, $3, $4) ON CONFLICT DO NOTHING",
                     4, params, err) < 0 ? -1 : 0;
}

const char *zx_abq_by_text(apr_pool_t *p, const zx_abq_decision *d, zx_abq_mode mode)
{
    switch (d->by) {
    case ZX_ABQ_BY_SERVICE: return "the abq service is not running";
    case ZX_ABQ_BY_DISABLED: return "abqMode Disabled";
    case ZX_ABQ_BY_PAIR: return "device/account entry";
    case ZX_ABQ_BY_DEVICE: return "device entry";
    case ZX_ABQ_BY_RULE: return apr_psprintf(p, "rule \"%s\"", d->rule->regex);
    default: return apr_psprintf(p, "abqMode %s", zx_abq_mode_name(mode));
    }
}

/* ---- the administrators' notification -------------------------------------------------- */

/* The one parser of ZxMobile_NotificationRecipients (zxsync/recipients.h), as the
 * notification itself reads it. */
int zx_abq_admin_recipients(apr_pool_t *p, zx_db *db, apr_array_header_t **out,
                            const char **err)
{
    return zx_admin_recipients(p, db, out, err);
}

int zx_abq_notify_due(apr_pool_t *p, zx_db *db, zx_transport *t, const char **err)
{
    apr_array_header_t *rcpts;
    if (zx_abq_admin_recipients(p, db, &rcpts, err) < 0)
        return -1;
    if (rcpts->nelts == 0)
        return 0;           /* nobody to tell: the devices stay pending */
    int own;
    if (zx_db_tx_begin(db, &own, err) < 0)
        return -1;
    /* the claim: due, and not being sent by another node right now */
    PGresult *res = zx_db_exec(db,
        "UPDATE abq_state SET last_notification = now(), "
        "       notifications_sent = notifications_sent + 1 "
        " WHERE id = (SELECT s.id FROM abq_state s WHERE s.id = 1 AND "
        "               (SELECT value::bigint FROM config_values WHERE level = 'global' "
        "                  AND target = '' AND name = 'abqnotificationsinterval') > 0 AND "
        "               (s.last_notification IS NULL OR s.last_notification <= now() - "
        "                  (SELECT value::bigint FROM config_values WHERE level = 'global' "
        "                     AND target = '' AND name = 'abqnotificationsinterval') "
        "                  * interval '1 millisecond') "
        "             FOR UPDATE SKIP LOCKED) RETURNING id",
        0, NULL, err);
    if (!res)
        return zx_db_tx_end(db, own, -1, err);
    int claimed = PQntuples(res) == 1;
    PQclear(res);
    if (!claimed)
        return zx_db_tx_end(db, own, 0, err);
    res = zx_db_exec(db,
        "SELECT v.device_id, v.device_type, COALESCE(v.user_agent, ''), "
        "       a.local_part || '@' || dm.name, "
        "       to_char(v.abq_since AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), v.id "
        "  FROM devices v JOIN accounts a ON a.id = v.account_id "
        "  JOIN domains dm ON dm.id = a.domain_id "
        " WHERE v.abq_status = 'Q' AND NOT v.abq_notified "
        " ORDER BY v.abq_since, v.device_id LIMIT 1000",
        0, NULL, err);
    if (!res)
        return zx_db_tx_end(db, own, -1, err);
    int n = PQntuples(res);
    if (n == 0) {
        PQclear(res);
        const char *ignored;
        zx_db_tx_end(db, own, -1, &ignored);        /* nothing new: roll the claim back */
        return 0;
    }
    const char *ids = "{";
    for (int i = 0; i < n; i++)
        ids = apr_pstrcat(p, ids, i ? "," : "", PQgetvalue(res, i, 5), NULL);
    ids = apr_pstrcat(p, ids, "}", NULL);
    const char *body = "These devices were quarantined since the last notification and wait "
                       "for a decision\n(zxsuite mobile ABQ allow|block <device_id> "
                       "[account <account>]):\n\n";
    for (int i = 0; i < n; i++)
        body = apr_psprintf(p, "%s  device_id %s  account %s  type %s  since %s UTC%s%s\n", body,
                            PQgetvalue(res, i, 0), PQgetvalue(res, i, 3), PQgetvalue(res, i, 1),
                            PQgetvalue(res, i, 4), *PQgetvalue(res, i, 2) ? "  user agent " : "",
                            PQgetvalue(res, i, 2));
    zx_notification note;
    memset(&note, 0, sizeof note);
    note.server = zx_config_server_name(p);
    note.module = "ZxMobile";
    note.source = "abq";
    note.level = "warning";
    note.subject = apr_psprintf(p, "ABQ: %d newly quarantined device%s", n, n == 1 ? "" : "s");
    note.body = body;
    if (n == 1) {
        note.account = apr_pstrdup(p, PQgetvalue(res, 0, 3));
        note.device_id = apr_pstrdup(p, PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    /* the server notification (zxsuite core getNotification) and the mail.  When the mail
     * does not go out, the claim and the notification (with why) stay, and the devices stay
     * pending for the next attempt, one interval later: a sendmail that fails or hangs costs
     * one request per interval, not every request. */
    const char *status = NULL;
    if (zx_admin_notify(p, db, t, &note, &status, err) < 0)
        return zx_db_tx_end(db, own, -1, err);
    int sent = status && strncmp(status, "sent", 4) == 0;
    const char *up[1] = {ids};
    if (sent && zx_db_run(db, "UPDATE devices SET abq_notified = true WHERE id = ANY($1::bigint[])",
                          1, up, err) < 0)
        return zx_db_tx_end(db, own, -1, err);
    if (zx_db_tx_end(db, own, 0, err) < 0)
        return -1;
    if (!sent) {
        *err = status ? status : "not sent";
        return -1;
    }
    return n;
}
