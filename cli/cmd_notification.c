/* zxsuite core getNotification [id ID]: the server notifications (Zextras' "zxsuite core
 * getNotification"), e.g. the anti-DoS filter's jailings.  Without an id the list, newest
 * first; with one, that notification with its text. */
#include "cli.h"

#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>
#include <zxsync/notification.h>

static int cmd_get(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    static const char *const opts[] = {"id", "limit", NULL};
    if (cli_check_options(c, argc, argv, 0, opts, err) < 0)
        return -1;
    const char *id = cli_option(argc, argv, 0, "id");
    const char *lim = cli_option(argc, argv, 0, "limit");
    int limit = lim ? atoi(lim) : 0;
    if (lim && (limit <= 0 || strspn(lim, "0123456789") != strlen(lim))) {
        *err = apr_psprintf(c->pool, "invalid limit \"%s\": expected a positive number", lim);
        return -1;
    }
    if (id && (!*id || strspn(id, "0123456789") != strlen(id))) {
        *err = apr_psprintf(c->pool, "no notification with id \"%s\"", id);
        return -1;
    }
    apr_array_header_t *list;
    if (cli_need_db(c, err) < 0 || zx_notifications_list(c->pool, c->db, id, limit, &list, err) < 0)
        return -1;
    if (id && list->nelts == 0) {
        *err = apr_psprintf(c->pool, "no notification with id \"%s\"", id);
        return -1;
    }
    ov *arr = ov_new(c->pool, OV_ARR);
    for (int i = 0; i < list->nelts; i++) {
        const zx_notification *n = APR_ARRAY_IDX(list, i, zx_notification *);
        ov *o = ov_new(c->pool, OV_OBJ);
        ov_set(o, "id", ov_str(c->pool, n->id));
        ov_set(o, "date", ov_str(c->pool, n->created));
        ov_set(o, "server", ov_str(c->pool, n->server));
        ov_set(o, "module", ov_str(c->pool, n->module));
        ov_set(o, "source", ov_str(c->pool, n->source));
        ov_set(o, "level", ov_str(c->pool, n->level));
        ov_set(o, "subject", ov_str(c->pool, n->subject));
        if (n->account)
            ov_set(o, "account", ov_str(c->pool, n->account));
        if (n->device_id)
            ov_set(o, "device_id", ov_str(c->pool, n->device_id));
        ov_set(o, "mail", ov_str(c->pool, n->mail_status ? n->mail_status : "pending"));
        if (id || c->json)
            ov_set(o, "text", ov_str(c->pool, n->body));
        ov_push(arr, o);
    }
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "notifications", arr);
    return 0;
}

const command cli_core_commands[] = {
    {"core", "getNotification", 0, 4, "[id <id>] [limit <n>]",
     "the server notifications, newest first (e.g. anti-DoS jailings); with id, that one and "
     "its text", cmd_get},
    {NULL, NULL, 0, 0, NULL, NULL, NULL}
};
