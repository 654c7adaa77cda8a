/* zxmobile - Settings ([MS-ASCMD] 2.2.1.18).
 *
 * The request holds named properties in any order, each answered in the same order:
 *   Oof                        Get (with BodyType) / Set (OofState, StartTime, EndTime,
 *                              OofMessage x audience) - stored per account (account_oof*)
 *   DevicePassword             Set (Password; empty clears) - stored on the device record
 *   DeviceInformation          Set (Model, IMEI, FriendlyName, OS, OSLanguage, PhoneNumber,
 *                              UserAgent, EnableOutboundSMS, MobileOperator) - on the device
 *   UserInformation            Get - the account's addresses (12.x/14.0: EmailAddresses under
 *                              Get; 14.1+: Accounts/Account, [MS-ASCMD] 2.2.3.57)
 *   RightsManagementInformation Get (14.1+) - no templates: rights management is not offered
 * Status values: [MS-ASCMD] 2.2.3.177.15 (1 success, 2 protocol error, 5 invalid arguments).
 */
#include "handlers.h"
#include "deviceinfo.h"

#include <zxsync/directory.h>
#include <zxsync/log.h>
#include <zxsync/mime.h>

#include <apr_strings.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* [MS-ASCMD] 2.2.3.177.15 */
#define ST_SUCCESS 1
#define ST_PROTOCOL_ERROR 2
#define ST_SERVER_UNAVAILABLE 4
#define ST_INVALID_ARGUMENTS 5

typedef struct {
    const zx_server *srv;
    zx_request *req;
    zx_db *db;
    const char *err;
} settings_ctx;

/* Text content for an element made earlier (a Status that comes first but is known last). */
static void put_status(apr_pool_t *p, zx_wb_node *e, int st)
{
    zx_wb_node *t = apr_pcalloc(p, sizeof *t);
    t->kind = ZX_WB_TEXT;
    t->data = apr_itoa(p, st);
    t->len = strlen(t->data);
    zx_wb_append(e, t);
}

static zx_db *ctx_db(settings_ctx *c)
{
    if (!c->db)
        c->db = zx_request_db(c->srv, c->req, &c->err);
    return c->db;
}

static void log_fail(settings_ctx *c, const char *what)
{
    zx_log(c->req->log_ctx, ZX_LOG_ERR, ZXLOGNO(00730) "Settings %s for %s failed: %s", what,
           c->req->account.name, c->err ? c->err : "internal error");
}

/* [MS-ASDTYPE] 2.3 dateTime: YYYY-MM-DDTHH:MM:SS.mmmZ (milliseconds and Z tolerated missing).
 * Returns the canonical form or NULL. */
static const char *datetime_norm(apr_pool_t *p, const char *s)
{
    int y, mo, d, h, mi, se, ms = 0, n = 0;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6)
        return NULL;
    const char *rest = s + n;
    if (*rest == '.') {
        int k = 0;
        if (sscanf(rest, ".%3d%n", &ms, &k) != 1)
            return NULL;
        rest += k;
    }
    if (*rest == 'Z')
        rest++;
    if (*rest || y < 1601 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59)
        return NULL;
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, mo, d, h, mi, se, ms);
}

/* ---- Oof ---------------------------------------------------------------------------------- */

static const struct {
    unsigned tag;
    const char *audience;
} audiences[] = {
    {ZX_Settings_AppliesToInternal, "internal"},
    {ZX_Settings_AppliesToExternalKnown, "external_known"},
    {ZX_Settings_AppliesToExternalUnknown, "external_unknown"},
};

static int body_type_valid(const char *bt)
{
    return bt && (strcasecmp(bt, "Text") == 0 || strcasecmp(bt, "HTML") == 0);
}

static const char *html_to_text_or_keep(apr_pool_t *p, const char *html)
{
    const char *t = zx_mime_html_to_text(p, html);
    return t ? t : html;
}

static int oof_get(settings_ctx *c, const zx_wb_node *get, zx_wb_node *out)
{
    apr_pool_t *p = c->req->pool;
    const char *want = zx_wb_child_text(p, get, ZX_Settings_BodyType);
    /* [MS-ASCMD] 2.2.3.17: BodyType is required in an Oof Get request */
    if (!body_type_valid(want))
        return ST_PROTOCOL_ERROR;
    int want_html = strcasecmp(want, "HTML") == 0;
    if (!ctx_db(c))
        return ST_SERVER_UNAVAILABLE;
    const char *params[1] = {c->req->account.id};
    PGresult *r = zx_db_exec(c->db,
        "SELECT state, to_char(start_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
        "to_char(end_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') "
        "FROM account_oof WHERE account_id = $1", 1, params, &c->err);
    if (!r) {
        log_fail(c, "Oof Get");
        return ST_SERVER_UNAVAILABLE;
    }
    zx_wb_node *g = zx_wb_add(p, out, ZX_Settings_Get);
    int state = PQntuples(r) ? atoi(PQgetvalue(r, 0, 0)) : 0;
    zx_wb_add_textf(p, g, ZX_Settings_OofState, "%d", state);
    if (state == 2 && PQntuples(r) && !PQgetisnull(r, 0, 1) && !PQgetisnull(r, 0, 2)) {
        zx_wb_add_text(p, g, ZX_Settings_StartTime, apr_pstrdup(p, PQgetvalue(r, 0, 1)));
        zx_wb_add_text(p, g, ZX_Settings_EndTime, apr_pstrdup(p, PQgetvalue(r, 0, 2)));
    }
    PQclear(r);
    r = zx_db_exec(c->db, "SELECT audience, enabled, reply_message, body_type "
                          "FROM account_oof_messages WHERE account_id = $1", 1, params, &c->err);
    if (!r) {
        log_fail(c, "Oof Get");
        return ST_SERVER_UNAVAILABLE;
    }
    for (size_t a = 0; a < sizeof audiences / sizeof audiences[0]; a++) {
        int row = -1;
        for (int i = 0; i < PQntuples(r); i++)
            if (strcmp(PQgetvalue(r, i, 0), audiences[a].audience) == 0)
                row = i;
        zx_wb_node *m = zx_wb_add(p, g, ZX_Settings_OofMessage);
        zx_wb_add(p, m, audiences[a].tag);
        int enabled = row >= 0 && strcmp(PQgetvalue(r, row, 1), "t") == 0;
        zx_wb_add_text(p, m, ZX_Settings_Enabled, enabled ? "1" : "0");
        if (row >= 0 && !PQgetisnull(r, row, 2)) {
            const char *msg = apr_pstrdup(p, PQgetvalue(r, row, 2));
            int stored_html = !PQgetisnull(r, row, 3) && strcasecmp(PQgetvalue(r, row, 3), "HTML") == 0;
            if (stored_html && !want_html)
                msg = html_to_text_or_keep(p, msg);
            else if (!stored_html && want_html)
                msg = zx_mime_text_to_html(p, msg, ZX_HTML_LINES);
            zx_wb_add_text(p, m, ZX_Settings_ReplyMessage, msg);
            zx_wb_add_text(p, m, ZX_Settings_BodyType, want_html ? "HTML" : "Text");
        }
    }
    PQclear(r);
    return ST_SUCCESS;
}

typedef struct {
    const char *audience;
    int enabled;              /* -1 not given */
    const char *reply;
    const char *body_type;
} oof_msg;

static int oof_set(settings_ctx *c, const zx_wb_node *set)
{
    apr_pool_t *p = c->req->pool;
    int state = -1;
    const char *start = NULL, *end = NULL;
    oof_msg msgs[3];
    int nmsgs = 0;
    for (const zx_wb_node *n = set->first; n; n = n->next) {
        if (n->kind != ZX_WB_ELEMENT)
            continue;
        const char *v = zx_wb_text(p, n);
        switch (n->tag) {
        case ZX_Settings_OofState:
            if (!v || strlen(v) != 1 || v[0] < '0' || v[0] > '2')
                return ST_INVALID_ARGUMENTS;
            state = v[0] - '0';
            break;
        case ZX_Settings_StartTime:
            if (!(start = datetime_norm(p, v)))
                return ST_INVALID_ARGUMENTS;
            break;
        case ZX_Settings_EndTime:
            if (!(end = datetime_norm(p, v)))
                return ST_INVALID_ARGUMENTS;
            break;
        case ZX_Settings_OofMessage: {
            if (nmsgs == 3)
                return ST_PROTOCOL_ERROR;
            oof_msg *m = &msgs[nmsgs];
            memset(m, 0, sizeof *m);
            m->enabled = -1;
            for (const zx_wb_node *k = n->first; k; k = k->next) {
                if (k->kind != ZX_WB_ELEMENT)
                    continue;
                const char *kv = zx_wb_text(p, k);
                int known = 0;
                for (size_t a = 0; a < sizeof audiences / sizeof audiences[0]; a++)
                    if (k->tag == audiences[a].tag) {
                        if (m->audience)
                            return ST_PROTOCOL_ERROR;
                        m->audience = audiences[a].audience;
                        known = 1;
                    }
                if (known)
                    continue;
                switch (k->tag) {
                case ZX_Settings_Enabled:
                    if (!kv || (strcmp(kv, "0") != 0 && strcmp(kv, "1") != 0))
                        return ST_INVALID_ARGUMENTS;
                    m->enabled = kv[0] == '1';
                    break;
                case ZX_Settings_ReplyMessage:
                    m->reply = kv ? kv : "";
                    break;
                case ZX_Settings_BodyType:
                    if (!body_type_valid(kv))
                        return ST_INVALID_ARGUMENTS;
                    m->body_type = strcasecmp(kv, "HTML") == 0 ? "HTML" : "Text";
                    break;
                default:
                    return ST_PROTOCOL_ERROR;
                }
            }
            if (!m->audience)
                return ST_PROTOCOL_ERROR;
            for (int i = 0; i < nmsgs; i++)
                if (strcmp(msgs[i].audience, m->audience) == 0)
                    return ST_PROTOCOL_ERROR;
            /* [MS-ASCMD] 2.2.3.17: BodyType is required with a ReplyMessage */
            if (m->reply && !m->body_type)
                return ST_PROTOCOL_ERROR;
            nmsgs++;
            break;
        }
        default:
            return ST_PROTOCOL_ERROR;
        }
    }
    /* [MS-ASCMD] 2.2.3.124: times are kept only with OofState 2, and then both are needed */
    if (state == 2 && (!start || !end || strcmp(start, end) >= 0))
        return ST_INVALID_ARGUMENTS;
    if (state != 2)
        start = end = NULL;
    if (!ctx_db(c))
        return ST_SERVER_UNAVAILABLE;
    int own = 0;
    if (zx_db_tx_begin(c->db, &own, &c->err) < 0) {
        log_fail(c, "Oof Set");
        return ST_SERVER_UNAVAILABLE;
    }
    int rc = 0;
    const char *sstate = state >= 0 ? apr_itoa(p, state) : NULL;
    const char *params[4] = {c->req->account.id, sstate, start, end};
    /* OofState absent: the state (and its times) stay as they are */
    rc = zx_db_run(c->db,
        "INSERT INTO account_oof (account_id, state, start_time, end_time) "
        "VALUES ($1, COALESCE($2::smallint, 0), $3::timestamptz, $4::timestamptz) "
        "ON CONFLICT (account_id) DO UPDATE SET "
        "state = COALESCE($2::smallint, account_oof.state), "
        "start_time = CASE WHEN $2::smallint IS NULL THEN account_oof.start_time ELSE $3::timestamptz END, "
        "end_time = CASE WHEN $2::smallint IS NULL THEN account_oof.end_time ELSE $4::timestamptz END, "
        "updated_at = now()", 4, params, &c->err);
    for (int i = 0; i < nmsgs && rc == 0; i++) {
        const char *mp[5] = {c->req->account.id, msgs[i].audience,
                             msgs[i].enabled < 0 ? NULL : msgs[i].enabled ? "t" : "f",
                             msgs[i].reply, msgs[i].body_type};
        rc = zx_db_run(c->db,
            "INSERT INTO account_oof_messages (account_id, audience, enabled, reply_message, body_type) "
            "VALUES ($1, $2, COALESCE($3::boolean, false), $4, $5) "
            "ON CONFLICT (account_id, audience) DO UPDATE SET "
            "enabled = COALESCE($3::boolean, account_oof_messages.enabled), "
            "reply_message = CASE WHEN $4::text IS NULL THEN account_oof_messages.reply_message ELSE $4 END, "
            "body_type = CASE WHEN $4::text IS NULL THEN account_oof_messages.body_type ELSE $5 END",
            5, mp, &c->err);
    }
    if (zx_db_tx_end(c->db, own, rc, &c->err) < 0) {
        log_fail(c, "Oof Set");
        return ST_SERVER_UNAVAILABLE;
    }
    return ST_SUCCESS;
}

static void do_oof(settings_ctx *c, const zx_wb_node *prop, zx_wb_node *out)
{
    apr_pool_t *p = c->req->pool;
    zx_wb_node *o = zx_wb_add(p, out, ZX_Settings_Oof);
    zx_wb_node *status = zx_wb_add(p, o, ZX_Settings_Status);
    const zx_wb_node *get = zx_wb_child(prop, ZX_Settings_Get);
    const zx_wb_node *set = zx_wb_child(prop, ZX_Settings_Set);
    int st;
    if ((get != NULL) == (set != NULL))
        st = ST_PROTOCOL_ERROR;
    else if (get) {
        /* the Get element is filled only on success */
        zx_wb_node tmp;
        memset(&tmp, 0, sizeof tmp);
        st = oof_get(c, get, &tmp);
        if (st == ST_SUCCESS && tmp.first)
            zx_wb_append(o, tmp.first);
    }
    else
        st = oof_set(c, set);
    put_status(p, status, st);
}

/* ---- DevicePassword, DeviceInformation ---------------------------------------------------- */

/* DeviceInformation: stored by the function the Provision command shares (deviceinfo.c). */
static int device_information(settings_ctx *c, const zx_wb_node *set)
{
    int st = zx_device_info_set(c->srv, c->req, set, &c->err);
    if (st == ST_SERVER_UNAVAILABLE)
        log_fail(c, "DeviceInformation Set");
    return st;
}

static int device_password(settings_ctx *c, const zx_wb_node *set)
{
    apr_pool_t *p = c->req->pool;
    const zx_wb_node *pw = NULL;
    for (const zx_wb_node *n = set->first; n; n = n->next) {
        if (n->kind != ZX_WB_ELEMENT)
            continue;
        if (n->tag != ZX_Settings_Password || pw)
            return ST_PROTOCOL_ERROR;
        pw = n;
    }
    if (!pw)
        return ST_PROTOCOL_ERROR;
    const char *v = zx_wb_text(p, pw);
    if (!c->req->device_row) {
        c->err = "the device is not registered";
        log_fail(c, "DevicePassword Set");
        return ST_SERVER_UNAVAILABLE;
    }
    if (!ctx_db(c))
        return ST_SERVER_UNAVAILABLE;
    /* [MS-ASCMD] 2.2.3.132.3: an empty Password clears the recovery password */
    const char *params[2] = {c->req->device_row, v && *v ? v : NULL};
    if (zx_db_run(c->db, "UPDATE devices SET recovery_password = $2, "
                         "recovery_password_at = CASE WHEN $2::text IS NULL THEN NULL ELSE now() END "
                         "WHERE id = $1", 2, params, &c->err) < 0) {
        log_fail(c, "DevicePassword Set");
        return ST_SERVER_UNAVAILABLE;
    }
    return ST_SUCCESS;
}

static void do_set_only(settings_ctx *c, const zx_wb_node *prop, zx_wb_node *out, unsigned tag,
                        int (*fn)(settings_ctx *, const zx_wb_node *))
{
    apr_pool_t *p = c->req->pool;
    zx_wb_node *o = zx_wb_add(p, out, tag);
    const zx_wb_node *set = zx_wb_child(prop, ZX_Settings_Set);
    int st = ST_PROTOCOL_ERROR;
    int others = 0;
    for (const zx_wb_node *n = prop->first; n; n = n->next)
        others += n->kind == ZX_WB_ELEMENT && n->tag != ZX_Settings_Set;
    if (set && !others)
        st = fn(c, set);
    zx_wb_add_textf(p, o, ZX_Settings_Status, "%d", st);
}

/* ---- UserInformation, RightsManagementInformation ------------------------------------------ */

static void do_user_information(settings_ctx *c, const zx_wb_node *prop, zx_wb_node *out)
{
    apr_pool_t *p = c->req->pool;
    zx_request *req = c->req;
    zx_wb_node *o = zx_wb_add(p, out, ZX_Settings_UserInformation);
    if (!zx_wb_child(prop, ZX_Settings_Get)) {
        zx_wb_add_textf(p, o, ZX_Settings_Status, "%d", ST_PROTOCOL_ERROR);
        return;
    }
    zx_account *acct = NULL;
    if (!ctx_db(c) || zx_dir_get_account(p, c->db, req->account.name, &acct, &c->err) != 1) {
        log_fail(c, "UserInformation Get");
        zx_wb_add_textf(p, o, ZX_Settings_Status, "%d", ST_SERVER_UNAVAILABLE);
        return;
    }
    zx_wb_add_textf(p, o, ZX_Settings_Status, "%d", ST_SUCCESS);
    zx_wb_node *g = zx_wb_add(p, o, ZX_Settings_Get);
    if (req->proto < ZX_V141) {
        zx_wb_node *ea = zx_wb_add(p, g, ZX_Settings_EmailAddresses);
        zx_wb_add_text(p, ea, ZX_Settings_SMTPAddress, req->account.name);
        return;
    }
    /* 14.1+: one account, the primary one, which has no AccountId ([MS-ASCMD] 2.2.3.3.2) */
    zx_wb_node *a = zx_wb_add(p, zx_wb_add(p, g, ZX_Settings_Accounts), ZX_Settings_Account);
    if (acct->display_name && *acct->display_name)
        zx_wb_add_text(p, a, ZX_Settings_UserDisplayName, acct->display_name);
    zx_wb_node *ea = zx_wb_add(p, a, ZX_Settings_EmailAddresses);
    zx_wb_add_text(p, ea, ZX_Settings_SMTPAddress, req->account.name);
    zx_wb_add_text(p, ea, ZX_Settings_PrimarySmtpAddress, req->account.name);
}

static void do_rights_management(settings_ctx *c, const zx_wb_node *prop, zx_wb_node *out)
{
    apr_pool_t *p = c->req->pool;
    zx_wb_node *o = zx_wb_add(p, out, ZX_Settings_RightsManagementInformation);
    if (!zx_wb_child(prop, ZX_Settings_Get)) {
        zx_wb_add_textf(p, o, ZX_Settings_Status, "%d", ST_PROTOCOL_ERROR);
        return;
    }
    zx_wb_add_textf(p, o, ZX_Settings_Status, "%d", ST_SUCCESS);
    /* [MS-ASRM] 2.2.2.17: the templates available - none */
    zx_wb_add(p, zx_wb_add(p, o, ZX_Settings_Get), ZX_RightsManagement_RightsManagementTemplates);
}

/* ---- the command -------------------------------------------------------------------------- */

void zx_cmd_settings(const zx_server *srv, zx_request *req, zx_response *resp)
{
    apr_pool_t *p = req->pool;
    settings_ctx c = {srv, req, NULL, NULL};
    zx_wb_node *root = zx_wb_new(p, ZX_Settings_Settings);
    zx_wb_node *status = zx_wb_add(p, root, ZX_Settings_Status);
    int overall = ST_SUCCESS;
    if (!req->doc)
        overall = ST_PROTOCOL_ERROR;
    /* unknown properties make the request invalid as a whole */
    for (const zx_wb_node *n = req->doc ? req->doc->first : NULL; n; n = n->next) {
        if (n->kind != ZX_WB_ELEMENT)
            continue;
        switch (n->tag) {
        case ZX_Settings_Oof:
        case ZX_Settings_DevicePassword:
        case ZX_Settings_DeviceInformation:
        case ZX_Settings_UserInformation:
            break;
        case ZX_Settings_RightsManagementInformation:
            if (req->proto >= ZX_V141)
                break;
            /* fall through */
        default:
            overall = ST_PROTOCOL_ERROR;
        }
    }
    if (overall == ST_SUCCESS) {
        for (const zx_wb_node *n = req->doc->first; n; n = n->next) {
            if (n->kind != ZX_WB_ELEMENT)
                continue;
            switch (n->tag) {
            case ZX_Settings_Oof:
                do_oof(&c, n, root);
                break;
            case ZX_Settings_DevicePassword:
                do_set_only(&c, n, root, ZX_Settings_DevicePassword, device_password);
                break;
            case ZX_Settings_DeviceInformation:
                do_set_only(&c, n, root, ZX_Settings_DeviceInformation, device_information);
                break;
            case ZX_Settings_UserInformation:
                do_user_information(&c, n, root);
                break;
            case ZX_Settings_RightsManagementInformation:
                do_rights_management(&c, n, root);
                break;
            }
        }
    }
    put_status(p, status, overall);
    zx_respond_wbxml(req, resp, root);
    if (overall != ST_SUCCESS) {
        resp->reason = ZXLOGNO(00731) "Settings request with an unknown or misplaced property";
        resp->reason_level = ZX_LOG_INFO;
    }
}
