/* zxsuite mobile: the account loggers (spec 10) - doAddAccountLogger, getAccountLoggers,
 * doRemoveLogger.  The loggers are in the database; every httpd child picks a change up within
 * ZX_ACCTLOG_RECHECK seconds.  The file must be writable by the user httpd's children run as
 * ($ZXMOBILE_HTTPD_USER, default www-data): as root, zxsuite creates it for that user and checks
 * it as that user (zx_acctlog_prepare_file).  The file must be inside the account logger
 * directory (ZxMobile_AccountLoggerDirectory), reached without a symbolic link. */
#include "cli.h"

#include <apr_file_info.h>
#include <apr_strings.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zxsync/acctlog.h>

static ov *logger_ov(apr_pool_t *p, const zx_acctlog *l)
{
    const char *lv = zx_acctlog_level_name(l->level);
    char *up = apr_pstrdup(p, lv);        /* the spec's output shows it upper-case */
    for (char *s = up; *s; s++)
        *s = (char)toupper((unsigned char)*s);
    ov *o = ov_new(p, OV_OBJ);
    ov_set(o, "id", ov_raw(p, l->id));
    ov_set(o, "level", ov_str(p, up));
    ov_set(o, "name", ov_str(p, "AccountLogger"));
    ov_set(o, "description",
           ov_str(p, apr_psprintf(p, "Logging account %s using level %s, log file %s%s",
                                  l->account, lv, l->file,
                                  l->window_size > 0
                                      ? apr_psprintf(p, ", window size %d", l->window_size)
                                      : "")));
    ov_set(o, "remove command", ov_str(p, apr_psprintf(p, "zxsuite mobile doRemoveLogger %s",
                                                       l->id)));
    ov_set(o, "account", ov_str(p, l->account));
    ov_set(o, "file", ov_str(p, l->file));
    ov_set(o, "window_size", l->window_size > 0 ? ov_int(p, l->window_size) : ov_raw(p, "null"));
    ov_set(o, "created", ov_str(p, l->created));
    return o;
}

/* doAddAccountLogger <account> <level> <file> [window_size N] */
static int cmd_add(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    static const char *const allowed[] = {"window_size", NULL};
    if (cli_check_options(c, argc, argv, 3, allowed, err) < 0)
        return -1;
    int window = 0;
    const char *ws = cli_option(argc, argv, 3, "window_size");
    if (ws) {
        char *end = NULL;
        long v = strtol(ws, &end, 10);
        if (!*ws || *end || v < 1 || v > 512) {
            *err = apr_psprintf(c->pool, "invalid window_size \"%s\": expected an integer from 1 "
                                "to 512", ws);
            return -1;
        }
        window = (int)v;
    }
    if (zx_acctlog_level_parse(argv[1]) < 0) {
        *err = apr_psprintf(c->pool, "invalid log level \"%s\": expected one of trace, debug, "
                            "info, warn, err, crit", argv[1]);
        return -1;
    }
    /* a relative path is taken from the current directory, as a shell user expects */
    const char *file = argv[2];
    if (file[0] != '/') {
        char *cwd = NULL, *abs = NULL;
        if (!*file || apr_filepath_get(&cwd, 0, c->pool) != APR_SUCCESS ||
            apr_filepath_merge(&abs, cwd, file, APR_FILEPATH_TRUENAME, c->pool) != APR_SUCCESS) {
            *err = apr_psprintf(c->pool, "invalid log file path \"%s\"", file);
            return -1;
        }
        file = abs;
    }
    zx_acctlog *l = NULL;
    if (cli_need_db(c, err) < 0 ||
        zx_acctlog_add(c->pool, c->db, argv[0], argv[1], file, window, zx_acctlog_httpd_user(),
                       &l, err) < 0)
        return -1;
    *out = logger_ov(c->pool, l);
    return 0;
}

static int cmd_list(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    apr_array_header_t *list;
    if (cli_need_db(c, err) < 0 || zx_acctlog_list(c->pool, c->db, &list, err) < 0)
        return -1;
    ov *loggers = ov_new(c->pool, OV_ARR);
    for (int i = 0; i < list->nelts; i++)
        ov_push(loggers, logger_ov(c->pool, APR_ARRAY_IDX(list, i, zx_acctlog *)));
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "loggers", loggers);
    return 0;
}

static int cmd_remove(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    int removed = 0;
    if (cli_need_db(c, err) < 0 ||
        zx_acctlog_remove(c->pool, c->db, argv[0], &removed, err) < 0)
        return -1;
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "removed", ov_int(c->pool, removed));
    ov_set(*out, "message",
           ov_str(c->pool, strcasecmp(argv[0], "all_loggers") == 0
                               ? apr_psprintf(c->pool, "%d account logger%s removed", removed,
                                              removed == 1 ? "" : "s")
                               : apr_psprintf(c->pool, "account logger %s removed", argv[0])));
    return 0;
}

const command cli_acctlog_commands[] = {
    {"mobile", "doAddAccountLogger", 3, 5, "<account> <trace|debug|info|warn|err|crit> <log_file> "
     "[window_size N]",
     "log every EAS exchange of the account to log_file, inside ZxMobile_AccountLoggerDirectory "
     "(default /var/log/apache2; no symbolic link on its path; created for the httpd user, "
     "$ZXMOBILE_HTTPD_USER or www-data); window_size caps the Sync windows of its devices",
     cmd_add},
    {"mobile", "getAccountLoggers", 0, 0, "", "the account loggers", cmd_list},
    {"mobile", "doRemoveLogger", 1, 1, "<logger_id|all_loggers>", "remove account loggers",
     cmd_remove},
    {NULL, NULL, 0, 0, NULL, NULL, NULL}
};
