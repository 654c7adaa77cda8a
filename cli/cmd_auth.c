/* zxsuite auth: credentials (mobile passwords) with the Zextras syntax, and a credential check
 * other services can use.
 *
 *   zxsuite auth credential add <account> [password P] [label L] [service S[,S...]]
 *   zxsuite auth credential list <account>
 *   zxsuite auth credential update <account> <id> [label L] [enabled true|false] [service S]
 *   zxsuite auth credential delete <account> <id>
 *   zxsuite auth check <account> <password> [service S]
 */
#include "cli.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <string.h>
#include <strings.h>
#include <zxsync/auth.h>

static ov *cred_ov(apr_pool_t *p, const zx_credential *c)
{
    ov *o = ov_new(p, OV_OBJ);
    ov_set(o, "id", ov_str(p, c->id));
    ov_set(o, "label", ov_str(p, c->label));
    /* Zextras prints services upper-case (EAS, SMTP,IMAP) */
    char *svc = apr_pstrdup(p, c->services);
    for (char *s = svc; *s; s++)
        *s = (char)apr_toupper(*s);
    ov_set(o, "services", ov_str(p, svc));
    ov_set(o, "enabled", ov_bool(p, c->enabled));
    ov_set(o, "generated", ov_bool(p, c->generated));
    ov_set(o, "created", ov_str(p, c->created));
    ov_set(o, "algorithm", ov_str(p, c->algorithm));
    return o;
}

static int parse_bool(const char *v, int *out)
{
    if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0)
        *out = 1;
    else if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcasecmp(v, "no") == 0)
        *out = 0;
    else
        return -1;
    return 0;
}

static int cred_add(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    static const char *const allowed[] = {"password", "label", "service", "qrcode", NULL};
    if (cli_check_options(c, argc, argv, 1, allowed, err) < 0)
        return -1;
    const char *qr = cli_option(argc, argv, 1, "qrcode");
    int want_qr = 0;
    if (qr && parse_bool(qr, &want_qr) < 0) {
        *err = "qrcode must be true or false";
        return -1;
    }
    if (want_qr) {
        *err = "QR-code credentials (mobile apps) are not supported by zxmobile";
        return -1;
    }
    zx_credential *cred;
    const char *clear;
    if (cli_need_db(c, err) < 0 ||
        zx_cred_add(c->pool, c->db, argv[0], cli_option(argc, argv, 1, "password"),
                    cli_option(argc, argv, 1, "label"), cli_option(argc, argv, 1, "service"),
                    &cred, &clear, err) < 0)
        return -1;
    apr_pool_t *p = c->pool;
    *out = ov_new(p, OV_OBJ);
    if (!c->json)
        ov_set(*out, "result", ov_str(p, "Credential correctly added"));
    ov_set(*out, "credential", cred_ov(p, cred));
    /* the only time the password is shown */
    ov *td = ov_new(p, OV_OBJ);
    ov_set(td, "auth_method", ov_str(p, "password"));
    ov_set(td, "password", ov_str(p, clear));
    ov_set(td, "user", ov_str(p, cred->account));
    ov_set(*out, "text_data", td);
    return 0;
}

static int cred_list(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    if (argc != 1) {
        *err = "syntax: zxsuite auth credential list <account>";
        return -1;
    }
    apr_array_header_t *list;
    if (cli_need_db(c, err) < 0 || zx_cred_list(c->pool, c->db, argv[0], &list, err) < 0)
        return -1;
    ov *arr = ov_new(c->pool, OV_ARR);
    for (int i = 0; i < list->nelts; i++)
        ov_push(arr, cred_ov(c->pool, APR_ARRAY_IDX(list, i, zx_credential *)));
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "credentials", arr);
    return 0;
}

static int cred_update(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    static const char *const allowed[] = {"label", "enabled", "service", NULL};
    if (argc < 2) {
        *err = "syntax: zxsuite auth credential update <account> <id> [label L] [enabled true|false] [service S]";
        return -1;
    }
    if (cli_check_options(c, argc, argv, 2, allowed, err) < 0)
        return -1;
    int enabled = -1;
    const char *en = cli_option(argc, argv, 2, "enabled");
    if (en && parse_bool(en, &enabled) < 0) {
        *err = "enabled must be true or false";
        return -1;
    }
    const char *label = cli_option(argc, argv, 2, "label");
    const char *svc = cli_option(argc, argv, 2, "service");
    if (enabled < 0 && !label && !svc) {
        *err = "nothing to update: give label, enabled or service";
        return -1;
    }
    zx_credential *cred;
    if (cli_need_db(c, err) < 0 ||
        zx_cred_update(c->pool, c->db, argv[0], argv[1], label, enabled, svc, &cred, err) < 0)
        return -1;
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "credential", cred_ov(c->pool, cred));
    return 0;
}

static int cred_delete(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    if (argc != 2) {
        *err = "syntax: zxsuite auth credential delete <account> <id>";
        return -1;
    }
    if (cli_need_db(c, err) < 0 || zx_cred_delete(c->pool, c->db, argv[0], argv[1], err) < 0)
        return -1;
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "deleted", ov_str(c->pool, argv[1]));
    return 0;
}

static int cmd_credential(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    static const struct {
        const char *name;
        cmd_fn *fn;
    } subs[] = {{"add", cred_add}, {"list", cred_list}, {"update", cred_update},
                {"delete", cred_delete}};
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (strcasecmp(argv[0], subs[i].name) == 0) {
            if (argc < 2) {
                *err = apr_psprintf(c->pool, "credential %s requires an account", subs[i].name);
                return -1;
            }
            return subs[i].fn(c, argc - 1, argv + 1, out, err);
        }
    *err = apr_psprintf(c->pool, "unknown credential command \"%s\" (add, list, update, delete)",
                        argv[0]);
    return -1;
}

/* Exit status: 0 accepted, 1 refused (or error). */
static int cmd_check(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    static const char *const allowed[] = {"service", NULL};
    if (cli_check_options(c, argc, argv, 2, allowed, err) < 0)
        return -1;
    const char *service = cli_option(argc, argv, 2, "service");
    char *svc = apr_pstrdup(c->pool, service ? service : "eas");
    for (char *s = svc; *s; s++)
        *s = (char)apr_tolower(*s);
    zx_auth_account acct;
    if (cli_need_db(c, err) < 0)
        return -1;
    zx_auth_result r = zx_auth_check(c->pool, c->db, argv[0], argv[1], svc, NULL, &acct, err);
    if (r == ZX_AUTH_ERROR)
        return -1;
    if (r != ZX_AUTH_OK) {
        *err = apr_psprintf(c->pool, "%s refused for %s: %s", svc, argv[0], zx_auth_result_str(r));
        return -1;
    }
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "account", ov_str(c->pool, acct.name));
    ov_set(*out, "service", ov_str(c->pool, svc));
    ov_set(*out, "result", ov_str(c->pool, "accepted"));
    return 0;
}

const command cli_auth_commands[] = {
    {"auth", "credential", 2, -1,
     "add <account> [password P] [label L] [service S[,S...]] | list <account> | "
     "update <account> <id> [label L] [enabled true|false] [service S] | delete <account> <id>",
     "manage credentials: mobile passwords (service EAS) and other service passwords",
     cmd_credential},
    {"auth", "check", 2, 4, "<account> <password> [service S]",
     "check a password the way service S (default EAS) would", cmd_check},
    {NULL, NULL, 0, 0, NULL, NULL, NULL}
};
