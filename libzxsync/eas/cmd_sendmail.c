/* zxmobile - SendMail, SmartReply and SmartForward ([MS-ASCMD] 2.2.1.17, 2.2.1.20, 2.2.1.19).
 *
 * Two request forms:
 *   - 12.1 and earlier: the body is the MIME message itself (Content-Type message/rfc822,
 *     checked by the pipeline); the query carries SaveInSent, ItemId, CollectionId, LongId
 *     ([MS-ASHTTP] 2.2.1.1.1.1.3).  Success is an empty 200; failures are HTTP statuses.
 *   - 14.0 and later: a ComposeMail WBXML document (ClientId, SaveInSentItems, ReplaceMime,
 *     Source{FolderId, ItemId, LongId, InstanceId}, Mime; AccountId and rm:TemplateID from
 *     14.1; Forwardees and airsyncbase:Body in a 16.x SmartForward).  Success is an empty 200,
 *     a failure <Command><Status>n</Status></Command> with the common status of [MS-ASCMD]
 *     2.2.2 (2.2.3.177.14, 2.2.3.177.16).
 *
 * Nothing half-done: the ClientId record, the Sent Items copy and the answered/forwarded mark
 * of the original are written in one database transaction that commits only after the
 * sendmail command has accepted the message, and rolls back when it has not.
 *
 * SmartReply/SmartForward build the outgoing message from the client's MIME plus the stored
 * original (unless ReplaceMime): a reply gets the original's text quoted under the client's
 * text, a forward gets it inline plus the original's attachments.  Composing uses GMime.
 */
#include "compose.h"
#include "handlers.h"

#include <zxsync/directory.h>
#include <zxsync/log.h>
#include <zxsync/mime.h>
#include <zxsync/store.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_portable.h>

#include <gmime/gmime.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* [MS-ASCMD] 2.2.2 common status codes used here */
#define EAS_INVALID_DATETIME 104
#define EAS_INVALID_COMBINATION_OF_IDS 105
#define EAS_INVALID_MIME 107
#define EAS_MESSAGE_PREVIOUSLY_SENT 118
#define EAS_MESSAGE_HAS_NO_RECIPIENT 119
#define EAS_MAIL_SUBMISSION_FAILED 120
#define EAS_MESSAGE_REPLY_FAILED 121
#define EAS_ITEM_NOT_FOUND 150
#define EAS_INVALID_ACCOUNT_ID 166
#define EAS_IRM_FEATURE_DISABLED 168

/* How long a sendmail command may take before it is killed. */
#define SENDMAIL_TIMEOUT_MS 60000
/* ClientId records are kept this long ([MS-ASCMD] 2.2.3.28.1: duplicates are detected by it). */
#define CLIENT_ID_KEEP "30 days"

/* ---- running sendmail ------------------------------------------------------------------- */

static int fd_of(apr_file_t *f)
{
    apr_os_file_t fd = -1;
    if (!f || apr_os_file_get(&fd, f) != APR_SUCCESS)
        return -1;
    return fd;
}

static int has_arg(char **argv, const char *arg)
{
    for (int i = 0; argv[i]; i++)
        if (strcmp(argv[i], arg) == 0)
            return 1;
    return 0;
}

int zx_sendmail_run(apr_pool_t *p, const char *cmdline, const char *sender,
                    const apr_array_header_t *rcpts, const char *data, apr_size_t len,
                    const char **err)
{
    char **cmd = NULL;
    if (!cmdline || !*cmdline) {
        *err = "no sendmail command configured (ZxMobileSendmail)";
        return -1;
    }
    if (apr_tokenize_to_argv(cmdline, &cmd, p) != APR_SUCCESS || !cmd[0] || cmd[0][0] != '/') {
        *err = apr_psprintf(p, "ZxMobileSendmail \"%s\" is not an absolute program path", cmdline);
        return -1;
    }
    int with_t = has_arg(cmd, "-t");
    apr_array_header_t *args = apr_array_make(p, 16, sizeof(const char *));
    for (int i = 0; cmd[i]; i++)
        APR_ARRAY_PUSH(args, const char *) = cmd[i];
    /* a lone "." line is message text, not the end of input */
    if (!has_arg(cmd, "-i") && !has_arg(cmd, "-oi"))
        APR_ARRAY_PUSH(args, const char *) = "-i";
    APR_ARRAY_PUSH(args, const char *) = "-f";
    APR_ARRAY_PUSH(args, const char *) = sender;
    if (!with_t && rcpts) {
        for (int i = 0; i < rcpts->nelts; i++)
            APR_ARRAY_PUSH(args, const char *) = APR_ARRAY_IDX(rcpts, i, const char *);
    }
    APR_ARRAY_PUSH(args, const char *) = NULL;

    apr_procattr_t *attr;
    apr_proc_t proc;
    apr_status_t rv;
    if ((rv = apr_procattr_create(&attr, p)) != APR_SUCCESS ||
        (rv = apr_procattr_io_set(attr, APR_CHILD_BLOCK, APR_CHILD_BLOCK, APR_CHILD_BLOCK))
            != APR_SUCCESS ||
        (rv = apr_procattr_cmdtype_set(attr, APR_PROGRAM_ENV)) != APR_SUCCESS ||
        (rv = apr_procattr_error_check_set(attr, 1)) != APR_SUCCESS) {
        char buf[120];
        *err = apr_psprintf(p, "cannot prepare the sendmail command: %s",
                            apr_strerror(rv, buf, sizeof buf));
        return -1;
    }
    memset(&proc, 0, sizeof proc);
    rv = apr_proc_create(&proc, cmd[0], (const char *const *)args->elts, NULL, attr, p);
    if (rv != APR_SUCCESS) {
        char buf[120];
        *err = apr_psprintf(p, "cannot run %s: %s", cmd[0], apr_strerror(rv, buf, sizeof buf));
        return -1;
    }

    /* Feed stdin while draining stdout/stderr, so that neither side can block the other. */
    int in_fd = fd_of(proc.in), out_fd = fd_of(proc.out), err_fd = fd_of(proc.err);
    apr_size_t sent = 0;
    int write_failed = 0, timed_out = 0;
    char errbuf[1024];
    apr_size_t errlen = 0;
    if (len == 0 && proc.in) {
        apr_file_close(proc.in);
        in_fd = -1;
    }
    apr_time_t deadline = apr_time_now() + apr_time_from_msec(SENDMAIL_TIMEOUT_MS);
    while (in_fd >= 0 || out_fd >= 0 || err_fd >= 0) {
        struct pollfd pf[3];
        int n = 0, ii = -1, io = -1, ie = -1;
        if (in_fd >= 0) { pf[n].fd = in_fd; pf[n].events = POLLOUT; ii = n++; }
        if (out_fd >= 0) { pf[n].fd = out_fd; pf[n].events = POLLIN; io = n++; }
        if (err_fd >= 0) { pf[n].fd = err_fd; pf[n].events = POLLIN; ie = n++; }
        apr_interval_time_t left = deadline - apr_time_now();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        int r = poll(pf, (nfds_t)n, (int)apr_time_as_msec(left) + 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            write_failed = 1;
            break;
        }
        if (ii >= 0 && pf[ii].revents) {
            if (pf[ii].revents & POLLOUT) {
                ssize_t w = write(in_fd, data + sent, len - sent > 65536 ? 65536 : len - sent);
                if (w > 0)
                    sent += (apr_size_t)w;
                else if (w < 0 && errno != EAGAIN && errno != EINTR)
                    write_failed = 1;
            }
            else
                write_failed = 1;          /* POLLERR/POLLHUP: the reader went away */
            if (sent == len || write_failed) {
                apr_file_close(proc.in);
                in_fd = -1;
            }
        }
        if (io >= 0 && pf[io].revents) {
            char junk[4096];
            ssize_t rd = read(out_fd, junk, sizeof junk);
            if (rd == 0 || (rd < 0 && errno != EAGAIN && errno != EINTR))
                out_fd = -1;
        }
        if (ie >= 0 && pf[ie].revents) {
            char tmp[1024];
            ssize_t rd = read(err_fd, tmp, sizeof tmp);
            if (rd > 0) {
                apr_size_t room = sizeof errbuf - 1 - errlen;
                apr_size_t take = (apr_size_t)rd < room ? (apr_size_t)rd : room;
                memcpy(errbuf + errlen, tmp, take);
                errlen += take;
            }
            else if (rd == 0 || (errno != EAGAIN && errno != EINTR))
                err_fd = -1;
        }
    }
    if (in_fd >= 0)
        apr_file_close(proc.in);
    if (timed_out)
        apr_proc_kill(&proc, SIGKILL);
    int code = 0;
    apr_exit_why_e why = APR_PROC_EXIT;
    rv = apr_proc_wait(&proc, &code, &why, APR_WAIT);
    if (proc.out)
        apr_file_close(proc.out);
    if (proc.err)
        apr_file_close(proc.err);
    errbuf[errlen] = '\0';
    for (apr_size_t i = 0; i < errlen; i++)
        if (errbuf[i] == '\n' || errbuf[i] == '\r')
            errbuf[i] = ' ';
    if (timed_out) {
        *err = apr_psprintf(p, "%s did not finish within %d s and was killed", cmd[0],
                            SENDMAIL_TIMEOUT_MS / 1000);
        return -1;
    }
    if (rv != APR_CHILD_DONE) {
        *err = apr_psprintf(p, "cannot wait for %s", cmd[0]);
        return -1;
    }
    if (why != APR_PROC_EXIT) {
        *err = apr_psprintf(p, "%s was killed by signal %d%s%s", cmd[0], code,
                            errlen ? ": " : "", errbuf);
        return -1;
    }
    if (code != 0) {
        *err = apr_psprintf(p, "%s exited with status %d%s%s", cmd[0], code,
                            errlen ? ": " : "", errbuf);
        return -1;
    }
    if (write_failed || sent != len) {
        *err = apr_psprintf(p, "%s did not read the whole message (%" APR_SIZE_T_FMT " of %"
                            APR_SIZE_T_FMT " bytes)", cmd[0], sent, len);
        return -1;
    }
    return 0;
}

/* ---- GMime ---------------------------------------------------------------------------- */

static apr_status_t gobj_cleanup(void *o)
{
    g_object_unref(o);
    return APR_SUCCESS;
}

/* The object is released with the pool. */
static void *pool_own(apr_pool_t *p, void *gobj)
{
    if (gobj)
        apr_pool_cleanup_register(p, gobj, gobj_cleanup, apr_pool_cleanup_null);
    return gobj;
}

static GMimeMessage *gm_parse(apr_pool_t *p, const char *data, apr_size_t len)
{
    zx_mime_init();
    GMimeStream *s = g_mime_stream_mem_new_with_buffer(data, len);
    GMimeParser *parser = g_mime_parser_new_with_stream(s);
    g_object_unref(s);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
    GMimeMessage *m = g_mime_parser_construct_message(parser, NULL);
    g_object_unref(parser);
    return pool_own(p, m);
}

/* The message as bytes, LF line ends (what sendmail and the delivery command take). */
static const char *gm_write(apr_pool_t *p, GMimeMessage *m, apr_size_t *len)
{
    GMimeStream *s = g_mime_stream_mem_new();
    GMimeFormatOptions *fo = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_UNIX);
    g_mime_object_write_to_stream(GMIME_OBJECT(m), fo, s);
    g_mime_format_options_free(fo);
    GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
    char *out = apr_palloc(p, ba->len + 1);
    memcpy(out, ba->data, ba->len);
    out[ba->len] = '\0';
    *len = ba->len;
    g_object_unref(s);
    return out;
}

/* addr-specs of a list (groups flattened) */
static void collect_addrs(apr_pool_t *p, InternetAddressList *l, apr_array_header_t *out)
{
    int n = l ? internet_address_list_length(l) : 0;
    for (int i = 0; i < n; i++) {
        InternetAddress *ia = internet_address_list_get_address(l, i);
        if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            collect_addrs(p, internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), out);
            continue;
        }
        if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
            continue;
        const char *a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
        /* an address is never an option for the sendmail command line */
        if (!a || !*a || a[0] == '-' || !strchr(a, '@') || strpbrk(a, " \t\r\n"))
            continue;
        int dup = 0;
        for (int j = 0; j < out->nelts && !dup; j++)
            dup = strcasecmp(APR_ARRAY_IDX(out, j, const char *), a) == 0;
        if (!dup)
            APR_ARRAY_PUSH(out, const char *) = apr_pstrdup(p, a);
    }
}

static apr_array_header_t *recipients_of(apr_pool_t *p, GMimeMessage *m)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(const char *));
    collect_addrs(p, g_mime_message_get_to(m), out);
    collect_addrs(p, g_mime_message_get_cc(m), out);
    collect_addrs(p, g_mime_message_get_bcc(m), out);
    return out;
}

static int is_attachment(GMimeObject *o)
{
    const char *disp = g_mime_object_get_disposition(o);
    if (disp && strcasecmp(disp, "attachment") == 0)
        return 1;
    if (GMIME_IS_PART(o) && g_mime_part_get_filename(GMIME_PART(o)) &&
        !(disp && strcasecmp(disp, "inline") == 0))
        return 1;
    return 0;
}

/* First text/plain and text/html body parts (not attachments, not inside attached messages). */
static void find_bodies(GMimeObject *o, GMimeTextPart **plain, GMimeTextPart **html)
{
    if (GMIME_IS_MULTIPART(o)) {
        GMimeMultipart *mp = GMIME_MULTIPART(o);
        for (int i = 0; i < g_mime_multipart_get_count(mp); i++)
            find_bodies(g_mime_multipart_get_part(mp, i), plain, html);
        return;
    }
    if (!GMIME_IS_TEXT_PART(o) || is_attachment(o))
        return;
    GMimeContentType *ct = g_mime_object_get_content_type(o);
    if (g_mime_content_type_is_type(ct, "text", "plain") && !*plain)
        *plain = GMIME_TEXT_PART(o);
    else if (g_mime_content_type_is_type(ct, "text", "html") && !*html)
        *html = GMIME_TEXT_PART(o);
}

/* The files of a winmail.dat as parts of their own (the forward carries what the device
 * showed as the original's attachments, zx_mime_tnef_files); 0 when it holds none. */
static int tnef_parts(apr_pool_t *p, GMimeObject *o, apr_array_header_t *out)
{
    if (!GMIME_IS_PART(o) || GMIME_IS_MESSAGE_PART(o))
        return 0;
    GMimeContentType *ct = g_mime_object_get_content_type(o);
    char *type = ct ? g_mime_content_type_get_mime_type(ct) : NULL;
    int tnef = zx_mime_is_tnef(type, g_mime_part_get_filename(GMIME_PART(o)));
    g_free(type);
    if (!tnef)
        return 0;
    GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(o));
    if (!w)
        return 0;
    GByteArray *ba = g_byte_array_new();
    GMimeStream *mem = g_mime_stream_mem_new_with_byte_array(ba);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
    g_mime_data_wrapper_write_to_stream(w, mem);
    g_object_unref(mem);
    const char *data = apr_pmemdup(p, ba->data, ba->len);
    apr_array_header_t *files = zx_mime_tnef_files(p, data, ba->len, NULL, NULL);
    g_byte_array_free(ba, TRUE);
    for (int i = 0; files && i < files->nelts; i++) {
        zx_mime_file *f = &APR_ARRAY_IDX(files, i, zx_mime_file);
        GMimePart *part = g_mime_part_new_with_type("application", "octet-stream");
        GMimeContentType *fct = g_mime_content_type_parse(NULL, f->content_type);
        if (fct) {
            g_mime_object_set_content_type(GMIME_OBJECT(part), fct);
            g_object_unref(fct);
        }
        if (f->name)
            g_mime_part_set_filename(part, f->name);
        if (f->content_id)
            g_mime_object_set_content_id(GMIME_OBJECT(part), f->content_id);
        GMimeStream *s = g_mime_stream_mem_new_with_buffer(f->data, f->len);
        GMimeDataWrapper *dw = g_mime_data_wrapper_new_with_stream(s, GMIME_CONTENT_ENCODING_DEFAULT);
        g_mime_part_set_content(part, dw);
        g_object_unref(dw);
        g_object_unref(s);
        g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
        APR_ARRAY_PUSH(out, GMimeObject *) = pool_own(p, part);
    }
    return files ? files->nelts : 0;
}

/* Attachments of the original (what a forward carries along). */
static void find_attachments(apr_pool_t *p, GMimeObject *o, apr_array_header_t *out)
{
    if (GMIME_IS_MULTIPART(o)) {
        GMimeMultipart *mp = GMIME_MULTIPART(o);
        for (int i = 0; i < g_mime_multipart_get_count(mp); i++)
            find_attachments(p, g_mime_multipart_get_part(mp, i), out);
        return;
    }
    if (is_attachment(o) && !tnef_parts(p, o, out))
        APR_ARRAY_PUSH(out, GMimeObject *) = o;
}

static void set_text(GMimeTextPart *tp, const char *text)
{
    g_mime_text_part_set_text(tp, text);
    g_mime_part_set_content_encoding(GMIME_PART(tp),
        g_mime_part_get_best_content_encoding(GMIME_PART(tp), GMIME_ENCODING_CONSTRAINT_7BIT));
}

static const char *html_escape(apr_pool_t *p, const char *s)
{
    if (!s)
        return "";
    apr_size_t n = 0;
    for (const char *c = s; *c; c++)
        n += *c == '&' ? 5 : (*c == '<' || *c == '>') ? 4 : *c == '"' ? 6 : *c == '\n' ? 5 : 1;
    char *o = apr_palloc(p, n + 1), *w = o;
    for (const char *c = s; *c; c++) {
        switch (*c) {
        case '&': memcpy(w, "&amp;", 5); w += 5; break;
        case '<': memcpy(w, "&lt;", 4); w += 4; break;
        case '>': memcpy(w, "&gt;", 4); w += 4; break;
        case '"': memcpy(w, "&quot;", 6); w += 6; break;
        case '\n': memcpy(w, "<br>\n", 5); w += 5; break;
        case '\r': break;
        default: *w++ = *c;
        }
    }
    *w = '\0';
    return o;
}

/* Case-insensitive search */
static const char *find_ci(const char *hay, const char *needle)
{
    apr_size_t n = strlen(needle);
    for (const char *h = hay; *h; h++)
        if (strncasecmp(h, needle, n) == 0)
            return h;
    return NULL;
}

/* The inside of <body>...</body> (or the whole text). */
static const char *html_body_inner(apr_pool_t *p, const char *html)
{
    const char *b = find_ci(html, "<body");
    if (b) {
        const char *gt = strchr(b, '>');
        if (gt)
            html = gt + 1;
    }
    const char *e = find_ci(html, "</body");
    return e ? apr_pstrndup(p, html, (apr_size_t)(e - html)) : html;
}

static const char *quote_lines(apr_pool_t *p, const char *text)
{
    apr_size_t lines = 1;
    for (const char *c = text; *c; c++)
        lines += *c == '\n';
    char *o = apr_palloc(p, strlen(text) + lines * 2 + 1), *w = o;
    int bol = 1;
    for (const char *c = text; *c; c++) {
        if (bol && *c != '\r') {
            *w++ = '>';
            *w++ = (*c == '\n' || *c == '>') ? '\0' : ' ';
            if (w[-1] == '\0')
                w--;
        }
        bol = *c == '\n';
        if (*c != '\r')
            *w++ = *c;
    }
    *w = '\0';
    return o;
}

typedef struct {
    const char *plain;   /* the text block appended to a plain body */
    const char *html;    /* the same for an HTML body */
} orig_block;

/* "-----Original Message-----" block of the original ([MS-ASCMD] 2.2.1.19/20: "the full text
 * of the original message is retrieved and sent by the server"); quoted for a reply. */
static orig_block original_block(apr_pool_t *p, const zx_mime_message *om, int quote)
{
    orig_block b;
    char date[APR_RFC822_DATE_LEN] = "";
    if (om->date)
        apr_rfc822_date(date, om->date);
    const char *hdr = apr_pstrcat(p, "-----Original Message-----\n",
                                  "From: ", om->from ? om->from : "", "\n",
                                  "Sent: ", date, "\n",
                                  "To: ", om->to ? om->to : "", "\n",
                                  om->cc && *om->cc ? "Cc: " : "", om->cc && *om->cc ? om->cc : "",
                                  om->cc && *om->cc ? "\n" : "",
                                  "Subject: ", om->subject ? om->subject : "", "\n", NULL);
    const char *text = om->text_plain ? om->text_plain
                       : om->text_html ? zx_mime_html_to_text(p, om->text_html) : "";
    if (!text)
        text = "";
    b.plain = apr_pstrcat(p, "\n\n", hdr, "\n", quote ? quote_lines(p, text) : text, NULL);

    const char *hhdr = apr_pstrcat(p,
        "<hr>\n<div><b>From:</b> ", html_escape(p, om->from),
        "<br>\n<b>Sent:</b> ", html_escape(p, date),
        "<br>\n<b>To:</b> ", html_escape(p, om->to),
        om->cc && *om->cc ? "<br>\n<b>Cc:</b> " : "", om->cc && *om->cc ? html_escape(p, om->cc) : "",
        "<br>\n<b>Subject:</b> ", html_escape(p, om->subject), "</div>\n", NULL);
    const char *hbody = om->text_html ? html_body_inner(p, om->text_html)
                                      : apr_pstrcat(p, "<div>", html_escape(p, text), "</div>", NULL);
    b.html = apr_pstrcat(p, hhdr,
                         quote ? "<blockquote style=\"margin:0 0 0 .8ex;border-left:1px solid #ccc;"
                                 "padding-left:1ex\">\n" : "<div>\n",
                         hbody, quote ? "\n</blockquote>\n" : "\n</div>\n", NULL);
    return b;
}

static void append_html(apr_pool_t *p, GMimeTextPart *tp, const char *block)
{
    char *cur = g_mime_text_part_get_text(tp);
    const char *s = cur ? cur : "";
    const char *end = find_ci(s, "</body");
    const char *txt = end ? apr_pstrcat(p, apr_pstrndup(p, s, (apr_size_t)(end - s)), block, end, NULL)
                          : apr_pstrcat(p, s, block, NULL);
    g_free(cur);
    set_text(tp, txt);
}

static void append_plain(apr_pool_t *p, GMimeTextPart *tp, const char *block)
{
    char *cur = g_mime_text_part_get_text(tp);
    const char *txt = apr_pstrcat(p, cur ? cur : "", block, NULL);
    g_free(cur);
    set_text(tp, txt);
}

/* Make the message's top part a multipart/mixed and add o to it. */
static void add_to_mixed(GMimeMessage *m, GMimeObject *o, int first)
{
    GMimeObject *top = g_mime_message_get_mime_part(m);
    if (top && GMIME_IS_MULTIPART(top) &&
        g_mime_content_type_is_type(g_mime_object_get_content_type(top), "multipart", "mixed")) {
        if (first)
            g_mime_multipart_insert(GMIME_MULTIPART(top), 0, o);
        else
            g_mime_multipart_add(GMIME_MULTIPART(top), o);
        return;
    }
    GMimeMultipart *mp = g_mime_multipart_new_with_subtype("mixed");
    if (first)
        g_mime_multipart_add(mp, o);
    if (top)
        g_mime_multipart_add(mp, top);
    if (!first)
        g_mime_multipart_add(mp, o);
    g_mime_message_set_mime_part(m, GMIME_OBJECT(mp));
    g_object_unref(mp);
}

/* Parts of the original with a Content-ID its HTML refers to ("cid:..."): the inline images
 * the HTML copied into a reply or forward shows (RFC 2392). */
static void find_cid_parts(GMimeObject *o, const char *html, apr_array_header_t *out)
{
    if (GMIME_IS_MULTIPART(o)) {
        GMimeMultipart *mp = GMIME_MULTIPART(o);
        for (int i = 0; i < g_mime_multipart_get_count(mp); i++)
            find_cid_parts(g_mime_multipart_get_part(mp, i), html, out);
        return;
    }
    const char *id = GMIME_IS_PART(o) && !GMIME_IS_TEXT_PART(o) ? g_mime_object_get_content_id(o)
                                                                 : NULL;
    if (!id || !*id)
        return;
    size_t n = strlen(id);
    for (const char *h = find_ci(html, "cid:"); h; h = find_ci(h + 4, "cid:"))
        if (strncasecmp(h + 4, id, n) == 0 && !(apr_isalnum(h[4 + n]) ||
                                                 strchr("@.-_$%", h[4 + n]))) {
            APR_ARRAY_PUSH(out, GMimeObject *) = o;
            return;
        }
}

/* The multipart that holds part (NULL when part is the top or not found); *index its place. */
static GMimeMultipart *parent_of(GMimeObject *top, GMimeObject *part, int *index)
{
    if (!GMIME_IS_MULTIPART(top))
        return NULL;
    GMimeMultipart *mp = GMIME_MULTIPART(top);
    for (int i = 0; i < g_mime_multipart_get_count(mp); i++) {
        GMimeObject *c = g_mime_multipart_get_part(mp, i);
        if (c == part) {
            *index = i;
            return mp;
        }
        GMimeMultipart *in = parent_of(c, part, index);
        if (in)
            return in;
    }
    return NULL;
}

/* Give the HTML part the images it refers to: into its multipart/related, made when it has
 * none (RFC 2387, type text/html). */
static void relate_images(GMimeMessage *m, GMimeTextPart *html, apr_array_header_t *images)
{
    if (images->nelts == 0)
        return;
    GMimeObject *top = g_mime_message_get_mime_part(m);
    int index = 0;
    GMimeMultipart *parent = parent_of(top, GMIME_OBJECT(html), &index);
    GMimeMultipart *related;
    if (parent && g_mime_content_type_is_type(g_mime_object_get_content_type(GMIME_OBJECT(parent)),
                                              "multipart", "related")) {
        related = parent;
    }
    else {
        related = g_mime_multipart_new_with_subtype("related");
        g_mime_object_set_content_type_parameter(GMIME_OBJECT(related), "type", "text/html");
        g_object_ref(html);
        if (parent) {
            GMimeObject *old = g_mime_multipart_replace(parent, index, GMIME_OBJECT(related));
            if (old)
                g_object_unref(old);
        }
        else
            g_mime_message_set_mime_part(m, GMIME_OBJECT(related));
        g_mime_multipart_add(related, GMIME_OBJECT(html));
        g_object_unref(html);
        g_object_unref(related);        /* the message (or parent) holds it */
    }
    for (int i = 0; i < images->nelts; i++)
        g_mime_multipart_add(related, APR_ARRAY_IDX(images, i, GMimeObject *));
}

/* Put the original's text (and, for a forward, its attachments) into the client's message;
 * when the original's HTML goes into the message's HTML body, so do the inline images it
 * shows. */
static void merge_original(apr_pool_t *p, GMimeMessage *m, const char *orig, apr_size_t orig_len,
                           const zx_mime_message *om, int forward)
{
    orig_block b = original_block(p, om, !forward);
    GMimeTextPart *plain = NULL, *html = NULL;
    GMimeObject *top = g_mime_message_get_mime_part(m);
    if (top)
        find_bodies(top, &plain, &html);
    if (plain)
        append_plain(p, plain, b.plain);
    if (html)
        append_html(p, html, b.html);
    if (!plain && !html) {
        GMimeTextPart *tp = g_mime_text_part_new_with_subtype("plain");
        set_text(tp, b.plain + 2);
        if (!top)
            g_mime_message_set_mime_part(m, GMIME_OBJECT(tp));
        else
            add_to_mixed(m, GMIME_OBJECT(tp), 1);
        g_object_unref(tp);
    }
    int with_images = html && om->text_html && find_ci(om->text_html, "cid:");
    if (!forward && !with_images)
        return;
    GMimeMessage *om_g = gm_parse(p, orig, orig_len);
    GMimeObject *otop = om_g ? g_mime_message_get_mime_part(om_g) : NULL;
    if (!otop)
        return;
    if (with_images) {
        apr_array_header_t *images = apr_array_make(p, 4, sizeof(GMimeObject *));
        find_cid_parts(otop, om->text_html, images);
        relate_images(m, html, images);
    }
    if (forward) {
        apr_array_header_t *atts = apr_array_make(p, 4, sizeof(GMimeObject *));
        find_attachments(p, otop, atts);
        for (int i = 0; i < atts->nelts; i++)
            add_to_mixed(m, APR_ARRAY_IDX(atts, i, GMimeObject *), 0);
    }
}

static int from_is_account(InternetAddressList *from, const char *account)
{
    if (internet_address_list_length(from) != 1)
        return 0;
    InternetAddress *ia = internet_address_list_get_address(from, 0);
    if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
        return 0;
    const char *a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
    return a && strcasecmp(a, account) == 0;
}

/* S/MIME or PGP: multipart/signed, multipart/encrypted, application/(x-)pkcs7-mime */
static int is_protected(GMimeMessage *m)
{
    GMimeObject *top = g_mime_message_get_mime_part(m);
    if (!top)
        return 0;
    GMimeContentType *ct = g_mime_object_get_content_type(top);
    return g_mime_content_type_is_type(ct, "multipart", "signed") ||
           g_mime_content_type_is_type(ct, "multipart", "encrypted") ||
           g_mime_content_type_is_type(ct, "application", "pkcs7-mime") ||
           g_mime_content_type_is_type(ct, "application", "x-pkcs7-mime");
}

/* ---- the request ------------------------------------------------------------------------ */

typedef enum { COMPOSE_SEND, COMPOSE_REPLY, COMPOSE_FORWARD } compose_kind;

typedef struct {
    compose_kind kind;
    const char *client_id;
    int save_in_sent;
    int replace_mime;
    const char *mime;
    apr_size_t mime_len;
    const char *src_folder, *src_item, *src_long, *src_instance;
    const zx_wb_node *forwardees;     /* 16.x SmartForward of a calendar item */
    const zx_wb_node *body;           /* airsyncbase:Body with it */
    int has_source;
} compose_req;

typedef struct {
    zx_eas_status status;   /* 0 = success */
    int http;               /* for 12.1 and earlier */
    zx_log_level level;
    const char *reason;
} compose_err;

static int fail(compose_err *e, zx_eas_status st, int http, zx_log_level lvl, const char *why)
{
    e->status = st;
    e->http = http;
    e->level = lvl;
    e->reason = why;
    return -1;
}

/* Bytes of an element: inline string or opaque data. */
static const char *wb_bytes(apr_pool_t *p, const zx_wb_node *n, apr_size_t *len)
{
    apr_size_t total = 0;
    int pieces = 0;
    const zx_wb_node *only = NULL;
    for (const zx_wb_node *c = n ? n->first : NULL; c; c = c->next)
        if (c->kind != ZX_WB_ELEMENT) {
            total += c->len;
            pieces++;
            only = c;
        }
    *len = total;
    if (pieces == 0)
        return NULL;
    if (pieces == 1)
        return only->data;
    char *s = apr_palloc(p, total + 1), *w = s;
    for (const zx_wb_node *c = n->first; c; c = c->next)
        if (c->kind != ZX_WB_ELEMENT) {
            memcpy(w, c->data, c->len);
            w += c->len;
        }
    *w = '\0';
    return s;
}

/* [MS-ASDTYPE] 2.3 dateTime with punctuation: 2010-03-20T22:40:00.000Z */
static int datetime_valid(const char *s)
{
    int y, mo, d, h, mi, se, ms;
    char z;
    if (!s || strlen(s) != 24)
        return 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &y, &mo, &d, &h, &mi, &se, &ms, &z) != 8)
        return 0;
    return z == 'Z' && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && se <= 60;
}

static int parse_wbxml(const zx_request *req, compose_req *c, compose_err *e)
{
    apr_pool_t *p = req->pool;
    const zx_wb_node *root = req->doc;
    if (!root)
        return fail(e, ZX_EAS_INVALID_XML, 400, ZX_LOG_INFO, ZXLOGNO(00700) "empty request body");
    for (const zx_wb_node *n = root->first; n; n = n->next) {
        if (n->kind != ZX_WB_ELEMENT)
            continue;
        switch (n->tag) {
        case ZX_ComposeMail_ClientId:
            c->client_id = zx_wb_text(p, n);
            break;
        case ZX_ComposeMail_SaveInSentItems:
            c->save_in_sent = 1;
            break;
        case ZX_ComposeMail_ReplaceMime:
            if (c->kind == COMPOSE_SEND)
                return fail(e, ZX_EAS_INVALID_XML, 400, ZX_LOG_INFO,
                            ZXLOGNO(00701) "ReplaceMime in a SendMail request");
            c->replace_mime = 1;
            break;
        case ZX_ComposeMail_Mime:
            c->mime = wb_bytes(p, n, &c->mime_len);
            break;
        case ZX_ComposeMail_Source:
            c->has_source = 1;
            if (c->kind == COMPOSE_SEND)
                return fail(e, ZX_EAS_INVALID_XML, 400, ZX_LOG_INFO,
                            ZXLOGNO(00701) "Source in a SendMail request");
            for (const zx_wb_node *s = n->first; s; s = s->next) {
                if (s->kind != ZX_WB_ELEMENT)
                    continue;
                const char *v = zx_wb_text(p, s);
                switch (s->tag) {
                case ZX_ComposeMail_FolderId: c->src_folder = v; break;
                case ZX_ComposeMail_ItemId: c->src_item = v; break;
                case ZX_ComposeMail_LongId: c->src_long = v; break;
                case ZX_ComposeMail_InstanceId: c->src_instance = v ? v : ""; break;
                default:
                    return fail(e, ZX_EAS_INVALID_XML, 400, ZX_LOG_INFO,
                                apr_psprintf(p, ZXLOGNO(00701) "unexpected element %s in Source",
                                             zx_wb_tag_name(s->tag)));
                }
            }
            break;
        case ZX_ComposeMail_AccountId:
            /* 14.1+: must be one of the AccountIds of Settings UserInformation; the primary
             * account has none ([MS-ASCMD] 2.2.3.3.1), so any value is unknown (166). */
            if (req->proto < ZX_V141)
                return fail(e, ZX_EAS_INVALID_XML, 400, ZX_LOG_INFO,
                            ZXLOGNO(00701) "AccountId before protocol 14.1");
            return fail(e, EAS_INVALID_ACCOUNT_ID, 400, ZX_LOG_INFO,
                        ZXLOGNO(00702) "AccountId names no account of this user");
        case ZX_RightsManagement_TemplateID:
            return fail(e, EAS_IRM_FEATURE_DISABLED, 400, ZX_LOG_INFO,
                        ZXLOGNO(00703) "rights management (TemplateID) is not available");
        case ZX_ComposeMail_Forwardees:
            if (c->kind != COMPOSE_FORWARD || req->proto < ZX_V160)
                return fail(e, ZX_EAS_INVALID_XML, 400, ZX_LOG_INFO,
                            ZXLOGNO(00701) "Forwardees outside a 16.x SmartForward");
            c->forwardees = n;
            break;
        case ZX_AirSyncBase_Body:
            if (c->kind != COMPOSE_FORWARD || req->proto < ZX_V160)
                return fail(e, ZX_EAS_INVALID_XML, 400, ZX_LOG_INFO,
                            ZXLOGNO(00701) "airsyncbase:Body outside a 16.x SmartForward");
            c->body = n;
            break;
        default:
            return fail(e, ZX_EAS_INVALID_XML, 400, ZX_LOG_INFO,
                        apr_psprintf(p, ZXLOGNO(00701) "unexpected element %s:%s",
                                     zx_wb_page_name(ZX_WB_PAGE(n->tag)), zx_wb_tag_name(n->tag)));
        }
    }
    /* [MS-ASCMD] 2.2.3.28.1: ClientId required, up to 40 characters */
    if (!c->client_id || !*c->client_id || strlen(c->client_id) > 40)
        return fail(e, ZX_EAS_INVALID_XML, 400, ZX_LOG_INFO,
                    ZXLOGNO(00704) "ClientId missing or longer than 40 characters");
    if (c->forwardees || c->body) {
        /* [MS-ASCMD] 2.2.3.169: with Forwardees or Body, no Mime, SaveInSentItems, ReplaceMime */
        if (c->mime || c->save_in_sent || c->replace_mime)
            return fail(e, ZX_EAS_INVALID_XML, 400, ZX_LOG_INFO,
                        ZXLOGNO(00705) "Forwardees/Body together with Mime, SaveInSentItems or "
                        "ReplaceMime");
    }
    else if (!c->mime || c->mime_len == 0)
        return fail(e, ZX_EAS_INVALID_XML, 400, ZX_LOG_INFO, ZXLOGNO(00706) "Mime missing or empty");
    if (c->kind != COMPOSE_SEND) {
        if (!c->has_source || (!c->src_item && !c->src_long))
            return fail(e, ZX_EAS_INVALID_XML, 400, ZX_LOG_INFO,
                        ZXLOGNO(00707) "Source without ItemId or LongId");
        /* [MS-ASCMD] 2.2.3.173: LongId excludes FolderId and ItemId */
        if (c->src_long && (c->src_item || c->src_folder))
            return fail(e, EAS_INVALID_COMBINATION_OF_IDS, 400, ZX_LOG_INFO,
                        ZXLOGNO(00708) "Source with LongId and FolderId/ItemId");
        if (c->src_folder && !c->src_item)
            return fail(e, EAS_INVALID_COMBINATION_OF_IDS, 400, ZX_LOG_INFO,
                        ZXLOGNO(00708) "Source with FolderId but no ItemId");
        /* [MS-ASCMD] 2.2.1.19/2.2.1.20: an invalid InstanceId is status 104 */
        if (c->src_instance && !datetime_valid(c->src_instance))
            return fail(e, EAS_INVALID_DATETIME, 400, ZX_LOG_INFO,
                        ZXLOGNO(00709) "InstanceId is not a valid dateTime");
    }
    return 0;
}

static int parse_mime_form(const zx_request *req, compose_req *c, compose_err *e)
{
    c->mime = (const char *)req->body;
    c->mime_len = req->body_len;
    c->save_in_sent = req->save_in_sent == 1;
    if (c->kind != COMPOSE_SEND) {
        c->src_item = req->item_id;
        c->src_folder = req->collection_id;
        c->src_long = req->long_id;
        if (!c->src_item && !c->src_long)
            return fail(e, ZX_EAS_INVALID_XML, 400, ZX_LOG_INFO,
                        ZXLOGNO(00710) "SmartReply/SmartForward without ItemId or LongId parameter");
    }
    if (!c->mime || !c->mime_len)
        return fail(e, ZX_EAS_INVALID_CONTENT, 400, ZX_LOG_INFO, ZXLOGNO(00706) "empty message");
    return 0;
}

/* A 16.x SmartForward without Mime: the message is made from Forwardees and Body. */
static void synthesize_forward(apr_pool_t *p, compose_req *c, const zx_mime_message *om)
{
    GMimeMessage *m = pool_own(p, g_mime_message_new(TRUE));
    if (c->forwardees) {
        for (const zx_wb_node *f = c->forwardees->first; f; f = f->next) {
            if (f->kind != ZX_WB_ELEMENT || f->tag != ZX_ComposeMail_Forwardee)
                continue;
            const char *email = zx_wb_child_text(p, f, ZX_ComposeMail_Email);
            const char *name = zx_wb_child_text(p, f, ZX_ComposeMail_Name);
            if (email && *email)
                g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_TO, name, email);
        }
    }
    g_mime_message_set_subject(m, apr_pstrcat(p, "FW: ", om->subject ? om->subject : "", NULL),
                               "utf-8");
    const char *data = c->body ? zx_wb_child_text(p, c->body, ZX_AirSyncBase_Data) : NULL;
    const char *type = c->body ? zx_wb_child_text(p, c->body, ZX_AirSyncBase_Type) : NULL;
    GMimeTextPart *tp = g_mime_text_part_new_with_subtype(type && strcmp(type, "2") == 0
                                                          ? "html" : "plain");
    set_text(tp, data ? data : "");
    g_mime_message_set_mime_part(m, GMIME_OBJECT(tp));
    g_object_unref(tp);
    c->mime = gm_write(p, m, &c->mime_len);
}

/* ---- the command ------------------------------------------------------------------------- */

static void respond_fail(const zx_request *req, zx_response *resp, const compose_err *e)
{
    zx_respond_error(req, resp, e->status, e->http, e->level, e->reason);
    zx_retry_after_db(resp);
}

/* Everything inside the transaction; 0 when the message went out. */
static int compose_in_tx(const zx_server *srv, zx_request *req, compose_req *c, zx_db *db,
                         compose_err *e)
{
    apr_pool_t *p = req->pool;
    const char *err = NULL;
    zx_store *st = zx_store_open(p, db, req->account.id);
    compose_kind kind = c->kind;
    zx_mime_init();

    /* 1. the ClientId of a message already sent from this device: 118 */
    if (c->client_id) {
        const char *params[3] = {req->account.id, req->device_id, c->client_id};
        long n = zx_db_affected(db,
            "INSERT INTO compose_client_ids (account_id, device_id, client_id) "
            "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", 3, params, &err);
        if (n < 0)
            return fail(e, ZX_EAS_SERVER_ERROR_RETRY, 503, ZX_LOG_ERR,
                        apr_psprintf(p, ZXLOGNO(00713) "cannot record the ClientId: %s", err));
        if (n == 0)
            return fail(e, EAS_MESSAGE_PREVIOUSLY_SENT, 400, ZX_LOG_INFO,
                        apr_psprintf(p, ZXLOGNO(00714) "message with ClientId %s was already sent",
                                     c->client_id));
        if (zx_db_run(db, "DELETE FROM compose_client_ids WHERE account_id = $1 AND device_id = $2 "
                          "AND created_at < now() - interval '" CLIENT_ID_KEEP "'", 2, params,
                      &err) < 0)
            return fail(e, ZX_EAS_SERVER_ERROR_RETRY, 503, ZX_LOG_ERR,
                        apr_psprintf(p, ZXLOGNO(00713) "cannot record the ClientId: %s", err));
    }

    /* 2. the original of a reply/forward */
    zx_item *orig = NULL;
    const char *orig_mime = NULL;
    apr_size_t orig_len = 0;
    zx_mime_message *om = NULL;
    if (kind != COMPOSE_SEND) {
        const char *what = kind == COMPOSE_REPLY ? "SmartReply" : "SmartForward";
        const char *id = c->src_item ? c->src_item : c->src_long;
        int rc = zx_store_item_get(st, id, &orig, &err);
        if (rc < 0)
            return fail(e, ZX_EAS_SERVER_ERROR_RETRY, 500, ZX_LOG_ERR,
                        apr_psprintf(p, ZXLOGNO(00715) "%s: cannot read item %s: %s", what, id, err));
        if (rc != ZX_STORE_OK || !orig || orig->deleted || (c->src_folder && strcmp(c->src_folder, orig->folder_id) != 0))
            return fail(e, EAS_ITEM_NOT_FOUND, 500, ZX_LOG_INFO,
                        apr_psprintf(p, ZXLOGNO(00716) "%s: source item %s%s%s not found", what, id,
                                     c->src_folder ? " in folder " : "",
                                     c->src_folder ? c->src_folder : ""));
        if (zx_store_item_mime(st, orig->id, &orig_mime, &orig_len, &err) != ZX_STORE_OK ||
            !orig_mime ||
            zx_mime_parse(p, orig_mime, orig_len, &om, &err) < 0)
            return fail(e, EAS_MESSAGE_REPLY_FAILED, 500, ZX_LOG_ERR,
                        apr_psprintf(p, ZXLOGNO(00717) "%s: cannot read the message of item %s: %s",
                                     what, orig->id, err ? err : "no message"));
        if (!c->mime)
            synthesize_forward(p, c, om);
    }

    /* 3. the outgoing message */
    GMimeMessage *m = gm_parse(p, c->mime, c->mime_len);
    if (!m)
        return fail(e, EAS_INVALID_MIME, 400, ZX_LOG_INFO,
                    ZXLOGNO(00718) "the MIME message cannot be parsed");
    /* From is the account: missing, it is added; another address (the account has no
     * aliases and no send-as rights) is replaced, keeping the display name */
    InternetAddressList *from = g_mime_message_get_from(m);
    if (!from || internet_address_list_length(from) == 0)
        g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_FROM, NULL, req->account.name);
    else if (!from_is_account(from, req->account.name)) {
        InternetAddress *first = internet_address_list_get_address(from, 0);
        const char *name = internet_address_get_name(first);
        char *was = internet_address_list_to_string(from, NULL, FALSE);
        zx_log(req->log_ctx, ZX_LOG_INFO, ZXLOGNO(00724) "From \"%s\" replaced by the account %s",
               was ? was : "", req->account.name);
        g_free(was);
        name = name ? apr_pstrdup(p, name) : NULL;
        internet_address_list_clear(from);
        InternetAddress *ia = internet_address_mailbox_new(name, req->account.name);
        internet_address_list_add(from, ia);
        g_object_unref(ia);
    }
    if (!g_mime_message_get_date(m)) {
        GDateTime *now = g_date_time_new_now_local();
        g_mime_message_set_date(m, now);
        g_date_time_unref(now);
    }
    if (!g_mime_message_get_message_id(m)) {
        const char *at = strchr(req->account.name, '@');
        char *mid = g_mime_utils_generate_message_id(at ? at + 1 : "localhost");
        g_mime_message_set_message_id(m, mid);
        g_free(mid);
    }
    if (kind == COMPOSE_REPLY && om->message_id && *om->message_id) {
        if (!g_mime_object_get_header(GMIME_OBJECT(m), "In-Reply-To"))
            g_mime_object_set_header(GMIME_OBJECT(m), "In-Reply-To",
                                     apr_psprintf(p, "<%s>", om->message_id), NULL);
        if (!g_mime_object_get_header(GMIME_OBJECT(m), "References"))
            g_mime_object_set_header(GMIME_OBJECT(m), "References",
                                     apr_psprintf(p, "%s%s<%s>", om->references ? om->references : "",
                                                  om->references ? " " : "", om->message_id), NULL);
    }
    /* a signed or encrypted message is sent as the client made it: adding the original
     * would break it */
    if (kind != COMPOSE_SEND && !c->replace_mime && !is_protected(m))
        merge_original(p, m, orig_mime, orig_len, om, kind == COMPOSE_FORWARD);

    apr_array_header_t *rcpts = recipients_of(p, m);
    if (rcpts->nelts == 0)
        return fail(e, EAS_MESSAGE_HAS_NO_RECIPIENT, 400, ZX_LOG_INFO,
                    ZXLOGNO(00719) "the message has no recipient");
    apr_size_t full_len;
    const char *full = gm_write(p, m, &full_len);

    /* 4. the Sent Items copy (with Bcc) and the mark on the original, still uncommitted */
    if (c->save_in_sent) {
        zx_folder *sent = NULL;
        zx_item *copy = NULL;
        if (zx_store_ensure_mailbox(st, &err) != ZX_STORE_OK ||
            zx_store_folder_by_type(st, ZX_FOLDER_SENT, &sent, &err) != ZX_STORE_OK ||
            !sent ||
            zx_store_deliver(st, sent->id, full, full_len, 1, &copy, &err) != ZX_STORE_OK)
            return fail(e, ZX_EAS_SERVER_ERROR_RETRY, 500, ZX_LOG_ERR,
                        apr_psprintf(p, ZXLOGNO(00720) "cannot store the copy in Sent Items: %s",
                                     err ? err : "no Sent Items folder"));
    }
    if (kind != COMPOSE_SEND) {
        zx_item_changes ch;
        memset(&ch, 0, sizeof ch);
        ch.read = -1;
        ch.answered = kind == COMPOSE_REPLY ? 1 : -1;
        ch.forwarded = kind == COMPOSE_FORWARD ? 1 : -1;
        /* [MS-ASEMAIL] LastVerbExecuted: 1 reply to sender, 2 reply to all, 3 forward.  A
         * reply to more than one recipient is a reply to all. */
        ch.last_verb = kind == COMPOSE_FORWARD ? 3 : rcpts->nelts > 1 ? 2 : 1;
        /* made by the server, so every device (the sender's too) gets the change */
        int rc = zx_store_item_update(st, orig->id, &ch, NULL, &err);
        if (rc < 0)
            return fail(e, ZX_EAS_SERVER_ERROR_RETRY, 500, ZX_LOG_ERR,
                        apr_psprintf(p, ZXLOGNO(00721) "cannot mark item %s: %s", orig->id, err));
        if (rc != ZX_STORE_OK)      /* deleted meanwhile */
            return fail(e, EAS_ITEM_NOT_FOUND, 500, ZX_LOG_INFO,
                        apr_psprintf(p, ZXLOGNO(00716) "source item %s not found", orig->id));
    }

    /* 5. hand it over; Bcc stays in the Sent copy but not in what recipients see (with -t
     * the sendmail command removes it itself) */
    const char *out = full;
    apr_size_t out_len = full_len;
    char **cmdv = NULL;
    apr_tokenize_to_argv(srv->settings.sendmail, &cmdv, p);
    if (!(cmdv && has_arg(cmdv, "-t")) && g_mime_object_remove_header(GMIME_OBJECT(m), "Bcc"))
        out = gm_write(p, m, &out_len);
    if (zx_sendmail_run(p, srv->settings.sendmail, req->account.name, rcpts, out, out_len,
                        &err) < 0)
        return fail(e, EAS_MAIL_SUBMISSION_FAILED, 500, ZX_LOG_ERR,
                    apr_psprintf(p, ZXLOGNO(00722) "mail from %s not sent: %s", req->account.name,
                                 err));
    return 0;
}

static void compose_handler(const zx_server *srv, zx_request *req, zx_response *resp,
                            compose_kind kind)
{
    apr_pool_t *p = req->pool;
    compose_req c;
    compose_err e = {0, 0, ZX_LOG_INFO, NULL};
    const char *err = NULL;
    memset(&c, 0, sizeof c);
    c.kind = kind;

    if ((req->proto >= ZX_V140 ? parse_wbxml(req, &c, &e) : parse_mime_form(req, &c, &e)) < 0) {
        respond_fail(req, resp, &e);
        return;
    }
    if (!srv->settings.sendmail) {
        fail(&e, EAS_MAIL_SUBMISSION_FAILED, 500, ZX_LOG_ERR,
             ZXLOGNO(00711) "cannot send mail: no ZxMobileSendmail command is configured");
        respond_fail(req, resp, &e);
        return;
    }
    int own = 0;
    zx_db *db = zx_request_db(srv, req, &err);
    if (!db || zx_db_tx_begin(db, &own, &err) < 0) {
        fail(&e, ZX_EAS_SERVER_ERROR_RETRY, 503, ZX_LOG_ERR,
             apr_psprintf(p, ZXLOGNO(00712) "cannot send mail: %s", err));
        respond_fail(req, resp, &e);
        return;
    }
    int rc = compose_in_tx(srv, req, &c, db, &e);
    if (zx_db_tx_end(db, own, rc, &err) < 0 && rc == 0) {
        /* The message is gone already: telling the client to retry would send it twice. */
        zx_log(req->log_ctx, ZX_LOG_ERR,
               ZXLOGNO(00723) "mail from %s was sent but its ClientId, Sent Items copy or "
               "reply mark could not be stored: %s", req->account.name, err);
    }
    if (rc < 0) {
        respond_fail(req, resp, &e);
        return;
    }
    zx_respond_http(req, resp, 200, ZX_LOG_DEBUG, NULL);
}

void zx_cmd_sendmail(const zx_server *srv, zx_request *req, zx_response *resp)
{
    compose_handler(srv, req, resp, COMPOSE_SEND);
}

void zx_cmd_smartreply(const zx_server *srv, zx_request *req, zx_response *resp)
{
    compose_handler(srv, req, resp, COMPOSE_REPLY);
}

void zx_cmd_smartforward(const zx_server *srv, zx_request *req, zx_response *resp)
{
    compose_handler(srv, req, resp, COMPOSE_FORWARD);
}
