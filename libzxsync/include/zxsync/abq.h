/* zxmobile - ABQ, Allow/Block/Quarantine (spec 11): which devices may synchronise.
 *
 * The decision (spec 11.2) for a device D used by an account A:
 *   1. the abq service does not run, or A's abqMode (account -> COS -> global) is Disabled:
 *      allowed;
 *   2. an entry for D/A in the device control list: its status;
 *   3. else an entry for D alone (any account): its status;
 *   4. else the first rule, in ascending order, whose regex matches the whole DeviceId and
 *      whose domain (if any) is A's domain: its status;
 *   5. else the mode: Permissive allows; Interactive quarantines and Strict blocks, and the
 *      decision becomes a D/A entry.
 * A quarantined or blocked device is served the dummy mailbox: FolderSync shows only an Inbox
 * and Sync of it brings one notice (the setABQMessage text for the account's domain and
 * zimbraLocale).  Whenever what a device is served changes, its sync states are reset (no key
 * it holds is valid any more), so it moves between the dummy and the real mailbox from SyncKey 0
 * with nothing twice.
 *
 * The pure functions (decision, rule matching, locales, message choice, intervals, import
 * lines) are unit-tested (t/unit/test_abq.c); the rest works on the database (sql/010_abq.sql).
 */
#ifndef ZXSYNC_ABQ_H
#define ZXSYNC_ABQ_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <zxsync/db.h>
#include <zxsync/eas.h>
#include <zxsync/store.h>
#include <zxsync/transport.h>

typedef enum {
    ZX_ABQ_NONE = 0,            /* no status (no entry, no rule) */
    ZX_ABQ_ALLOWED = 1,
    ZX_ABQ_BLOCKED = 2,
    ZX_ABQ_QUARANTINED = 3
} zx_abq_status;

typedef enum {
    ZX_ABQ_PERMISSIVE = 0,
    ZX_ABQ_INTERACTIVE,
    ZX_ABQ_STRICT,
    ZX_ABQ_DISABLED
} zx_abq_mode;

/* "Allowed", "Blocked", "Quarantined" (NULL for NONE). */
const char *zx_abq_status_name(zx_abq_status s);
/* Case-insensitive; ZX_ABQ_NONE when s is no status. */
zx_abq_status zx_abq_status_parse(const char *s);
/* Case-insensitive abqMode value; unknown values are Permissive (the default). */
zx_abq_mode zx_abq_mode_parse(const char *s);
const char *zx_abq_mode_name(zx_abq_mode m);

typedef struct {
    const char *regex;
    zx_abq_status status;
    long long order;
    const char *domain;         /* domain name (or id), NULL = every domain */
} zx_abq_rule;

/* Check a rule's regex: POSIX extended, matched against the whole DeviceId; a leading "(?i)"
 * (Java style) makes it case-insensitive.  Returns 0, or -1 and *err. */
int zx_abq_regex_check(apr_pool_t *p, const char *regex, const char **err);
/* 1 when regex matches the whole device_id, 0 when not, -1 for an invalid regex. */
int zx_abq_regex_match(apr_pool_t *p, const char *regex, const char *device_id);

typedef enum {
    ZX_ABQ_BY_SERVICE = 0,      /* the abq service does not run */
    ZX_ABQ_BY_DISABLED,         /* the account's mode is Disabled */
    ZX_ABQ_BY_PAIR,             /* the device/account entry */
    ZX_ABQ_BY_DEVICE,           /* the device entry */
    ZX_ABQ_BY_RULE,
    ZX_ABQ_BY_MODE
} zx_abq_by;

typedef struct {
    zx_abq_status status;       /* ALLOWED, BLOCKED or QUARANTINED */
    zx_abq_by by;
    const zx_abq_rule *rule;    /* ZX_ABQ_BY_RULE: the rule that matched */
    int record;                 /* the mode decided: record a device/account entry */
} zx_abq_decision;

/* The decision procedure above.  rules: zx_abq_rule, already in evaluation order and limited
 * to those that apply to the account's domain (or NULL). */
zx_abq_decision zx_abq_decide(apr_pool_t *p, int running, zx_abq_mode mode, zx_abq_status pair,
                              zx_abq_status device, const char *device_id,
                              const apr_array_header_t *rules);

/* ---- messages (spec 11.8) -------------------------------------------------------------------- */

typedef enum { ZX_ABQ_MSG_QUARANTINED = 0, ZX_ABQ_MSG_BLOCKED = 1 } zx_abq_msg_type;

/* "quarantined"/"blocked" (case-insensitive); -1 when neither. */
int zx_abq_msg_type_parse(const char *s);

/* A locale as stored: "default", or language [ "_" region ] with the language lower-case and
 * the region upper-case ("en-us" -> "en_US", "FR" -> "fr").  NULL when s is no locale. */
const char *zx_abq_locale_norm(apr_pool_t *p, const char *s);

typedef struct {
    const char *domain;         /* NULL = global */
    const char *locale;         /* normalised */
    const char *from;           /* NULL = the default sender */
    const char *reply_to;
    const char *subject;
    const char *body_plain;
    const char *body_html;      /* NULL = none */
} zx_abq_message;

/* The built-in message of a type (in English). */
const zx_abq_message *zx_abq_message_builtin(zx_abq_msg_type type);

/* The message a device sees, out of the candidates of its type (zx_abq_message, global ones
 * with domain NULL, the domain's with domain = domain): domain + locale -> domain + language
 * -> domain default -> global + locale -> global + language -> global default -> built-in.
 * locale may be NULL or "" (then only the defaults). */
const zx_abq_message *zx_abq_message_pick(apr_pool_t *p, const apr_array_header_t *candidates,
                                          const char *domain, const char *locale,
                                          zx_abq_msg_type type);

/* ---- small parsers ------------------------------------------------------------------------- */

/* "45m", "6h", "1d", "30s", "500ms", "0" or plain milliseconds -> milliseconds; -1 if none. */
long long zx_abq_interval_parse(const char *s);

/* One line of an import file: "DEVICEID" or "DEVICEID/account" (blanks around, a trailing
 * comma, an empty line or a "#" comment are allowed).  Returns 1 and *device (and *account,
 * NULL when none), 0 for a line with nothing, -1 and *why for a malformed line. */
int zx_abq_import_line(apr_pool_t *p, const char *line, const char **device,
                       const char **account, const char **why);

/* 1 when s is a DeviceId ([MS-ASHTTP]: 1-32 letters and digits). */
int zx_abq_device_id_valid(const char *s);

/* ---- what the device gate reads and writes (the stage is gate/abq.c) ----------------------- */

/* What a device with status s is served: 'A' its mailbox, 'Q' / 'B' the dummy one. */
char zx_abq_view_char(zx_abq_status s);

/* What the gate reads, as ZX_ABQ_CTX_NCOLS columns of a statement over "abq_state s" (the row
 * id = 1): the device registry reads them along with the device record (gate/device.c), so
 * the gate (gate/abq.c) costs no round trip of its own.  Arguments are SQL expressions: the
 * DeviceId (text), the account id as text and as bigint, the account's COS id (text, NULL: the
 * default COS), the device's abq_status and the account's domain id (bigint). */
#define ZX_ABQ_CTX_COLS(dev, acct_text, acct_bigint, cos, served, domain)                     \
    "(SELECT bool_and(running) FROM services WHERE name IN ('module', 'abq')), "             \
    "  (SELECT value FROM config_values WHERE level = 'global' AND target = '' "             \
    "     AND name = 'abq_enabled_at_startup'), "                                            \
    "  (SELECT value FROM config_values WHERE level = 'global' AND target = '' "             \
    "     AND name = 'abqmode'), "                                                           \
    "  COALESCE((SELECT value FROM config_values WHERE level = 'account' "                   \
    "              AND target = " acct_text " AND name = 'abqmode'), "                       \
    "           (SELECT value FROM config_values WHERE level = 'cos' AND name = 'abqmode' "  \
    "              AND target = COALESCE(" cos ", "                                          \
    "                                    (SELECT id::text FROM cos WHERE name = 'default')))), " \
    "  (SELECT status FROM abq_devices WHERE lower(device_id) = lower(" dev ") "             \
    "     AND account_id = " acct_bigint "), "                                               \
    "  (SELECT status FROM abq_devices WHERE lower(device_id) = lower(" dev ") "             \
    "     AND account_id IS NULL), "                                                         \
    "  " served ", "                                                                         \
    "  (SELECT string_agg(r.status || ' ' || r.regex, E'\\n' "                               \
    "                     ORDER BY r.ord, r.domain_id IS NULL, r.regex) "                    \
    "     FROM abq_rules r WHERE r.domain_id IS NULL OR r.domain_id = " domain "), "         \
    "  s.imported_at IS NULL, "                                                              \
    "  (SELECT value FROM config_values WHERE level = 'global' AND target = '' "             \
    "     AND name = 'abqnotificationsinterval'), "                                          \
    "  EXISTS (SELECT 1 FROM devices WHERE abq_status = 'Q' AND NOT abq_notified), "         \
    "  floor(extract(epoch FROM now() - s.last_notification) * 1000)::bigint"
#define ZX_ABQ_CTX_NCOLS 12

/* Those columns, parsed. */
typedef struct {
    int running;                /* the abq service runs for this account */
    zx_abq_mode mode;
    zx_abq_status pair, device; /* the device/account and the device entries */
    char served;                /* what the device is served now: 'A', 'Q', 'B' */
    apr_array_header_t *rules;  /* zx_abq_rule, in evaluation order */
    int need_import;            /* the known devices were never imported */
    long long interval;         /* abqNotificationsInterval, ms */
    int pending;                /* devices quarantined since the last notification */
    long long since_last;       /* ms since the last notification, -1 never */
} zx_abq_ctx;

/* The ZX_ABQ_CTX_COLS of row 0 from column c0 on. */
void zx_abq_ctx_parse(apr_pool_t *p, const PGresult *res, int c0, zx_abq_ctx *g);
/* Read them on their own (the device's record row, its account, COS and domain ids).
 * Returns 0, or -1 and *err (also when there is no abq_state row). */
int zx_abq_ctx_load(apr_pool_t *p, zx_db *db, const char *device_id, const char *account_id,
                    const char *cos_id, const char *device_row, const char *domain_id,
                    zx_abq_ctx *g, const char **err);

/* The devices known before the service first ran become Allowed (spec 11.1), once: whoever
 * claims abq_state.imported_at does it, and only when the list is empty; exclude_row (a
 * device record id, NULL none) is left out.  Returns 1 and *count (how many, as text) when
 * this call did it, 0 when it was done before, -1 and *err. */
int zx_abq_import_known(apr_pool_t *p, zx_db *db, const char *exclude_row, const char **count,
                        const char **err);
/* What the device is served changed to view (zx_abq_view_char): record it and reset its sync
 * states (one statement, so two requests of the device cannot both think they did it half).
 * A reset state keeps only a key number the device was never given: every key the device
 * holds is refused (Sync status 3, FolderSync 9) and it starts over from 0, while the keys of
 * the new states go on from there, so no old key can ever match a new state.  1 changed,
 * 0 another request did it first, -1 error. */
int zx_abq_reset_device(zx_db *db, const char *device_row, char view, const char **err);
/* Record what the mode decided (zx_abq_decision.record) as a device/account entry. */
int zx_abq_record(zx_db *db, const char *device_id, const char *account_id,
                  zx_abq_status status, zx_abq_mode mode, const char **err);
/* Why a decision was taken, for the log. */
const char *zx_abq_by_text(apr_pool_t *p, const zx_abq_decision *d, zx_abq_mode mode);

/* The dummy mailbox of a device ABQ holds back (req->abq_held: ZX_ABQ_QUARANTINED or
 * ZX_ABQ_BLOCKED), a store provider of its own on the account's sync states (abq/dummy.c).
 * The commands get it from zx_request_store (eas/reqstore.h). */
zx_store *zx_abq_dummy_open(apr_pool_t *p, zx_db *db, const zx_request *req);

/* The administrators' notification, if due: when abqNotificationsInterval > 0, at least that
 * long since the last one and some device was quarantined since: one mail listing those
 * devices, sent through the transport t (zxsync/transport.h) to
 * ZxMobile_NotificationRecipients.  Exactly one node sends it (abq_state claimed with a
 * conditional UPDATE, SKIP LOCKED).  Returns the number of devices listed (0: nothing due or
 * nothing to send), or -1 and *err. */
int zx_abq_notify_due(apr_pool_t *p, zx_db *db, zx_transport *t, const char **err);

/* ---- administration (zxsuite mobile ABQ ..., setABQMessage ...) ----------------------------- */

typedef struct {
    const char *device_id;
    const char *account;        /* account name, NULL = every account */
    zx_abq_status status;
    const char *source;
    const char *modified;       /* ISO 8601 UTC */
} zx_abq_entry;

/* Entries, optionally only those with status (NONE = all), sorted by DeviceId and account. */
int zx_abq_list(apr_pool_t *p, zx_db *db, zx_abq_status status, apr_array_header_t **out,
                const char **err);                       /* zx_abq_entry */
/* Set the status of device_id (for account, NULL = every account; a name or a uuid).  Setting
 * a device-wide status also removes the device/account entries a mode made, so that it takes
 * effect.  Audited; the devices concerned are notified.  *changed: the status changed. */
int zx_abq_set(apr_pool_t *p, zx_db *db, const char *actor, const char *action,
               const char *device_id, const char *account, zx_abq_status status, int *changed,
               const char **err);
/* Delete the entry of device_id for account, or (account NULL) every entry of device_id.
 * *deleted: how many.  Audited; notified. */
int zx_abq_delete(apr_pool_t *p, zx_db *db, const char *actor, const char *device_id,
                  const char *account, int *deleted, const char **err);
/* Import DeviceIds (text with one "DEVICEID[/account]" per line) with status.  Every line is
 * checked first; a malformed line or an unknown account refuses the whole import (*err names
 * the line number) and adds nothing.  *added: new entries (existing ones get the status). */
int zx_abq_import(apr_pool_t *p, zx_db *db, const char *actor, const char *text,
                  zx_abq_status status, int *added, int *updated, const char **err);

int zx_abq_rules_list(apr_pool_t *p, zx_db *db, const char *domain, apr_array_header_t **out,
                      const char **err);                 /* zx_abq_rule, in evaluation order */
int zx_abq_rule_set(apr_pool_t *p, zx_db *db, const char *actor, const char *regex,
                    zx_abq_status status, long long order, const char *domain, const char **err);
/* *deleted 0 when there was no such rule. */
int zx_abq_rule_delete(apr_pool_t *p, zx_db *db, const char *actor, const char *regex,
                       const char *domain, int *deleted, const char **err);

/* setABQMessage: fields NULL are left as they are (a new message starts from the built-in
 * one).  A locale other than "default" needs the default of that level and type first. */
int zx_abq_message_set(apr_pool_t *p, zx_db *db, const char *actor, const char *domain,
                       zx_abq_msg_type type, const char *locale, const zx_abq_message *fields,
                       const char **err);
/* getABQMessage: locale "all" lists every locale; messages of domain (NULL = global). */
int zx_abq_message_get(apr_pool_t *p, zx_db *db, const char *domain, zx_abq_msg_type type,
                       const char *locale, apr_array_header_t **out, const char **err);
int zx_abq_message_delete(apr_pool_t *p, zx_db *db, const char *actor, const char *domain,
                          zx_abq_msg_type type, const char *locale, const char **err);
int zx_abq_message_duplicate(apr_pool_t *p, zx_db *db, const char *actor, const char *domain,
                             zx_abq_msg_type type, const char *from_locale,
                             const char *to_locale, const char **err);
/* initABQMessage all: (re)create the global default messages of both types from the built-in
 * ones.  *count: how many were written. */
int zx_abq_message_init(apr_pool_t *p, zx_db *db, const char *actor, int *count,
                        const char **err);

#endif
