/* zxsuite mailbox: mail into the store.
 *
 *   zxsuite mailbox deliver <account> [folder]             one RFC 5322 message on stdin
 *   zxsuite mailbox import <account> <mbox|Maildir> [folder]
 *
 * deliver is made for an MTA (a Postfix pipe(8) transport or local(8) mailbox_command): it exits
 * with a sysexits(3) status the MTA understands, and 0 only once the message is committed:
 *
 *   0   EX_OK        delivered (committed)
 *   65  EX_DATAERR   empty message, or no header fields at all          (the MTA bounces)
 *   67  EX_NOUSER    unknown or closed account                           (the MTA bounces)
 *   75  EX_TEMPFAIL  anything else: database unreachable, serialization
 *                    failure that persisted, read error on stdin, ...    (the MTA retries)
 *
 * A leading mbox "From " line (pipe(8) flag F) is dropped.  The folder is a server id or a name
 * (case-insensitive; "Parent/Child" for a subfolder); an unknown folder, or one that does not
 * hold mail, falls back to the Inbox (as Dovecot's LDA does) with a warning on stderr.
 *
 * import reads an mbox file (mboxrd or mboxo: ">From " lines are unescaped; a file that does not
 * start with a "From " line is one message) or a Maildir (cur/ and new/; the S flag of cur/
 * marks a message read; "Status: R" does in an mbox).  Each message is its own transaction;
 * one that cannot be stored is reported on stderr with its number (and line, in an mbox) and
 * the import goes on; the exit status is non-zero when any failed.  A progress bar is drawn on
 * stderr when it is a terminal.
 */
#include "cli.h"

#include <apr_date.h>
#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>
#include <zxsync/delivery.h>
#include <zxsync/directory.h>
#include <zxsync/mime.h>
#include <zxsync/sendmail.h>
#include <zxsync/store.h>

#define RETRIES 5

/* ---- helpers ------------------------------------------------------------------------------ */

static int connection_lost(cli *c)
{
    return !c->db || PQstatus(zx_db_conn(c->db)) != CONNECTION_OK;
}

/* Skip a leading mbox "From " line. */
static void strip_from_line(const char **data, apr_size_t *len)
{
    if (*len >= 5 && memcmp(*data, "From ", 5) == 0) {
        const char *nl = memchr(*data, '\n', *len);
        apr_size_t skip = nl ? (apr_size_t)(nl - *data) + 1 : *len;
        *data += skip;
        *len -= skip;
    }
}

typedef struct {
    zx_store *st;
    const char *account;        /* normalised name */
    const char *account_id;
    zx_folder *folder;
} target;

/* Open the account's store.  1 ok, 0 unknown or closed account (*err says which), -1 error. */
static int open_account(cli *c, const char *name, target *t, const char **err)
{
    return cli_open_account(c, name, &t->account, &t->account_id, &t->st, err);
}

static ov *folder_ov(apr_pool_t *p, const target *t)
{
    ov *o = ov_new(p, OV_OBJ);
    ov_set(o, "account", ov_str(p, t->account));
    ov_set(o, "folder", ov_str(p, t->folder->name));
    ov_set(o, "folderId", ov_str(p, t->folder->id));
    return o;
}

/* ---- deliver ------------------------------------------------------------------------------ */

static int read_stdin(cli *c, char **data, apr_size_t *len, const char **err)
{
    apr_file_t *in;
    if (apr_file_open_stdin(&in, c->pool) != APR_SUCCESS) {
        *err = "cannot open standard input";
        return -1;
    }
    apr_size_t cap = 65536, used = 0;
    char *buf = malloc(cap);
    if (!buf) {
        *err = "out of memory";
        return -1;
    }
    for (;;) {
        if (cap - used < 65536) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                *err = "out of memory";
                return -1;
            }
            buf = nb;
            cap *= 2;
        }
        apr_size_t n = cap - used;
        apr_status_t rv = apr_file_read(in, buf + used, &n);
        used += n;
        if (rv == APR_EOF)
            break;
        if (rv != APR_SUCCESS) {
            char msg[120];
            *err = apr_psprintf(c->pool, "reading the message: %s",
                                apr_strerror(rv, msg, sizeof msg));
            free(buf);
            return -1;
        }
    }
    *data = apr_palloc(c->pool, used + 1);
    memcpy(*data, buf, used);
    (*data)[used] = '\0';
    *len = used;
    free(buf);
    return 0;
}

/* The out-of-office reply a delivery asks for: to an account of this server it is delivered
 * here; anything else goes to the MTA's sendmail command (a pipe delivery has an MTA:
 * ZXMOBILE_SENDMAIL, default "/usr/sbin/sendmail -i"), with the null sender.  Returns whom it
 * went to, or NULL (a warning on stderr says why). */
static const char *send_oof(cli *c, const zx_delivery *d)
{
    if (!d->oof.to)
        return NULL;
    zx_delivery back;
    const char *e = NULL;
    const char *name, *id;
    int local = zx_delivery_resolve(c->pool, c->db, d->oof.to, &name, &id, &e);
    if (local > 0) {
        if (zx_delivery_deliver(c->pool, c->db, d->oof.to, NULL, d->oof.data, d->oof.len,
                                &back, &e) == ZX_DELIVERY_OK)
            return d->oof.to;
    } else if (local == 0) {
        const char *mta = getenv("ZXMOBILE_SENDMAIL");
        apr_array_header_t *rcpts = apr_array_make(c->pool, 1, sizeof(const char *));
        APR_ARRAY_PUSH(rcpts, const char *) = d->oof.to;
        if (zx_sendmail_run(c->pool, mta && *mta ? mta : "/usr/sbin/sendmail -i", "<>", rcpts,
                            d->oof.data, d->oof.len, &e) == 0)
            return d->oof.to;
    }
    fprintf(stderr, "zxsuite: warning: the out-of-office reply of %s to %s was not sent: %s\n",
            d->account, d->oof.to, e ? e : "?");
    return NULL;
}

static int cmd_deliver(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    c->exit_code = EX_TEMPFAIL;          /* until we know better */
    char *buf;
    apr_size_t len;
    if (read_stdin(c, &buf, &len, err) < 0)
        return -1;
    const char *data = buf;
    strip_from_line(&data, &len);
    const char *problem = zx_delivery_message_problem(data, len);
    if (problem) {
        c->exit_code = EX_DATAERR;
        *err = problem;
        return -1;
    }
    if (cli_need_db(c, err) < 0) {
        *err = apr_psprintf(c->pool, "database unavailable, try again later: %s", *err);
        return -1;
    }
    zx_delivery d;
    const char *sender = zx_delivery_return_path(c->pool, data, len);
    switch (zx_delivery_deliver_from(c->pool, c->db, sender, argv[0], argc > 1 ? argv[1] : NULL,
                                     data, len, &d, err)) {
    case ZX_DELIVERY_OK:
        break;
    case ZX_DELIVERY_NOUSER:
        c->exit_code = EX_NOUSER;
        return -1;
    case ZX_DELIVERY_BADMSG:
        c->exit_code = EX_DATAERR;
        return -1;
    case ZX_DELIVERY_TEMPFAIL:
        *err = apr_psprintf(c->pool, "%s; try again later", *err);
        return -1;
    }
    if (d.warning)
        fprintf(stderr, "zxsuite: warning: %s\n", d.warning);
    const char *oof = send_oof(c, &d);
    c->exit_code = 0;
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "account", ov_str(c->pool, d.account));
    ov_set(*out, "folder", ov_str(c->pool, d.folder_name));
    ov_set(*out, "folderId", ov_str(c->pool, d.folder_id));
    ov_set(*out, "itemId", ov_str(c->pool, d.item_id));
    ov_set(*out, "size", ov_int(c->pool, (long long)len));
    if (oof)
        ov_set(*out, "outOfOfficeReply", ov_str(c->pool, oof));
    return 0;
}

/* ---- import ------------------------------------------------------------------------------- */

typedef struct {
    cli *c;
    target *t;
    int total, imported, failed;
    int tty;
    int bar_shown;
    apr_off_t done_bytes, total_bytes;   /* mbox progress */
    int total_files;                     /* Maildir progress */
    apr_time_t last_draw;
    int stop;                            /* the database went away */
    const char *stop_reason;
} importer;

static void bar_clear(importer *im)
{
    if (im->bar_shown) {
        fprintf(stderr, "\r%*s\r", 72, "");
        im->bar_shown = 0;
    }
}

static void bar_draw(importer *im, int force)
{
    if (!im->tty)
        return;
    apr_time_t now = apr_time_now();
    if (!force && now - im->last_draw < apr_time_from_msec(100))
        return;
    im->last_draw = now;
    double frac = 0;
    if (im->total_bytes > 0)
        frac = (double)im->done_bytes / (double)im->total_bytes;
    else if (im->total_files > 0)
        frac = (double)im->total / (double)im->total_files;
    if (frac > 1)
        frac = 1;
    char bar[31];
    int fill = (int)(frac * 30);
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '-';
    bar[30] = '\0';
    fprintf(stderr, "\r[%s] %3d%%  %d messages", bar, (int)(frac * 100), im->total);
    if (im->failed)
        fprintf(stderr, ", %d failed", im->failed);
    fflush(stderr);
    im->bar_shown = 1;
}

static void report(importer *im, const char *where, const char *why)
{
    bar_clear(im);
    fprintf(stderr, "zxsuite: %s: %s\n", where, why);
}

/* Store one message; failures are reported and counted. */
/* The Date header of a message, 0 when none. */
static apr_time_t date_header(apr_pool_t *p, const char *data, apr_size_t len)
{
    zx_mime_message *m;
    const char *err;
    return zx_mime_parse(p, data, len, &m, &err) == 0 ? m->date : 0;
}

/* Store one message (received: its arrival time, 0 = unknown: the Date header, else now);
 * failures are reported and counted. */
static void import_one(importer *im, const char *where, const char *data, apr_size_t len,
                       int read, apr_time_t received)
{
    cli *c = im->c;
    im->total++;
    strip_from_line(&data, &len);
    const char *problem = zx_delivery_message_problem(data, len);
    if (!problem) {
        for (int attempt = 1;; attempt++) {
            apr_pool_t *sub;
            apr_pool_create(&sub, c->pool);
            zx_db_set_pool(c->db, sub);
            zx_store *st = zx_store_open(sub, c->db, im->t->account_id);
            zx_item *item = NULL;
            const char *e = NULL;
            if (!received)
                received = date_header(sub, data, len);
            int rc = zx_store_deliver_at(st, im->t->folder->id, data, len, read, received,
                                         &item, &e);
            if (rc == ZX_STORE_ERROR)
                problem = apr_pstrdup(c->pool, e ? e : "failed");
            else if (rc != ZX_STORE_OK || !item)
                problem = apr_psprintf(c->pool, "folder %s no longer exists", im->t->folder->name);
            else
                problem = NULL;
            zx_db_set_pool(c->db, c->pool);
            apr_pool_destroy(sub);
            if (!problem || attempt >= RETRIES || !zx_delivery_retryable(problem))
                break;
            apr_sleep(apr_time_from_msec(20 * attempt));
        }
        if (problem && connection_lost(c)) {
            im->stop = 1;
            im->stop_reason = apr_psprintf(c->pool, "database connection lost at %s: %s",
                                           where, problem);
        }
    }
    if (problem) {
        im->failed++;
        if (!im->stop)
            report(im, where, problem);
    }
    else {
        im->imported++;
    }
    bar_draw(im, 0);
}

/* "Status: RO" (mutt, Thunderbird, ...) in the header block marks a read message. */
static int mbox_status_read(const char *data, apr_size_t len)
{
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (apr_size_t)(end - p));
        apr_size_t n = nl ? (apr_size_t)(nl - p) : (apr_size_t)(end - p);
        if (n == 0 || (n == 1 && p[0] == '\r'))
            break;
        if (n > 7 && strncasecmp(p, "Status:", 7) == 0)
            return memchr(p + 7, 'R', n - 7) != NULL;
        p += n + 1;
    }
    return 0;
}

typedef struct {
    char *buf;
    apr_size_t len, cap;
} growbuf;

static int gb_add(growbuf *g, const char *s, apr_size_t n)
{
    if (g->len + n + 1 > g->cap) {
        apr_size_t cap = g->cap ? g->cap : 65536;
        while (g->len + n + 1 > cap)
            cap *= 2;
        char *nb = realloc(g->buf, cap);
        if (!nb)
            return -1;
        g->buf = nb;
        g->cap = cap;
    }
    memcpy(g->buf + g->len, s, n);
    g->len += n;
    g->buf[g->len] = '\0';
    return 0;
}

static int is_blank_line(const char *s, apr_size_t n)
{
    return n == 0 || (n == 1 && s[0] == '\r');
}

/* The arrival time on an mbox "From sender asctime" line, 0 when unreadable. */
static apr_time_t from_line_time(const char *line, apr_size_t n)
{
    char buf[128];
    if (n < 6 || n >= sizeof buf)
        return 0;
    memcpy(buf, line, n);
    buf[n] = '\0';
    char *s = buf + 5;
    while (*s == ' ')
        s++;
    while (*s && *s != ' ')         /* the envelope sender */
        s++;
    while (*s == ' ')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' '))
        *--e = '\0';
    apr_time_t t = apr_date_parse_http(s);
    return t == APR_DATE_BAD ? 0 : t;
}

static void mbox_flush(importer *im, growbuf *msg, int number, long line, apr_time_t received)
{
    /* the empty line before the next "From " belongs to the separator */
    if (msg->len >= 2 && msg->buf[msg->len - 1] == '\n' && msg->buf[msg->len - 2] == '\n')
        msg->len--;
    else if (msg->len >= 3 && memcmp(msg->buf + msg->len - 3, "\n\r\n", 3) == 0)
        msg->len -= 2;
    const char *where = apr_psprintf(im->c->pool, "message %d (line %ld)", number, line);
    import_one(im, where, msg->buf ? msg->buf : "", msg->len,
               mbox_status_read(msg->buf ? msg->buf : "", msg->len), received);
    msg->len = 0;
}

static int import_mbox(importer *im, const char *path, const char **err)
{
    cli *c = im->c;
    apr_file_t *f;
    apr_status_t rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BUFFERED, 0, c->pool);
    if (rv != APR_SUCCESS) {
        char msg[120];
        *err = apr_psprintf(c->pool, "cannot open %s: %s", path, apr_strerror(rv, msg, sizeof msg));
        return -1;
    }
    char chunk[65536];
    growbuf line = {0}, msg = {0};
    long lineno = 0, msg_line = 1;
    apr_time_t msg_time = 0;
    int number = 0, in_message = 0, single = -1, prev_blank = 1, failed = 0;
    for (int eof = 0; !eof && !im->stop;) {
        apr_size_t n = sizeof chunk;
        rv = apr_file_read(f, chunk, &n);
        if (rv == APR_EOF || n == 0) {
            eof = 1;
            n = 0;
        }
        else if (rv != APR_SUCCESS) {
            char m2[120];
            *err = apr_psprintf(c->pool, "reading %s: %s", path, apr_strerror(rv, m2, sizeof m2));
            failed = 1;
            break;
        }
        im->done_bytes += (apr_off_t)n;
        apr_size_t pos = 0;
        while (pos < n || (eof && line.len)) {
            const char *nl = pos < n ? memchr(chunk + pos, '\n', n - pos) : NULL;
            apr_size_t take = nl ? (apr_size_t)(nl - (chunk + pos)) + 1 : n - pos;
            if (take && gb_add(&line, chunk + pos, take) < 0) {
                *err = "out of memory";
                failed = 1;
                break;
            }
            pos += take;
            if (!nl && !eof)
                break;          /* the line continues in the next chunk */
            /* a complete line (or the last one, without newline) */
            lineno++;
            const char *s = line.buf;
            apr_size_t sl = line.len;
            apr_size_t content = sl && s[sl - 1] == '\n' ? sl - 1 : sl;
            if (single < 0)
                single = !(sl >= 5 && memcmp(s, "From ", 5) == 0);
            if (!single && prev_blank && sl >= 5 && memcmp(s, "From ", 5) == 0) {
                if (in_message)
                    mbox_flush(im, &msg, number, msg_line, msg_time);
                if (im->stop)
                    break;
                number++;
                msg_line = lineno;
                msg_time = from_line_time(s, sl);
                in_message = 1;
            }
            else {
                /* mboxrd/mboxo: ">From ", ">>From " ... lose one '>' */
                const char *q = s;
                while (!single && q < s + sl && *q == '>')
                    q++;
                if (q > s && (apr_size_t)(s + sl - q) >= 5 && memcmp(q, "From ", 5) == 0) {
                    s++;
                    sl--;
                }
                if (single && !in_message) {
                    number = 1;
                    in_message = 1;
                }
                if (gb_add(&msg, s, sl) < 0) {
                    *err = "out of memory";
                    failed = 1;
                    break;
                }
            }
            prev_blank = is_blank_line(line.buf, content);
            line.len = 0;
        }
        if (failed)
            break;
        bar_draw(im, 0);
    }
    if (!failed && !im->stop && in_message)
        mbox_flush(im, &msg, number, msg_line, msg_time);
    free(line.buf);
    free(msg.buf);
    apr_file_close(f);
    return failed ? -1 : 0;
}

typedef struct {
    const char *rel;        /* "cur/name" */
    const char *path;
    int read;
    apr_time_t received;    /* from the name ("<seconds>.<unique>..."), 0 when not there */
} mdfile;

static int mdfile_cmp(const void *a, const void *b)
{
    const mdfile *x = a, *y = b;
    const char *nx = strchr(x->rel, '/') + 1, *ny = strchr(y->rel, '/') + 1;
    int r = strcmp(nx, ny);
    return r ? r : strcmp(x->rel, y->rel);
}

static int list_maildir(cli *c, const char *dir, const char *sub, apr_array_header_t *files,
                        const char **err)
{
    const char *path = apr_pstrcat(c->pool, dir, "/", sub, NULL);
    apr_dir_t *d;
    if (apr_dir_open(&d, path, c->pool) != APR_SUCCESS)
        return 0;
    apr_finfo_t fi;
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d) == APR_SUCCESS) {
        if (!fi.name || fi.name[0] == '.' || fi.filetype != APR_REG)
            continue;
        mdfile *m = apr_array_push(files);
        m->rel = apr_pstrcat(c->pool, sub, "/", fi.name, NULL);
        m->path = apr_pstrcat(c->pool, path, "/", fi.name, NULL);
        m->read = 0;
        m->received = 0;
        const char *dot = strchr(fi.name, '.');
        if (dot && dot - fi.name >= 9 && dot - fi.name <= 11 &&
            strspn(fi.name, "0123456789") == (apr_size_t)(dot - fi.name))
            m->received = apr_time_from_sec(apr_atoi64(fi.name));
        if (strcmp(sub, "cur") == 0) {
            const char *info = strstr(fi.name, ":2,");
            if (!info)
                info = strstr(fi.name, "!2,");
            m->read = info && strchr(info + 3, 'S') != NULL;
        }
    }
    apr_dir_close(d);
    return 1;
}

static int import_maildir(importer *im, const char *dir, const char **err)
{
    cli *c = im->c;
    apr_array_header_t *files = apr_array_make(c->pool, 64, sizeof(mdfile));
    int has_cur = list_maildir(c, dir, "cur", files, err);
    int has_new = list_maildir(c, dir, "new", files, err);
    if (!has_cur && !has_new) {
        *err = apr_psprintf(c->pool, "%s is not a Maildir (no cur/ or new/ directory)", dir);
        return -1;
    }
    qsort(files->elts, (size_t)files->nelts, sizeof(mdfile), mdfile_cmp);
    im->total_files = files->nelts;
    for (int i = 0; i < files->nelts && !im->stop; i++) {
        mdfile *m = &APR_ARRAY_IDX(files, i, mdfile);
        apr_pool_t *sub;
        apr_pool_create(&sub, c->pool);
        apr_file_t *f;
        apr_finfo_t fi;
        apr_status_t rv = apr_file_open(&f, m->path, APR_FOPEN_READ, 0, sub);
        if (rv == APR_SUCCESS)
            rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
        char *data = NULL;
        apr_size_t len = 0;
        if (rv == APR_SUCCESS) {
            len = (apr_size_t)fi.size;
            data = apr_palloc(sub, len + 1);
            apr_size_t got = 0;
            rv = len ? apr_file_read_full(f, data, len, &got) : APR_SUCCESS;
            len = got;
            data[len] = '\0';
            apr_file_close(f);
        }
        const char *where = apr_psprintf(c->pool, "message %d (%s)", i + 1, m->rel);
        if (rv != APR_SUCCESS && rv != APR_EOF) {
            char msg[120];
            im->total++;
            im->failed++;
            report(im, where, apr_strerror(rv, msg, sizeof msg));
        }
        else {
            import_one(im, where, data, len, m->read, m->received);
        }
        apr_pool_destroy(sub);
    }
    return 0;
}

static int cmd_import(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    const char *path = argv[1];
    apr_finfo_t fi;
    if (apr_stat(&fi, path, APR_FINFO_TYPE | APR_FINFO_SIZE, c->pool) != APR_SUCCESS) {
        *err = apr_psprintf(c->pool, "no such file or directory: %s", path);
        return -1;
    }
    if (fi.filetype != APR_DIR && fi.filetype != APR_REG) {
        *err = apr_psprintf(c->pool, "%s is neither an mbox file nor a Maildir", path);
        return -1;
    }
    if (cli_need_db(c, err) < 0)
        return -1;
    target t = {0};
    if (open_account(c, argv[0], &t, err) <= 0)
        return -1;
    if (zx_store_ensure_mailbox(t.st, err) != ZX_STORE_OK)
        return -1;
    if (argc > 2) {
        int found = zx_delivery_find_folder(t.st, argv[2], &t.folder, err);
        if (found < 0)
            return -1;
        if (!found) {
            *err = apr_psprintf(c->pool, "no such folder: %s", argv[2]);
            return -1;
        }
        if (found == 2) {
            *err = apr_psprintf(c->pool, "%s is not a mail folder", argv[2]);
            return -1;
        }
    }
    else {
        if (zx_store_folder_by_type(t.st, ZX_FOLDER_INBOX, &t.folder, err) ==
            ZX_STORE_ERROR)
            return -1;
        if (!t.folder) {
            *err = apr_psprintf(c->pool, "the mailbox of %s has no Inbox", t.account);
            return -1;
        }
    }

    importer im = {0};
    im.c = c;
    im.t = &t;
    im.tty = isatty(2);
    int rc;
    if (fi.filetype == APR_DIR) {
        rc = import_maildir(&im, path, err);
    }
    else {
        im.total_bytes = fi.size;
        rc = import_mbox(&im, path, err);
    }
    if (im.tty && im.bar_shown) {
        bar_draw(&im, 1);
        bar_clear(&im);
    }
    if (rc < 0)
        return -1;
    if (im.imported > 0 && zx_store_bulk_loaded(t.st, err) < 0)
        return -1;
    const char *summary = apr_psprintf(c->pool, "imported %d of %d message%s into %s of %s%s",
                                       im.imported, im.total, im.total == 1 ? "" : "s",
                                       t.folder->name, t.account,
                                       im.failed ? apr_psprintf(c->pool, " (%d failed)", im.failed)
                                                 : "");
    if (!c->json) {
        printf("%s\n", summary);
        fflush(stdout);
    }
    if (im.stop) {
        *err = apr_psprintf(c->pool, "%s; %s", im.stop_reason, summary);
        return -1;
    }
    if (im.failed) {
        *err = apr_psprintf(c->pool, "%d of %d messages could not be imported", im.failed,
                            im.total);
        return -1;
    }
    if (c->json) {
        *out = folder_ov(c->pool, &t);
        ov_set(*out, "total", ov_int(c->pool, im.total));
        ov_set(*out, "imported", ov_int(c->pool, im.imported));
        ov_set(*out, "failed", ov_int(c->pool, im.failed));
    }
    return 0;
}

const command cli_mailbox_commands[] = {
    {"mailbox", "deliver", 1, 2, "<account> [folder]",
     "store the RFC 5322 message read on stdin (MTA delivery: exit 0 delivered, 65 empty or "
     "headerless message, 67 unknown account, 75 temporary failure: retry)", cmd_deliver},
    {"mailbox", "import", 2, 3, "<account> <mbox file|Maildir> [folder]",
     "import an mbox file (mboxrd/mboxo) or a Maildir (cur/ and new/) into a folder (default "
     "Inbox)", cmd_import},
    {NULL, NULL, 0, 0, NULL, NULL, NULL}
};
