/* zxmobile - the LMTP protocol engine (RFC 2033; zxsync/lmtp.h).
 *
 * Replies carry RFC 3463 enhanced status codes (RFC 2034).  State: before LHLO, ready, in a
 * transaction (after MAIL), receiving the message (after 354).  Input is split into lines
 * here; a line over ZX_LMTP_MAX_COMMAND in a command is answered 500 once its end comes, a
 * message line may be of any length (only the message's size is bounded). */
#include <apr_strings.h>
#include <apr_tables.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zxsync/delivery.h>
#include <zxsync/submit.h>
#include <zxsync/lmtp.h>
#include <zxsync/log.h>

typedef enum { ST_START, ST_READY, ST_MAIL, ST_DATA, ST_CLOSED } lmtp_state;

typedef struct {
    const char *address;        /* as the RCPT named it */
    const char *account;        /* user@domain */
    const char *account_id;
} rcpt;

struct zx_lmtp {
    apr_pool_t *pool;           /* the session's */
    apr_pool_t *txp;            /* the transaction's: recipients, the lease, error texts */
    zx_lmtp_settings set;
    zx_lmtp_ops ops;
    lmtp_state state;
    zx_db *db;                  /* lent by ops.acquire, or NULL */
    /* the input line being assembled (a line split over several feeds) */
    char *line;
    apr_size_t line_len, line_cap;
    int overflow;               /* a command line over the limit: discarded until its end */
    int mid_line;               /* in the message, inside a line (a long line's later part) */
    /* the transaction */
    const char *sender;
    apr_array_header_t *rcpts;  /* rcpt */
    unsigned rcpt_tried;        /* RCPT commands of the transaction (accepted or not) */
    /* the message: malloc'd, with room before it for the Return-Path line */
    char *msg;
    apr_size_t msg_head, msg_len, msg_cap;
    int too_big;
    /* the answers waiting to be written */
    char *out;
    apr_size_t out_len, out_cap;
    zx_lmtp_stats stats;
};

/* ---- output ------------------------------------------------------------------------------ */

static void out_add(zx_lmtp *s, const char *data, apr_size_t n)
{
    if (s->out_len + n > s->out_cap) {
        apr_size_t cap = s->out_cap ? s->out_cap : 1024;
        while (cap < s->out_len + n)
            cap *= 2;
        char *nb = realloc(s->out, cap);
        if (!nb)
            abort();
        s->out = nb;
        s->out_cap = cap;
    }
    memcpy(s->out + s->out_len, data, n);
    s->out_len += n;
}

static void reply(zx_lmtp *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(zx_lmtp *s, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = apr_vsnprintf(buf, sizeof buf - 2, fmt, ap);
    va_end(ap);
    /* no line breaks from the texts (an error message) inside a reply line */
    for (int i = 0; i < n; i++)
        if (buf[i] == '\r' || buf[i] == '\n')
            buf[i] = ' ';
    buf[n++] = '\r';
    buf[n++] = '\n';
    out_add(s, buf, (apr_size_t)n);
}

static void slog(zx_lmtp *s, zx_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void slog(zx_lmtp *s, zx_log_level level, const char *fmt, ...)
{
    if (!s->ops.log && !zx_log_is_level(NULL, level))
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    apr_vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (s->ops.log)
        s->ops.log(s->ops.baton, level, buf);
    else
        zx_log(NULL, level, "%s", buf);
}

/* ---- the database and the transaction ---------------------------------------------------- */

static zx_db *need_db(zx_lmtp *s, const char **err)
{
    if (!s->db) {
        if (!s->ops.acquire) {
            *err = "no database";
            return NULL;
        }
        s->db = s->ops.acquire(s->ops.baton, s->txp, err);
    }
    return s->db;
}

static void drop_db(zx_lmtp *s)
{
    if (s->db && s->ops.release)
        s->ops.release(s->ops.baton, s->txp, s->db);
    s->db = NULL;
}

static void msg_free(zx_lmtp *s)
{
    free(s->msg);
    s->msg = NULL;
    s->msg_head = s->msg_len = s->msg_cap = 0;
    s->too_big = 0;
}

/* End the transaction: the connection goes back, its memory is freed. */
static void tx_reset(zx_lmtp *s)
{
    drop_db(s);
    msg_free(s);
    apr_pool_clear(s->txp);
    s->sender = NULL;
    s->rcpts = NULL;
    s->rcpt_tried = 0;
    if (s->state == ST_MAIL || s->state == ST_DATA)
        s->state = ST_READY;
}

static apr_status_t session_cleanup(void *data)
{
    zx_lmtp *s = data;
    drop_db(s);
    msg_free(s);
    free(s->out);
    free(s->line);
    s->out = s->line = NULL;
    s->out_len = s->out_cap = s->line_len = s->line_cap = 0;
    return APR_SUCCESS;
}

zx_lmtp *zx_lmtp_create(apr_pool_t *p, const zx_lmtp_settings *settings,
                        const zx_lmtp_ops *ops)
{
    zx_lmtp *s = apr_pcalloc(p, sizeof *s);
    s->pool = p;
    apr_pool_create(&s->txp, p);
    if (settings)
        s->set = *settings;
    if (!s->set.hostname || !*s->set.hostname)
        s->set.hostname = "localhost";
    if (!s->set.max_size)
        s->set.max_size = ZX_LMTP_DEFAULT_MAX_SIZE;
    if (!s->set.max_rcpts)
        s->set.max_rcpts = ZX_LMTP_DEFAULT_MAX_RCPTS;
    if (ops)
        s->ops = *ops;
    s->state = ST_START;
    /* a pre-cleanup: runs before txp (a subpool, holding the lease) is destroyed */
    apr_pool_pre_cleanup_register(p, s, session_cleanup);
    return s;
}

void zx_lmtp_greet(zx_lmtp *s)
{
    reply(s, "220 %s LMTP zxmobile ready", s->set.hostname);
}

const char *zx_lmtp_output(zx_lmtp *s, apr_size_t *len)
{
    *len = s->out_len;
    return s->out_len ? s->out : NULL;
}

void zx_lmtp_output_done(zx_lmtp *s)
{
    s->out_len = 0;
}

void zx_lmtp_idle(zx_lmtp *s)
{
    drop_db(s);
}

void zx_lmtp_abort(zx_lmtp *s, const char *code, const char *why)
{
    if (s->state == ST_CLOSED)
        return;
    reply(s, "421 %s %s %s, closing connection", code ? code : "4.4.2", s->set.hostname,
          why ? why : "error");
    tx_reset(s);
    s->state = ST_CLOSED;
}

int zx_lmtp_closed(const zx_lmtp *s)
{
    return s->state == ST_CLOSED;
}

int zx_lmtp_in_transaction(const zx_lmtp *s)
{
    return s->state == ST_MAIL || s->state == ST_DATA;
}

const zx_lmtp_stats *zx_lmtp_stats_get(const zx_lmtp *s)
{
    return &s->stats;
}

/* ---- parsing ----------------------------------------------------------------------------- */

/* "FROM:" / "TO:" then a path: <...>, or (leniently) a bare address; *rest the parameters.
 * Returns the path without brackets ("" for <>), or NULL on bad syntax. */
static const char *parse_path(apr_pool_t *p, const char *arg, const char *kw, const char **rest)
{
    apr_size_t n = strlen(kw);
    if (strncasecmp(arg, kw, n) != 0)
        return NULL;
    arg += n;
    while (*arg == ' ')
        arg++;
    const char *path, *end;
    if (*arg == '<') {
        end = strchr(arg, '>');
        if (!end)
            return NULL;
        path = apr_pstrmemdup(p, arg + 1, (apr_size_t)(end - arg - 1));
        end++;
    }
    else {
        end = arg + strcspn(arg, " ");
        if (end == arg)
            return NULL;
        path = apr_pstrmemdup(p, arg, (apr_size_t)(end - arg));
    }
    if (*end && *end != ' ')
        return NULL;
    while (*end == ' ')
        end++;
    *rest = end;
    /* a source route (<@a,@b:user@d>, RFC 5321 4.1.2) is ignored, as the RFC allows */
    if (path[0] == '@') {
        const char *colon = strchr(path, ':');
        if (!colon)
            return NULL;
        path = colon + 1;
    }
    for (const char *c = path; *c; c++)
        if ((unsigned char)*c < 33 || *c == 127)
            return NULL;
    return path;
}

/* The next ESMTP parameter of *rest: *name (upper-cased), *value (or NULL); 0 at the end. */
static int next_param(apr_pool_t *p, const char **rest, char **name, const char **value)
{
    const char *r = *rest;
    while (*r == ' ')
        r++;
    if (!*r)
        return 0;
    apr_size_t n = strcspn(r, " ");
    char *kv = apr_pstrmemdup(p, r, n);
    *rest = r + n;
    char *eq = strchr(kv, '=');
    *value = NULL;
    if (eq) {
        *eq = '\0';
        *value = eq + 1;
    }
    for (char *c = kv; *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
    *name = kv;
    return 1;
}

/* ---- commands ---------------------------------------------------------------------------- */

static void cmd_lhlo(zx_lmtp *s, const char *arg)
{
    if (!*arg) {
        reply(s, "501 5.5.4 Syntax: LHLO hostname");
        return;
    }
    tx_reset(s);
    s->state = ST_READY;
    reply(s, "250-%s", s->set.hostname);
    reply(s, "250-PIPELINING");
    reply(s, "250-ENHANCEDSTATUSCODES");
    reply(s, "250-8BITMIME");
    reply(s, "250 SIZE %" APR_SIZE_T_FMT, s->set.max_size);
}

static void cmd_mail(zx_lmtp *s, const char *arg)
{
    if (s->state == ST_START) {
        reply(s, "503 5.5.1 Error: send LHLO first");
        return;
    }
    if (s->state != ST_READY) {
        reply(s, "503 5.5.1 Error: nested MAIL command");
        return;
    }
    const char *rest;
    const char *path = parse_path(s->txp, arg, "FROM:", &rest);
    if (!path) {
        reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
        return;
    }
    char *name;
    const char *value;
    while (next_param(s->txp, &rest, &name, &value)) {
        if (strcmp(name, "SIZE") == 0) {
            char *end = NULL;
            apr_int64_t size = value && *value >= '0' && *value <= '9'
                                   ? apr_strtoi64(value, &end, 10) : -1;
            if (size < 0 || !end || *end) {
                reply(s, "501 5.5.4 Bad SIZE parameter");
                apr_pool_clear(s->txp);
                return;
            }
            if ((apr_uint64_t)size > (apr_uint64_t)s->set.max_size) {
                reply(s, "552 5.3.4 Message size exceeds fixed maximum message size (%"
                      APR_SIZE_T_FMT " bytes)", s->set.max_size);
                apr_pool_clear(s->txp);
                return;
            }
        }
        else if (strcmp(name, "BODY") == 0) {
            if (!value || (strcasecmp(value, "7BIT") != 0 && strcasecmp(value, "8BITMIME") != 0)) {
                reply(s, "501 5.5.4 Bad BODY parameter");
                apr_pool_clear(s->txp);
                return;
            }
        }
        else {
            reply(s, "555 5.5.4 Unsupported parameter %s", name);
            apr_pool_clear(s->txp);
            return;
        }
    }
    s->sender = path;
    s->rcpts = apr_array_make(s->txp, 4, sizeof(rcpt));
    s->rcpt_tried = 0;
    s->state = ST_MAIL;
    reply(s, "250 2.1.0 Sender <%s> OK", path);
}

static void cmd_rcpt(zx_lmtp *s, const char *arg)
{
    if (s->state != ST_MAIL) {
        reply(s, "503 5.5.1 Error: need MAIL command");
        return;
    }
    const char *rest;
    const char *path = parse_path(s->txp, arg, "TO:", &rest);
    if (!path) {
        reply(s, "501 5.5.4 Syntax: RCPT TO:<address>");
        return;
    }
    if (*rest) {
        reply(s, "555 5.5.4 Unsupported RCPT parameters");
        return;
    }
    if (!*path) {
        reply(s, "501 5.1.3 Bad recipient address syntax");
        return;
    }
    if ((unsigned)s->rcpts->nelts >= s->set.max_rcpts) {
        reply(s, "452 4.5.3 Error: too many recipients");
        s->stats.deferred++;
        return;
    }
    s->rcpt_tried++;
    const char *err = NULL, *name = NULL, *id = NULL;
    zx_db *db = need_db(s, &err);
    int rc = -1;
    if (db)
        rc = s->ops.resolve ? s->ops.resolve(s->ops.baton, s->txp, db, path, &name, &id, &err)
                            : zx_delivery_resolve(s->txp, db, path, &name, &id, &err);
    if (rc < 0) {
        reply(s, "451 4.3.0 <%s> Temporary failure: database unavailable, try again later", path);
        slog(s, ZX_LOG_WARNING, ZXLOGNO(03050) "LMTP: RCPT TO:<%s> deferred: database "
             "unavailable: %s", path, err ? err : "?");
        s->stats.deferred++;
        drop_db(s);             /* a broken one is not used again */
        return;
    }
    if (rc == 0) {
        reply(s, "550 5.1.1 <%s> User unknown in this server", path);
        slog(s, ZX_LOG_INFO, ZXLOGNO(03051) "LMTP: RCPT TO:<%s> rejected: %s", path,
             err ? err : "no such account");
        s->stats.rejected++;
        return;
    }
    rcpt *r = apr_array_push(s->rcpts);
    r->address = path;
    r->account = name;
    r->account_id = id;
    reply(s, "250 2.1.5 <%s> OK", path);
}

static void cmd_data(zx_lmtp *s, const char *arg)
{
    if (s->state != ST_MAIL) {
        reply(s, "503 5.5.1 Error: need MAIL command");
        return;
    }
    if (*arg) {
        reply(s, "501 5.5.4 Syntax: DATA");
        return;
    }
    if (s->rcpts->nelts == 0) {
        /* RFC 2033 4.2: no successful RCPT, DATA fails with 503 */
        reply(s, "503 5.5.1 Error: no valid recipients");
        return;
    }
    /* the Return-Path line goes in front of the message (RFC 5321 4.4) */
    apr_size_t head = strlen(s->sender) + 32;
    s->msg_cap = head + 65536;
    s->msg = malloc(s->msg_cap);
    if (!s->msg) {
        s->msg_cap = 0;
        reply(s, "452 4.3.1 Insufficient system storage");
        return;
    }
    s->msg_head = head;
    s->msg_len = 0;
    s->too_big = 0;
    s->mid_line = 0;
    s->state = ST_DATA;
    reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

static void command(zx_lmtp *s, char *line)
{
    char *sp = strchr(line, ' ');
    const char *arg = "";
    if (sp) {
        *sp = '\0';
        arg = sp + 1;
        while (*arg == ' ')
            arg++;
    }
    /* trailing blanks of the argument */
    apr_size_t n = strlen(arg);
    while (n && (arg[n - 1] == ' ' || arg[n - 1] == '\t'))
        ((char *)arg)[--n] = '\0';
    if (strcasecmp(line, "LHLO") == 0)
        cmd_lhlo(s, arg);
    else if (strcasecmp(line, "MAIL") == 0)
        cmd_mail(s, arg);
    else if (strcasecmp(line, "RCPT") == 0)
        cmd_rcpt(s, arg);
    else if (strcasecmp(line, "DATA") == 0)
        cmd_data(s, arg);
    else if (strcasecmp(line, "RSET") == 0) {
        if (*arg) {
            reply(s, "501 5.5.4 Syntax: RSET");
            return;
        }
        tx_reset(s);
        reply(s, "250 2.0.0 OK");
    }
    else if (strcasecmp(line, "NOOP") == 0)
        reply(s, "250 2.0.0 OK");
    else if (strcasecmp(line, "QUIT") == 0) {
        reply(s, "221 2.0.0 %s closing connection", s->set.hostname);
        tx_reset(s);
        s->state = ST_CLOSED;
    }
    else if (strcasecmp(line, "VRFY") == 0)
        reply(s, "252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery");
    else if (strcasecmp(line, "HELO") == 0 || strcasecmp(line, "EHLO") == 0)
        reply(s, "500 5.5.1 Error: this is LMTP, say LHLO");
    else if (!*line)
        reply(s, "500 5.5.2 Error: bad syntax");
    else
        reply(s, "500 5.5.1 Error: command not recognized");
}

/* ---- the message ------------------------------------------------------------------------- */

static void msg_add(zx_lmtp *s, const char *data, apr_size_t n)
{
    if (s->too_big)
        return;
    if (s->msg_len + n > s->set.max_size) {
        s->too_big = 1;
        return;
    }
    if (s->msg_head + s->msg_len + n > s->msg_cap) {
        apr_size_t cap = s->msg_cap;
        while (cap < s->msg_head + s->msg_len + n)
            cap *= 2;
        char *nb = realloc(s->msg, cap);
        if (!nb) {
            s->too_big = 1;         /* answered 552 */
            return;
        }
        s->msg = nb;
        s->msg_cap = cap;
    }
    memcpy(s->msg + s->msg_head + s->msg_len, data, n);
    s->msg_len += n;
}

/* The out-of-office reply a delivery asks for (zx_oof_reply), with the null sender: to an
 * account of this server delivered here, to anyone else through the transport. */
static void send_oof(zx_lmtp *s, apr_pool_t *p, zx_db *db, const zx_delivery *d)
{
    apr_array_header_t *to = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(to, const char *) = d->oof.to;
    zx_submit_result res;
    if (zx_submit(p, db, s->set.transport, "", to, d->oof.data, d->oof.len, &res) == ZX_SEND_OK)
        slog(s, ZX_LOG_INFO, ZXLOGNO(03055) "LMTP: out-of-office reply of %s to <%s> (%s)",
             d->account, d->oof.to, d->oof.audience);
    else
        slog(s, ZX_LOG_WARNING, ZXLOGNO(03056) "LMTP: the out-of-office reply of %s to <%s> "
             "was not sent: %s", d->account, d->oof.to, res.err ? res.err : "?");
}

/* The message is complete: one delivery and one reply per accepted recipient. */
static void deliver_all(zx_lmtp *s)
{
    s->stats.transactions++;
    const char *body = s->msg + s->msg_head;
    const char *problem = s->too_big ? NULL : zx_delivery_message_problem(body, s->msg_len);
    /* the Return-Path line, in the message's own line ending */
    const char *eol = "\r\n";
    const char *lf = memchr(body, '\n', s->msg_len);
    if (lf && (lf == body || lf[-1] != '\r'))
        eol = "\n";
    char *rp = apr_psprintf(s->txp, "Return-Path: <%s>%s", s->sender, eol);
    apr_size_t rpn = strlen(rp);
    if (rpn > s->msg_head)
        rpn = 0;                    /* cannot happen: the room was made for it */
    memcpy(s->msg + s->msg_head - rpn, rp, rpn);
    const char *data = s->msg + s->msg_head - rpn;
    apr_size_t len = s->msg_len + rpn;
    /* the replies of the recipients already delivered, by account (one copy per account) */
    apr_array_header_t *done_ids = apr_array_make(s->txp, s->rcpts->nelts, sizeof(const char *));
    apr_array_header_t *done_replies = apr_array_make(s->txp, s->rcpts->nelts, sizeof(char *));
    apr_array_header_t *done_addrs = apr_array_make(s->txp, s->rcpts->nelts, sizeof(char *));
    for (int i = 0; i < s->rcpts->nelts; i++) {
        const rcpt *r = &APR_ARRAY_IDX(s->rcpts, i, rcpt);
        if (s->too_big) {
            reply(s, "552 5.3.4 <%s> Message size exceeds fixed maximum message size (%"
                  APR_SIZE_T_FMT " bytes)", r->address, s->set.max_size);
            s->stats.rejected++;
            continue;
        }
        if (problem) {
            reply(s, "554 5.6.0 <%s> Message rejected: %s", r->address, problem);
            s->stats.rejected++;
            continue;
        }
        const char *dup = NULL;
        int first = -1;
        for (int k = 0; k < done_ids->nelts && first < 0; k++)
            if (strcmp(APR_ARRAY_IDX(done_ids, k, const char *), r->account_id) == 0) {
                dup = APR_ARRAY_IDX(done_replies, k, const char *);
                first = k;
            }
        if (dup) {
            /* the first recipient's codes ("250 2.0.0", "451 4.3.0") */
            reply(s, "%.9s <%s> same mailbox as <%s>", dup, r->address,
                  APR_ARRAY_IDX(done_addrs, first, const char *));
            if (dup[0] == '2')
                s->stats.delivered++;
            else
                s->stats.deferred++;
            continue;
        }
        apr_pool_t *dp;
        apr_pool_create(&dp, s->txp);
        const char *err = NULL;
        zx_delivery d;
        memset(&d, 0, sizeof d);
        zx_db *db = need_db(s, &err);
        zx_delivery_status st = ZX_DELIVERY_TEMPFAIL;
        if (db)
            st = s->ops.deliver ? s->ops.deliver(s->ops.baton, dp, db, r->address, data, len, &d,
                                                 &err)
                                : zx_delivery_deliver_from(dp, db, s->sender, r->address, NULL,
                                                           data, len, &d, &err);
        const char *text;
        switch (st) {
        case ZX_DELIVERY_OK:
            text = apr_psprintf(s->txp, "250 2.0.0 <%s> delivered", r->address);
            s->stats.delivered++;
            slog(s, ZX_LOG_INFO, ZXLOGNO(03052) "LMTP: from <%s> to <%s>: delivered to %s, "
                 "item %s, %" APR_SIZE_T_FMT " bytes", s->sender, r->address,
                 d.account ? d.account : r->account, d.item_id ? d.item_id : "?", len);
            if (d.oof.to)
                send_oof(s, dp, db, &d);
            break;
        case ZX_DELIVERY_NOUSER:
            text = apr_psprintf(s->txp, "550 5.1.1 <%s> User unknown in this server",
                                r->address);
            s->stats.rejected++;
            slog(s, ZX_LOG_INFO, ZXLOGNO(03053) "LMTP: from <%s> to <%s>: rejected: %s",
                 s->sender, r->address, err ? err : "no such account");
            break;
        case ZX_DELIVERY_BADMSG:
            text = apr_psprintf(s->txp, "554 5.6.0 <%s> Message rejected: %s", r->address,
                                err ? err : "not a message");
            s->stats.rejected++;
            break;
        default:
            text = apr_psprintf(s->txp, "451 4.3.0 <%s> Temporary failure, try again later",
                                r->address);
            s->stats.deferred++;
            slog(s, ZX_LOG_WARNING, ZXLOGNO(03054) "LMTP: from <%s> to <%s>: deferred: %s",
                 s->sender, r->address, err ? err : "database unavailable");
            drop_db(s);         /* a broken connection is not used again; a new one next */
            break;
        }
        reply(s, "%s", text);
        APR_ARRAY_PUSH(done_ids, const char *) = r->account_id;
        APR_ARRAY_PUSH(done_replies, const char *) = text;
        APR_ARRAY_PUSH(done_addrs, const char *) = r->address;
        apr_pool_destroy(dp);
    }
    tx_reset(s);
}

/* One message line (its line break included, if it came), or a piece of a long one. */
static void data_line(zx_lmtp *s, const char *l, apr_size_t n, int complete)
{
    if (!s->mid_line && n > 0 && l[0] == '.') {
        if (complete && (n == 2 || (n == 3 && l[1] == '\r'))) {
            deliver_all(s);         /* ".\r\n" or ".\n": the end */
            return;
        }
        l++;                        /* dot-stuffing (RFC 5321 4.5.2) */
        n--;
    }
    msg_add(s, l, n);
    s->mid_line = !complete;
}

/* ---- input ------------------------------------------------------------------------------- */

/* One complete line (with its LF) while not in the message. */
static void command_line(zx_lmtp *s, const char *l, apr_size_t n)
{
    if (s->overflow) {
        s->overflow = 0;
        reply(s, "500 5.5.2 Error: line too long");
        return;
    }
    while (n && (l[n - 1] == '\n' || l[n - 1] == '\r'))
        n--;
    if (n + 2 > ZX_LMTP_MAX_COMMAND) {
        reply(s, "500 5.5.2 Error: line too long");
        return;
    }
    char buf[ZX_LMTP_MAX_COMMAND];
    memcpy(buf, l, n);
    buf[n] = '\0';
    if (memchr(buf, '\0', n)) {
        reply(s, "500 5.5.2 Error: bad syntax");
        return;
    }
    command(s, buf);
}

static void line_keep(zx_lmtp *s, const char *data, apr_size_t n)
{
    if (s->line_len + n > s->line_cap) {
        apr_size_t cap = s->line_cap ? s->line_cap : 4096;
        while (cap < s->line_len + n)
            cap *= 2;
        char *nb = realloc(s->line, cap);
        if (!nb)
            abort();
        s->line = nb;
        s->line_cap = cap;
    }
    memcpy(s->line + s->line_len, data, n);
    s->line_len += n;
}

/* A whole line (LF included). */
static void one_line(zx_lmtp *s, const char *l, apr_size_t n)
{
    if (s->state == ST_DATA)
        data_line(s, l, n, 1);
    else
        command_line(s, l, n);
}

/* A long line's beginning, kept too long without its end. */
#define DATA_PIECE 65536

apr_size_t zx_lmtp_feed(zx_lmtp *s, const char *data, apr_size_t len)
{
    apr_size_t used = 0;
    while (used < len) {
        if (s->state == ST_CLOSED)
            return used;
        const char *p = data + used;
        apr_size_t left = len - used;
        const char *lf = memchr(p, '\n', left);
        if (!lf) {
            /* a line without its end yet */
            if (s->state == ST_DATA) {
                line_keep(s, p, left);
                /* a message line may be long: pass its beginning on (never the first byte
                 * alone, which may be the dot of the end) */
                if (s->line_len >= DATA_PIECE) {
                    data_line(s, s->line, s->line_len, 0);
                    s->line_len = 0;
                }
            }
            else if (s->overflow || s->line_len + left > ZX_LMTP_MAX_COMMAND) {
                s->overflow = 1;
                s->line_len = 0;
            }
            else {
                line_keep(s, p, left);
            }
            return len;
        }
        apr_size_t n = (apr_size_t)(lf - p) + 1;
        used += n;
        if (s->line_len) {
            if (s->state != ST_DATA && s->line_len + n > ZX_LMTP_MAX_COMMAND) {
                s->line_len = 0;
                s->overflow = 1;
                command_line(s, "", 0);
                continue;
            }
            line_keep(s, p, n);
            apr_size_t total = s->line_len;
            s->line_len = 0;        /* s->line stays valid until the next keep */
            one_line(s, s->line, total);
        }
        else {
            one_line(s, p, n);
        }
    }
    return used;
}
