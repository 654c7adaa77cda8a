/* zxmobile - the mail transport (zxsync/transport.h): none, a sendmail command, or SMTP
 * submission through libcurl. */
#include <zxsync/recipients.h>
#include <zxsync/sendmail.h>
#include <zxsync/transport.h>

#include <apr_file_io.h>
#include <apr_strings.h>
#include <curl/curl.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the spec ---------------------------------------------------------------------------- */

static const char *skip_blanks(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static const char *trim(apr_pool_t *p, const char *s)
{
    s = skip_blanks(s);
    apr_size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return apr_pstrmemdup(p, s, n);
}

/* host[:port] of an smtp(s):// URL: a DNS name or an IPv4 address, or an IPv6 address in
 * brackets; nothing else (no user, no path: credentials come from a file only). */
static int parse_hostport(apr_pool_t *p, const char *s, unsigned defport, zx_transport *t,
                          const char **err)
{
    const char *host_end;
    const char *h = s;
    const char *at = strchr(s, '@'), *slash = strchr(s, '/');
    if (at && (!slash || at < slash)) {
        *err = "no user name or password in the URL: credentials go in the file of "
               "ZxMobileSMTPCredentials";
        return -1;
    }
    if (*s == '[') {
        host_end = strchr(s, ']');
        if (!host_end || host_end == s + 1) {
            *err = "an IPv6 address must be written in brackets: smtp://[::1]:587";
            return -1;
        }
        for (const char *c = s + 1; c < host_end; c++)
            if (!isxdigit((unsigned char)*c) && *c != ':' && *c != '.') {
                *err = "not an IPv6 address in the brackets";
                return -1;
            }
        host_end++;
    }
    else {
        host_end = s;
        while (*host_end && *host_end != ':' && *host_end != '/')
            host_end++;
        if (host_end == s) {
            *err = "no host name";
            return -1;
        }
        for (const char *c = s; c < host_end; c++)
            if (!isalnum((unsigned char)*c) && *c != '-' && *c != '.') {
                *err = "the host name has a character not allowed in one";
                return -1;
            }
        if (*s == '-' || *s == '.') {
            *err = "the host name has a character not allowed in one";
            return -1;
        }
    }
    unsigned port = defport;
    const char *rest = host_end;
    if (*rest == ':') {
        char *end;
        long v = strtol(rest + 1, &end, 10);
        if (end == rest + 1 || v < 1 || v > 65535) {
            *err = "the port must be a number from 1 to 65535";
            return -1;
        }
        port = (unsigned)v;
        rest = end;
    }
    if (*rest == '/')
        rest++;
    if (*rest) {
        *err = "nothing may follow host[:port] (no path, no query)";
        return -1;
    }
    t->host = apr_pstrmemdup(p, h, (apr_size_t)(host_end - h));
    t->port = port;
    return 0;
}

int zx_transport_parse(apr_pool_t *p, const char *spec, zx_transport *out, const char **err)
{
    memset(out, 0, sizeof *out);
    const char *s = spec ? trim(p, spec) : "";
    out->spec = s;
    if (!*s || strcasecmp(s, "none") == 0) {
        out->kind = ZX_TRANSPORT_NONE;
        return 0;
    }
    if (strncasecmp(s, "sendmail:", 9) == 0 || s[0] == '/') {
        const char *cmd = s[0] == '/' ? s : skip_blanks(s + 9);
        char **argv = NULL;
        if (!*cmd || apr_tokenize_to_argv(cmd, &argv, p) != APR_SUCCESS || !argv[0] ||
            argv[0][0] != '/') {
            *err = apr_psprintf(p, "\"%s\": the sendmail command must start with an absolute "
                                "program path (sendmail:/usr/sbin/sendmail -i)", s);
            return -1;
        }
        out->kind = ZX_TRANSPORT_SENDMAIL;
        out->command = cmd;
        return 0;
    }
    int tls = 0;
    const char *hp = NULL;
    if (strncasecmp(s, "smtp://", 7) == 0)
        hp = s + 7;
    else if (strncasecmp(s, "smtps://", 8) == 0) {
        hp = s + 8;
        tls = 1;
    }
    if (!hp) {
        *err = apr_psprintf(p, "\"%s\" is no transport: none, sendmail:<command line>, "
                            "smtp://host[:port] or smtps://host[:port]", s);
        return -1;
    }
    const char *why = NULL;
    if (parse_hostport(p, hp, tls ? 465 : 587, out, &why) < 0) {
        *err = apr_psprintf(p, "\"%s\": %s", s, why);
        memset(out, 0, sizeof *out);
        return -1;
    }
    out->kind = tls ? ZX_TRANSPORT_SMTPS : ZX_TRANSPORT_SMTP;
    out->url = apr_psprintf(p, "%s://%s:%u", tls ? "smtps" : "smtp", out->host, out->port);
    return 0;
}

int zx_transport_outside(const zx_transport *t)
{
    return t && t->kind != ZX_TRANSPORT_NONE;
}

int zx_transport_reads_recipients(apr_pool_t *p, const zx_transport *t)
{
    return t && t->kind == ZX_TRANSPORT_SENDMAIL && zx_sendmail_reads_recipients(p, t->command);
}

const char *zx_transport_describe(apr_pool_t *p, const zx_transport *t)
{
    if (!zx_transport_outside(t))
        return "none";
    if (t->kind == ZX_TRANSPORT_SENDMAIL)
        return apr_pstrcat(p, "sendmail:", t->command, NULL);
    return apr_psprintf(p, "%s (%s%s%s)", t->url,
                        t->kind == ZX_TRANSPORT_SMTPS ? "implicit TLS"
                        : t->starttls_optional       ? "STARTTLS optional"
                                                     : "STARTTLS required",
                        t->credentials ? ", AUTH" : "", t->ca_file ? ", own CA file" : "");
}

/* ---- the files --------------------------------------------------------------------------- */

int zx_transport_load_credentials(apr_pool_t *p, zx_transport *t, const char **err)
{
    if (!t->credentials)
        return 0;
    struct stat st;
    if (stat(t->credentials, &st) != 0 || !S_ISREG(st.st_mode)) {
        *err = apr_psprintf(p, "the credentials file %s does not exist or is not a file",
                            t->credentials);
        return -1;
    }
    if (st.st_mode & S_IROTH) {
        *err = apr_psprintf(p, "the credentials file %s is readable by everyone: allow only "
                            "root and the httpd user (chmod o-rwx)", t->credentials);
        return -1;
    }
    apr_file_t *f;
    char line[1024];
    apr_size_t n = sizeof line - 1;
    if (apr_file_open(&f, t->credentials, APR_FOPEN_READ, 0, p) != APR_SUCCESS) {
        *err = apr_psprintf(p, "cannot read the credentials file %s", t->credentials);
        return -1;
    }
    apr_status_t rv = apr_file_read(f, line, &n);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF)
        n = 0;
    line[n] = '\0';
    char *eol = strpbrk(line, "\r\n");
    if (eol)
        *eol = '\0';
    char *colon = strchr(line, ':');
    if (!colon || colon == line) {
        *err = apr_psprintf(p, "the credentials file %s must hold one line user:password",
                            t->credentials);
        return -1;
    }
    t->user = apr_pstrmemdup(p, line, (apr_size_t)(colon - line));
    t->password = apr_pstrdup(p, colon + 1);
    memset(line, 0, sizeof line);
    return 0;
}

const char *zx_transport_check(apr_pool_t *p, zx_transport *t)
{
    const char *err = NULL;
    if (t->kind == ZX_TRANSPORT_NONE)
        return NULL;
    if (t->kind == ZX_TRANSPORT_SENDMAIL) {
        char **argv = NULL;
        struct stat st;
        if (apr_tokenize_to_argv(t->command, &argv, p) != APR_SUCCESS || !argv[0])
            return apr_psprintf(p, "the sendmail command \"%s\" cannot be split", t->command);
        if (stat(argv[0], &st) != 0)
            return apr_psprintf(p, "the sendmail command %s does not exist (install an MTA, "
                                "or choose another transport)", argv[0]);
        if (!S_ISREG(st.st_mode) || access(argv[0], X_OK) != 0)
            return apr_psprintf(p, "the sendmail command %s is not an executable file",
                                argv[0]);
        return NULL;
    }
    if (t->ca_file) {
        apr_file_t *f;
        struct stat st;
        if (stat(t->ca_file, &st) != 0 || !S_ISREG(st.st_mode) ||
            apr_file_open(&f, t->ca_file, APR_FOPEN_READ, 0, p) != APR_SUCCESS)
            return apr_psprintf(p, "the CA file %s is not a readable file", t->ca_file);
        apr_file_close(f);
    }
    if (zx_transport_load_credentials(p, t, &err) < 0)
        return err;
    return NULL;
}

int zx_transport_global_init(const char **err)
{
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        *err = curl_easy_strerror(rc);
        return -1;
    }
    return 0;
}

/* ---- SMTP -------------------------------------------------------------------------------- */

typedef struct {
    const char *data;
    apr_size_t len, pos;
    char reply[512];            /* the server's last reply line */
    char refusal[512];          /* its last 4xx/5xx line: what ended the submission (the
                                 * QUIT's 221 that libcurl sends after it comes later) */
} smtp_io;

static size_t read_cb(char *buf, size_t size, size_t nitems, void *ud)
{
    smtp_io *io = ud;
    size_t room = size * nitems, left = io->len - io->pos;
    size_t n = left < room ? left : room;
    memcpy(buf, io->data + io->pos, n);
    io->pos += n;
    return n;
}

static int debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *ud)
{
    (void)h;
    smtp_io *io = ud;
    if (type != CURLINFO_HEADER_IN || size == 0)
        return 0;
    size_t n = size < sizeof io->reply - 1 ? size : sizeof io->reply - 1;
    memcpy(io->reply, data, n);
    while (n && (io->reply[n - 1] == '\n' || io->reply[n - 1] == '\r'))
        n--;
    io->reply[n] = '\0';
    if (io->reply[0] == '4' || io->reply[0] == '5')
        memcpy(io->refusal, io->reply, n + 1);
    return 0;
}

/* LF line ends become CRLF (SMTP's), those already CRLF stay; libcurl does the dot-stuffing
 * and the final "." line. */
static const char *crlf(apr_pool_t *p, const char *data, apr_size_t len, apr_size_t *out_len)
{
    apr_size_t extra = 0;
    for (apr_size_t i = 0; i < len; i++)
        if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
            extra++;
    if (!extra) {
        *out_len = len;
        return data;
    }
    char *o = apr_palloc(p, len + extra), *w = o;
    for (apr_size_t i = 0; i < len; i++) {
        if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
            *w++ = '\r';
        *w++ = data[i];
    }
    *out_len = len + extra;
    return o;
}

static const char *angle(apr_pool_t *p, const char *addr)
{
    return addr[0] == '<' ? addr : apr_pstrcat(p, "<", addr, ">", NULL);
}

static zx_send_status smtp_send(apr_pool_t *p, zx_transport *t, const char *sender,
                                const apr_array_header_t *rcpts, const char *data,
                                apr_size_t len, const char **err)
{
    if (t->credentials && !t->user && zx_transport_load_credentials(p, t, err) < 0)
        return ZX_SEND_TEMPFAIL;
    if (!rcpts || rcpts->nelts == 0) {
        *err = "no recipient";
        return ZX_SEND_PERMFAIL;
    }
    CURL *h = curl_easy_init();
    if (!h) {
        *err = "cannot start libcurl";
        return ZX_SEND_TEMPFAIL;
    }
    smtp_io io;
    memset(&io, 0, sizeof io);
    io.data = crlf(p, data, len, &io.len);
    struct curl_slist *list = NULL;
    for (int i = 0; i < rcpts->nelts; i++)
        list = curl_slist_append(list, angle(p, APR_ARRAY_IDX(rcpts, i, const char *)));
    char errbuf[CURL_ERROR_SIZE];
    errbuf[0] = '\0';
    long timeout = t->timeout ? (long)t->timeout : ZX_TRANSPORT_DEFAULT_TIMEOUT;

    curl_easy_setopt(h, CURLOPT_URL, t->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);        /* only to get the replies: */
    curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, debug_cb);
    curl_easy_setopt(h, CURLOPT_DEBUGDATA, &io);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, timeout);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(h, CURLOPT_USE_SSL, t->kind == ZX_TRANSPORT_SMTP && t->starttls_optional
                                             ? (long)CURLUSESSL_TRY : (long)CURLUSESSL_ALL);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (t->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, t->ca_file);
    if (t->user) {
        curl_easy_setopt(h, CURLOPT_USERNAME, t->user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, t->password);
    }
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, angle(p, sender && *sender ? sender : ""));
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, list);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(h, CURLOPT_READDATA, &io);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)io.len);

    CURLcode rc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(list);
    curl_easy_cleanup(h);
    if (rc == CURLE_OK)
        return ZX_SEND_OK;

    const char *what = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    /* the reply that ended it is the last one read, unless the failure was not a reply */
    int replied = code >= 400 && code < 600;
    const char *said = io.refusal[0] ? io.refusal : io.reply;
    *err = apr_psprintf(p, "%s: %s%s%s", t->url, what, replied && said[0] ? "; the server "
                        "said: " : "", replied ? said : "");
    if (code >= 500 && code < 600)
        return ZX_SEND_PERMFAIL;
    return ZX_SEND_TEMPFAIL;     /* 4xx, no connection, timeout, TLS, STARTTLS not offered */
}

/* ---- sending ----------------------------------------------------------------------------- */

zx_send_status zx_transport_send(apr_pool_t *p, zx_transport *t, const char *sender,
                                 const apr_array_header_t *rcpts, const char *data,
                                 apr_size_t len, const char **err)
{
    if (!zx_transport_outside(t)) {
        *err = "no transport for mail outside this server is configured "
               "(ZxMobileMailTransport none)";
        return ZX_SEND_PERMFAIL;
    }
    /* an address goes into an SMTP command or a command line: nothing but an addr-spec
     * (no CR/LF, no blank, no leading '-') */
    for (int i = 0; rcpts && i < rcpts->nelts; i++) {
        const char *a = APR_ARRAY_IDX(rcpts, i, const char *);
        if (!zx_recipient_valid(a)) {
            *err = apr_psprintf(p, "not a valid recipient address: \"%s\"", a ? a : "");
            return ZX_SEND_PERMFAIL;
        }
    }
    if (sender && *sender && !zx_recipient_valid(sender)) {
        *err = apr_psprintf(p, "not a valid sender address: \"%s\"", sender);
        return ZX_SEND_PERMFAIL;
    }
    if (t->kind == ZX_TRANSPORT_SENDMAIL) {
        int status = -1;
        if (zx_sendmail_exec(p, t->command, sender, rcpts, data, len, t->timeout, &status,
                             err) == 0)
            return ZX_SEND_OK;
        /* sysexits.h: EX_TEMPFAIL; a command that could not run, was killed or timed out
         * may work next time */
        return status == 75 || status < 0 ? ZX_SEND_TEMPFAIL : ZX_SEND_PERMFAIL;
    }
    return smtp_send(p, t, sender, rcpts, data, len, err);
}
