/* zxsuite mobile ABQ ... and the ABQ message commands (spec 11.5, 11.8): thin calls into
 * libzxsync/abq (zxsync/abq.h).
 *
 *   zxsuite mobile ABQ list [status Allowed|Blocked|Quarantined]
 *   zxsuite mobile ABQ listRules [domain <name|id>]
 *   zxsuite mobile ABQ allow|block <device_id> [account <uuid|name>]
 *   zxsuite mobile ABQ set <device_id> <Allowed|Blocked|Quarantined> [account <uuid|name>]
 *   zxsuite mobile ABQ setRule <regex> <Allowed|Blocked|Quarantined> <order> [domain <name|id>]
 *   zxsuite mobile ABQ delete <device_id> [account <uuid|name>]
 *   zxsuite mobile ABQ deleteRule <regex> [domain <name|id>]
 *   zxsuite mobile ABQ import <path> <Allowed|Blocked|Quarantined>
 *   zxsuite mobile ABQ setNotificationInterval <45m|6h|1d|0>
 *   zxsuite mobile setABQMessage global|domain <domain> <type> <locale> [from X] [reply_to X]
 *           [subject X] [body_plain X] [body_plain_file P] [body_html X] [body_html_file P]
 *   zxsuite mobile getABQMessage global|domain <domain> <type> <all|default|locale>
 *   zxsuite mobile deleteABQMessage global|domain <domain> <type> <default|locale>
 *   zxsuite mobile duplicateABQMessage global|domain <domain> <type> <locale_from> <locale_to>
 *   zxsuite mobile initABQMessage all
 * A <device_id> may also be written device_id/account, as in the import files. */
#include "cli.h"

#include <apr_strings.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zxsync/abq.h>
#include <zxsync/audit.h>
#include <zxsync/config.h>

#define STATUSES "Allowed|Blocked|Quarantined"

static int read_file(cli *c, const char *path, const char **text, const char **err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *err = apr_psprintf(c->pool, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 >= cap) {
            if (cap > 64u * 1024u * 1024u)
                break;
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    int bad = ferror(f) || !buf;
    fclose(f);
    if (bad) {
        free(buf);
        *err = apr_psprintf(c->pool, "cannot read %s", path);
        return -1;
    }
    *text = apr_pstrmemdup(c->pool, buf, len);
    free(buf);
    if (strlen(*text) != len) {
        *err = apr_psprintf(c->pool, "%s is not a text file", path);
        return -1;
    }
    return 0;
}

static int status_arg(cli *c, const char *s, zx_abq_status *out, const char **err)
{
    *out = zx_abq_status_parse(s);
    if (*out != ZX_ABQ_NONE)
        return 0;
    *err = apr_psprintf(c->pool, "invalid status \"%s\" (" STATUSES ")", s);
    return -1;
}

/* "device" or "device/account"; the account option wins over neither: both is an error */
static int device_and_account(cli *c, const char *arg, const char *opt, const char **device,
                              const char **account, const char **err)
{
    const char *slash = strchr(arg, '/');
    *device = slash ? apr_pstrndup(c->pool, arg, (apr_size_t)(slash - arg)) : arg;
    *account = slash ? slash + 1 : opt;
    if (slash && opt) {
        *err = "give the account either as device_id/account or as account <account>, not both";
        return -1;
    }
    if (*account && !**account) {
        *err = "empty account";
        return -1;
    }
    return 0;
}

static ov *entry_ov(cli *c, const zx_abq_entry *e)
{
    ov *o = ov_new(c->pool, OV_OBJ);
    ov_set(o, "device_id", ov_str(c->pool, e->device_id));
    if (e->account)
        ov_set(o, "account", ov_str(c->pool, e->account));
    ov_set(o, "status", ov_str(c->pool, zx_abq_status_name(e->status)));
    ov_set(o, "source", ov_str(c->pool, e->source));
    ov_set(o, "modified", ov_str(c->pool, e->modified));
    return o;
}

static int abq_list(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    static const char *const opts[] = {"status", NULL};
    if (cli_check_options(c, argc, argv, 1, opts, err) < 0)
        return -1;
    zx_abq_status st = ZX_ABQ_NONE;
    const char *s = cli_option(argc, argv, 1, "status");
    if (s && strcasecmp(s, "all") != 0 && status_arg(c, s, &st, err) < 0)
        return -1;
    apr_array_header_t *entries;
    if (cli_need_db(c, err) < 0 || zx_abq_list(c->pool, c->db, st, &entries, err) < 0)
        return -1;
    ov *devs = ov_new(c->pool, OV_ARR);
    for (int i = 0; i < entries->nelts; i++)
        ov_push(devs, entry_ov(c, &APR_ARRAY_IDX(entries, i, zx_abq_entry)));
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "devices", devs);
    return 0;
}

static int abq_list_rules(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    static const char *const opts[] = {"domain", NULL};
    if (cli_check_options(c, argc, argv, 1, opts, err) < 0)
        return -1;
    apr_array_header_t *rules;
    if (cli_need_db(c, err) < 0 ||
        zx_abq_rules_list(c->pool, c->db, cli_option(argc, argv, 1, "domain"), &rules, err) < 0)
        return -1;
    ov *arr = ov_new(c->pool, OV_ARR);
    for (int i = 0; i < rules->nelts; i++) {
        const zx_abq_rule *r = &APR_ARRAY_IDX(rules, i, zx_abq_rule);
        ov *o = ov_new(c->pool, OV_OBJ);
        ov_set(o, "regex", ov_str(c->pool, r->regex));
        ov_set(o, "status", ov_str(c->pool, zx_abq_status_name(r->status)));
        ov_set(o, "order", ov_int(c->pool, r->order));
        if (r->domain)
            ov_set(o, "domain", ov_str(c->pool, r->domain));
        ov_push(arr, o);
    }
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "rules", arr);
    return 0;
}

/* allow, block, set */
static int abq_set_common(cli *c, const char *action, const char *dev_arg, zx_abq_status st,
                          int argc, const char **argv, int first, ov **out, const char **err)
{
    static const char *const opts[] = {"account", NULL};
    if (cli_check_options(c, argc, argv, first, opts, err) < 0)
        return -1;
    const char *device, *account;
    if (device_and_account(c, dev_arg, cli_option(argc, argv, first, "account"), &device,
                           &account, err) < 0)
        return -1;
    int changed = 0;
    if (cli_need_db(c, err) < 0 ||
        zx_abq_set(c->pool, c->db, zx_audit_actor(c->pool), action, device, account, st,
                   &changed, err) < 0)
        return -1;
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "device_id", ov_str(c->pool, device));
    if (account)
        ov_set(*out, "account", ov_str(c->pool, account));
    ov_set(*out, "status", ov_str(c->pool, zx_abq_status_name(st)));
    ov_set(*out, "changed", ov_bool(c->pool, changed));
    return 0;
}

static int abq_delete(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    static const char *const opts[] = {"account", NULL};
    if (cli_check_options(c, argc, argv, 2, opts, err) < 0)
        return -1;
    const char *device, *account;
    if (device_and_account(c, argv[1], cli_option(argc, argv, 2, "account"), &device, &account,
                           err) < 0)
        return -1;
    int n = 0;
    if (cli_need_db(c, err) < 0 ||
        zx_abq_delete(c->pool, c->db, zx_audit_actor(c->pool), device, account, &n, err) < 0)
        return -1;
    if (n == 0) {
        *err = apr_psprintf(c->pool, "device %s%s%s is not in the list", device,
                            account ? " for account " : "", account ? account : "");
        return -1;
    }
    *out = ov_str(c->pool, apr_psprintf(c->pool, "%d entr%s deleted", n, n == 1 ? "y" : "ies"));
    return 0;
}

static int abq_set_rule(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    static const char *const opts[] = {"domain", NULL};
    if (argc < 4) {
        *err = "syntax: ABQ setRule <regex> <" STATUSES "> <order> [domain <name|id>]";
        return -1;
    }
    if (cli_check_options(c, argc, argv, 4, opts, err) < 0)
        return -1;
    zx_abq_status st;
    if (status_arg(c, argv[2], &st, err) < 0)
        return -1;
    char *end;
    errno = 0;
    long long order = strtoll(argv[3], &end, 10);
    if (!*argv[3] || *end || errno) {
        *err = apr_psprintf(c->pool, "invalid order \"%s\": an integer", argv[3]);
        return -1;
    }
    const char *domain = cli_option(argc, argv, 4, "domain");
    if (cli_need_db(c, err) < 0 ||
        zx_abq_rule_set(c->pool, c->db, zx_audit_actor(c->pool), argv[1], st, order, domain,
                        err) < 0)
        return -1;
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "regex", ov_str(c->pool, argv[1]));
    ov_set(*out, "status", ov_str(c->pool, zx_abq_status_name(st)));
    ov_set(*out, "order", ov_int(c->pool, order));
    if (domain)
        ov_set(*out, "domain", ov_str(c->pool, domain));
    return 0;
}

static int abq_delete_rule(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    static const char *const opts[] = {"domain", NULL};
    if (cli_check_options(c, argc, argv, 2, opts, err) < 0)
        return -1;
    const char *domain = cli_option(argc, argv, 2, "domain");
    int n = 0;
    if (cli_need_db(c, err) < 0 ||
        zx_abq_rule_delete(c->pool, c->db, zx_audit_actor(c->pool), argv[1], domain, &n, err) < 0)
        return -1;
    if (n == 0) {
        *err = apr_psprintf(c->pool, "no rule \"%s\"%s%s", argv[1], domain ? " for domain " : "",
                            domain ? domain : "");
        return -1;
    }
    *out = ov_str(c->pool, "rule deleted");
    return 0;
}

static int abq_import(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    if (argc != 3) {
        *err = "syntax: ABQ import <path> <" STATUSES ">";
        return -1;
    }
    zx_abq_status st;
    const char *text;
    if (status_arg(c, argv[2], &st, err) < 0 || read_file(c, argv[1], &text, err) < 0)
        return -1;
    int added = 0, updated = 0;
    if (cli_need_db(c, err) < 0 ||
        zx_abq_import(c->pool, c->db, zx_audit_actor(c->pool), text, st, &added, &updated,
                      err) < 0)
        return -1;
    if (c->json) {
        *out = ov_new(c->pool, OV_OBJ);
        ov_set(*out, "added", ov_int(c->pool, added));
        ov_set(*out, "updated", ov_int(c->pool, updated));
        ov_set(*out, "status", ov_str(c->pool, zx_abq_status_name(st)));
    }
    else
        *out = ov_str(c->pool, apr_psprintf(c->pool, "%d device%s added%s", added,
                                            added == 1 ? "" : "s",
                                            updated ? apr_psprintf(c->pool, ", %d updated",
                                                                   updated) : ""));
    return 0;
}

static int abq_interval(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    if (argc != 2) {
        *err = "syntax: ABQ setNotificationInterval <45m|6h|1d|0>";
        return -1;
    }
    long long ms = zx_abq_interval_parse(argv[1]);
    if (ms < 0) {
        *err = apr_psprintf(c->pool, "invalid interval \"%s\": e.g. 45m, 6h, 1d, 0 (off) or "
                            "milliseconds", argv[1]);
        return -1;
    }
    if (cli_need_db(c, err) < 0 ||
        zx_config_set(c->pool, c->db, ZX_LEVEL_GLOBAL, NULL, "abqNotificationsInterval",
                      apr_psprintf(c->pool, "%" APR_INT64_T_FMT, (apr_int64_t)ms), err) < 0)
        return -1;
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "abqNotificationsInterval", ov_int(c->pool, ms));
    return 0;
}

static int cmd_abq(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    const char *sub = argv[0];
    zx_abq_status st;
    if (strcasecmp(sub, "list") == 0)
        return abq_list(c, argc, argv, out, err);
    if (strcasecmp(sub, "listRules") == 0)
        return abq_list_rules(c, argc, argv, out, err);
    if (strcasecmp(sub, "allow") == 0 || strcasecmp(sub, "block") == 0) {
        if (argc < 2) {
            *err = apr_psprintf(c->pool, "syntax: ABQ %s <device_id> [account <uuid|name>]", sub);
            return -1;
        }
        int allow = strcasecmp(sub, "allow") == 0;
        return abq_set_common(c, allow ? "ABQ allow" : "ABQ block", argv[1],
                              allow ? ZX_ABQ_ALLOWED : ZX_ABQ_BLOCKED, argc, argv, 2, out, err);
    }
    if (strcasecmp(sub, "set") == 0) {
        if (argc < 3) {
            *err = "syntax: ABQ set <device_id> <" STATUSES "> [account <uuid|name>]";
            return -1;
        }
        if (status_arg(c, argv[2], &st, err) < 0)
            return -1;
        return abq_set_common(c, "ABQ set", argv[1], st, argc, argv, 3, out, err);
    }
    if (strcasecmp(sub, "setRule") == 0)
        return abq_set_rule(c, argc, argv, out, err);
    if (strcasecmp(sub, "delete") == 0) {
        if (argc < 2) {
            *err = "syntax: ABQ delete <device_id> [account <uuid|name>]";
            return -1;
        }
        return abq_delete(c, argc, argv, out, err);
    }
    if (strcasecmp(sub, "deleteRule") == 0) {
        if (argc < 2) {
            *err = "syntax: ABQ deleteRule <regex> [domain <name|id>]";
            return -1;
        }
        return abq_delete_rule(c, argc, argv, out, err);
    }
    if (strcasecmp(sub, "import") == 0)
        return abq_import(c, argc, argv, out, err);
    if (strcasecmp(sub, "setNotificationInterval") == 0)
        return abq_interval(c, argc, argv, out, err);
    *err = apr_psprintf(c->pool, "unknown ABQ command \"%s\" (list, listRules, allow, block, set, "
                        "setRule, delete, deleteRule, import, setNotificationInterval)", sub);
    return -1;
}

/* ---- messages ----------------------------------------------------------------------------- */

/* "global <type> ..." or "domain <domain> <type> ...": *next = index of the argument after the
 * type; needs `want` positional arguments after it. */
static int msg_head(cli *c, int argc, const char **argv, int want, const char **domain,
                    zx_abq_msg_type *type, int *next, const char **err)
{
    int i;
    if (strcasecmp(argv[0], "global") == 0) {
        *domain = NULL;
        i = 1;
    }
    else if (strcasecmp(argv[0], "domain") == 0) {
        if (argc < 2) {
            *err = "missing domain";
            return -1;
        }
        *domain = argv[1];
        i = 2;
    }
    else {
        *err = apr_psprintf(c->pool, "\"%s\": global or domain <domain> expected", argv[0]);
        return -1;
    }
    if (argc < i + 1 + want) {
        *err = "missing parameters";
        return -1;
    }
    int t = zx_abq_msg_type_parse(argv[i]);
    if (t < 0) {
        *err = apr_psprintf(c->pool, "invalid message type \"%s\" (quarantined, blocked)", argv[i]);
        return -1;
    }
    *type = (zx_abq_msg_type)t;
    *next = i + 1;
    return 0;
}

static ov *message_ov(cli *c, const zx_abq_message *m)
{
    ov *o = ov_new(c->pool, OV_OBJ);
    ov_set(o, "locale", ov_str(c->pool, m->locale));
    ov_set(o, "from", ov_str(c->pool, m->from));
    ov_set(o, "reply_to", ov_str(c->pool, m->reply_to));
    ov_set(o, "subject", ov_str(c->pool, m->subject));
    ov_set(o, "body_plain", ov_str(c->pool, m->body_plain));
    ov_set(o, "body_html", ov_str(c->pool, m->body_html));
    return o;
}

static int cmd_set_message(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    static const char *const opts[] = {"from", "reply_to", "subject", "body_plain",
                                       "body_plain_file", "body_html", "body_html_file", NULL};
    const char *domain;
    zx_abq_msg_type type;
    int i;
    if (msg_head(c, argc, argv, 1, &domain, &type, &i, err) < 0)
        return -1;
    const char *locale = argv[i];
    if (cli_check_options(c, argc, argv, i + 1, opts, err) < 0)
        return -1;
    zx_abq_message m;
    memset(&m, 0, sizeof m);
    m.from = cli_option(argc, argv, i + 1, "from");
    m.reply_to = cli_option(argc, argv, i + 1, "reply_to");
    m.subject = cli_option(argc, argv, i + 1, "subject");
    m.body_plain = cli_option(argc, argv, i + 1, "body_plain");
    m.body_html = cli_option(argc, argv, i + 1, "body_html");
    const char *pf = cli_option(argc, argv, i + 1, "body_plain_file");
    const char *hf = cli_option(argc, argv, i + 1, "body_html_file");
    if ((pf && m.body_plain) || (hf && m.body_html)) {
        *err = "give a body either inline or as a file, not both";
        return -1;
    }
    if ((pf && read_file(c, pf, &m.body_plain, err) < 0) ||
        (hf && read_file(c, hf, &m.body_html, err) < 0))
        return -1;
    if (m.subject && !*m.subject) {
        *err = "the subject cannot be empty";
        return -1;
    }
    if (cli_need_db(c, err) < 0 ||
        zx_abq_message_set(c->pool, c->db, zx_audit_actor(c->pool), domain, type, locale, &m,
                           err) < 0)
        return -1;
    *out = ov_str(c->pool, "message saved");
    return 0;
}

static int cmd_get_message(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    const char *domain;
    zx_abq_msg_type type;
    int i;
    if (msg_head(c, argc, argv, 1, &domain, &type, &i, err) < 0)
        return -1;
    if (argc > i + 1) {
        *err = "too many parameters";
        return -1;
    }
    apr_array_header_t *msgs;
    if (cli_need_db(c, err) < 0 ||
        zx_abq_message_get(c->pool, c->db, domain, type, argv[i], &msgs, err) < 0)
        return -1;
    ov *arr = ov_new(c->pool, OV_ARR);
    for (int k = 0; k < msgs->nelts; k++)
        ov_push(arr, message_ov(c, &APR_ARRAY_IDX(msgs, k, zx_abq_message)));
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "messages", arr);
    return 0;
}

static int cmd_delete_message(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    const char *domain;
    zx_abq_msg_type type;
    int i;
    if (msg_head(c, argc, argv, 1, &domain, &type, &i, err) < 0)
        return -1;
    if (argc > i + 1) {
        *err = "too many parameters";
        return -1;
    }
    if (cli_need_db(c, err) < 0 ||
        zx_abq_message_delete(c->pool, c->db, zx_audit_actor(c->pool), domain, type, argv[i],
                              err) < 0)
        return -1;
    *out = ov_str(c->pool, "message deleted");
    return 0;
}

static int cmd_duplicate_message(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    const char *domain;
    zx_abq_msg_type type;
    int i;
    if (msg_head(c, argc, argv, 2, &domain, &type, &i, err) < 0)
        return -1;
    if (argc > i + 2) {
        *err = "too many parameters";
        return -1;
    }
    if (cli_need_db(c, err) < 0 ||
        zx_abq_message_duplicate(c->pool, c->db, zx_audit_actor(c->pool), domain, type, argv[i],
                                 argv[i + 1], err) < 0)
        return -1;
    *out = ov_str(c->pool, "message duplicated");
    return 0;
}

static int cmd_init_message(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    if (strcasecmp(argv[0], "all") != 0) {
        *err = apr_psprintf(c->pool, "\"%s\": initABQMessage takes all", argv[0]);
        return -1;
    }
    int n = 0;
    if (cli_need_db(c, err) < 0 ||
        zx_abq_message_init(c->pool, c->db, zx_audit_actor(c->pool), &n, err) < 0)
        return -1;
    *out = ov_str(c->pool, apr_psprintf(c->pool, "%d default messages initialized", n));
    return 0;
}

#define MSG_SCOPE "global|domain <domain> <quarantined|blocked>"

const command cli_abq_commands[] = {
    {"mobile", "ABQ", 1, -1,
     "list [status " STATUSES "] | listRules [domain <d>] | allow|block <device_id> "
     "[account <uuid|name>] | set <device_id> <" STATUSES "> [account <uuid|name>] | "
     "setRule <regex> <" STATUSES "> <order> [domain <d>] | delete <device_id> "
     "[account <uuid|name>] | deleteRule <regex> [domain <d>] | import <path> <" STATUSES "> | "
     "setNotificationInterval <45m|6h|1d|0>",
     "ABQ (Allow/Block/Quarantine): the device control list, the rules, the notification "
     "interval", cmd_abq},
    {"mobile", "setABQMessage", 3, -1,
     MSG_SCOPE " <default|locale> [from X] [reply_to X] [subject X] [body_plain X] "
     "[body_plain_file P] [body_html X] [body_html_file P]",
     "set the ABQ notice a quarantined/blocked device gets (the default locale first)",
     cmd_set_message},
    {"mobile", "getABQMessage", 3, 5, MSG_SCOPE " <all|default|locale>",
     "show ABQ notice messages", cmd_get_message},
    {"mobile", "deleteABQMessage", 3, 5, MSG_SCOPE " <default|locale>",
     "delete an ABQ notice message", cmd_delete_message},
    {"mobile", "duplicateABQMessage", 4, 6, MSG_SCOPE " <locale_from> <locale_to>",
     "copy an ABQ notice message to another locale", cmd_duplicate_message},
    {"mobile", "initABQMessage", 1, 1, "all",
     "(re)create the global default ABQ messages from the built-in ones", cmd_init_message},
    {NULL, NULL, 0, 0, NULL, NULL, NULL}
};
