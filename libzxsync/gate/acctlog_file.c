/* zxmobile - mobile account loggers (spec 10): the loggers in the database, their files, and
 * the record of one exchange (zxsync/acctlog.h).  The per-process cache and the pipeline step
 * are in gate/acctlog.c. */
#include <zxsync/acctlog.h>
#include <zxsync/audit.h>
#include <zxsync/buf.h>
#include <zxsync/config.h>
#include <zxsync/eas.h>
#include <zxsync/text.h>

#include <apr_strings.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- levels ------------------------------------------------------------------------------ */

static const char *const level_names[] = {"crit", "err", "warn", "info", "debug", "trace"};

int zx_acctlog_level_parse(const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i <= ZX_ACCTLOG_TRACE; i++)
        if (strcasecmp(s, level_names[i]) == 0)
            return i;
    if (strcasecmp(s, "warning") == 0)
        return ZX_ACCTLOG_WARN;
    if (strcasecmp(s, "error") == 0)
        return ZX_ACCTLOG_ERR;
    if (strcasecmp(s, "critical") == 0)
        return ZX_ACCTLOG_CRIT;
    return -1;
}

const char *zx_acctlog_level_name(zx_acctlog_level level)
{
    return (unsigned)level <= ZX_ACCTLOG_TRACE ? level_names[level] : "info";
}

const char *zx_acctlog_httpd_user(void)
{
    const char *u = getenv("ZXMOBILE_HTTPD_USER");
    return u && *u ? u : ZX_ACCTLOG_DEFAULT_HTTPD_USER;
}

/* ---- the file ------------------------------------------------------------------------------ */

const char *zx_acctlog_directory(apr_pool_t *p, zx_db *db, const char **err)
{
    zx_config_scope global = {NULL, NULL, NULL, NULL};
    const char *dir = NULL;
    if (zx_config_resolve(p, db, &global, "ZxMobile_AccountLoggerDirectory", &dir, NULL, err) < 0)
        return NULL;
    return dir && *dir ? dir : ZX_ACCTLOG_DEFAULT_DIRECTORY;
}

/* An absolute path without empty, "." or ".." components (a directory may end in one '/'):
 * the path says where it is, no walking up can move it. */
static int plain_path(const char *path, int is_dir)
{
    if (!path || path[0] != '/')
        return 0;
    size_t len = strlen(path);
    if (is_dir && len > 1 && path[len - 1] == '/')
        len--;
    if (len == 1)
        return is_dir;
    for (size_t i = 1; i <= len;) {
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        size_t n = j - i;
        if (n == 0 || (n == 1 && path[i] == '.') || (n == 2 && path[i] == '.' && path[i + 1] == '.'))
            return 0;
        i = j + 1;
    }
    return 1;
}

int zx_acctlog_path_allowed(apr_pool_t *p, const char *dir, const char *path, const char **err)
{
    if (!plain_path(dir, 1)) {
        *err = apr_psprintf(p, "the account logger directory \"%s\" (ZxMobile_AccountLoggerDirectory) "
                            "is not an absolute path without . or .. parts", dir ? dir : "");
        return -1;
    }
    size_t dl = strlen(dir);
    if (dl > 1 && dir[dl - 1] == '/')
        dl--;
    if (!path || path[0] != '/') {
        *err = apr_psprintf(p, "log file \"%s\" is not an absolute path", path ? path : "");
        return -1;
    }
    /* under dir: dir's text, then '/' (dir "/" ends in it), then a name */
    size_t at = dl == 1 ? 1 : dl + 1;
    if (!plain_path(path, 0) || strncmp(path, dir, dl) != 0 || (dl > 1 && path[dl] != '/') ||
        !path[at]) {
        *err = apr_psprintf(p, "log file %s is not in the account logger directory %.*s "
                            "(ZxMobile_AccountLoggerDirectory; no . or .. parts)", path, (int)dl,
                            dir);
        return -1;
    }
    return 0;
}

/* open(2) of an absolute path that follows no symbolic link on the way: every directory is
 * opened (O_PATH) with O_NOFOLLOW from the one before, then the file with O_NOFOLLOW.  A
 * symbolic link anywhere gives ELOOP (ENOTDIR on some kernels for a directory). */
static int open_nofollow(const char *path, int flags, mode_t mode)
{
    if (!path || path[0] != '/') {
        errno = EINVAL;
        return -1;
    }
    int dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    const char *c = path + 1;
    for (const char *slash; (slash = strchr(c, '/')) != NULL; c = slash + 1) {
        size_t n = (size_t)(slash - c);
        char comp[256];
        if (n == 0 || n >= sizeof comp || (n == 1 && c[0] == '.') ||
            (n == 2 && c[0] == '.' && c[1] == '.')) {
            close(dfd);
            errno = n >= sizeof comp ? ENAMETOOLONG : EINVAL;
            return -1;
        }
        memcpy(comp, c, n);
        comp[n] = '\0';
        int nfd = openat(dfd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (nfd < 0) {
            int e = errno;
            struct stat st;
            /* a symbolic link to a directory reads as ENOTDIR here: say what it is */
            if (e == ENOTDIR && fstatat(dfd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISLNK(st.st_mode))
                e = ELOOP;
            close(dfd);
            errno = e;
            return -1;
        }
        close(dfd);
        dfd = nfd;
    }
    int fd = openat(dfd, c, flags | O_NOFOLLOW | O_CLOEXEC, mode);
    int e = errno;
    close(dfd);
    errno = e;
    return fd;
}

/* Can uid/gid (with groups) write a file of this mode/owner?  (Not as root: no other way.) */
static int mode_lets_write(const struct stat *st, uid_t uid, const gid_t *groups, int ngroups)
{
    if (st->st_uid == uid)
        return (st->st_mode & S_IWUSR) != 0;
    for (int i = 0; i < ngroups; i++)
        if (groups[i] == st->st_gid)
            return (st->st_mode & S_IWGRP) != 0;
    return (st->st_mode & S_IWOTH) != 0;
}

/* As root: open path for appending in a child that became the user.  0 or an errno value. */
static int open_as(const char *path, const struct passwd *pw, const gid_t *groups, int ngroups)
{
    pid_t pid = fork();
    if (pid < 0)
        return errno;
    if (pid == 0) {
        if (setgroups((size_t)ngroups, groups) < 0 || setgid(pw->pw_gid) < 0 ||
            setuid(pw->pw_uid) < 0)
            _exit(EPERM);
        int fd = open_nofollow(path, O_WRONLY | O_APPEND, 0);
        _exit(fd < 0 ? (errno & 0xFF ? errno & 0xFF : EACCES) : 0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return errno;
    if (!WIFEXITED(status))
        return EPERM;
    return WEXITSTATUS(status);
}

int zx_acctlog_prepare_file(apr_pool_t *p, const char *dir, const char *path,
                            const char *httpd_user, const char **err)
{
    if (zx_acctlog_path_allowed(p, dir, path, err) < 0)
        return -1;
    struct passwd pwbuf, *pw = NULL;
    char pwstr[4096];
    if (getpwnam_r(httpd_user, &pwbuf, pwstr, sizeof pwstr, &pw) != 0 || !pw) {
        *err = apr_psprintf(p, "the httpd user \"%s\" does not exist (set ZXMOBILE_HTTPD_USER "
                            "to the user httpd's children run as)", httpd_user);
        return -1;
    }
    gid_t groups[256];
    int ngroups = (int)(sizeof groups / sizeof groups[0]);
    if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &ngroups) < 0) {
        ngroups = 1;
        groups[0] = pw->pw_gid;
    }

    /* create it, or open what is there */
    int created = 1;
    int fd = open_nofollow(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL, 0640);
    if (fd < 0 && errno == EEXIST) {
        created = 0;
        fd = open_nofollow(path, O_WRONLY | O_APPEND | O_NONBLOCK, 0);
    }
    if (fd < 0) {
        int e = errno;
        if (e == ELOOP)
            *err = apr_psprintf(p, "log file %s is a symbolic link or in a directory reached "
                                "through one: give the path of the file itself", path);
        else if (e == EISDIR)
            *err = apr_psprintf(p, "log file %s is not a regular file", path);
        else
            *err = apr_psprintf(p, "cannot open log file %s: %s", path, strerror(e));
        return -1;
    }
    struct stat st;
    const char *why = NULL;
    if (fstat(fd, &st) < 0)
        why = apr_psprintf(p, "cannot open log file %s: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        why = apr_psprintf(p, "log file %s is not a regular file", path);
    else if (geteuid() == 0) {
        /* a file we created goes to the httpd user; one that was there keeps its owner */
        if (created && fchown(fd, pw->pw_uid, pw->pw_gid) < 0)
            why = apr_psprintf(p, "cannot give log file %s to %s: %s", path, httpd_user,
                               strerror(errno));
        else {
            int e = open_as(path, pw, groups, ngroups);
            if (e)
                why = apr_psprintf(p, "log file %s is not writable by the httpd user %s (%s): "
                                   "choose a directory %s can reach, or make the file writable "
                                   "by it", path, httpd_user, strerror(e), httpd_user);
        }
    }
    else if (geteuid() != pw->pw_uid && !mode_lets_write(&st, pw->pw_uid, groups, ngroups)) {
        why = apr_psprintf(p, "log file %s is not writable by the httpd user %s: run zxsuite as "
                           "root (the file is then created for %s), or make it writable by %s",
                           path, httpd_user, httpd_user, httpd_user);
    }
    close(fd);
    if (why) {
        if (created)
            unlink(path);
        *err = why;
        return -1;
    }
    return 0;
}

int zx_acctlog_append(const char *dir, const char *path, const char *data, apr_size_t len)
{
    apr_pool_t *p = NULL;
    const char *why = NULL;
    if (apr_pool_create(&p, NULL) != APR_SUCCESS)
        return ENOMEM;
    int allowed = zx_acctlog_path_allowed(p, dir, path, &why) == 0;
    apr_pool_destroy(p);
    if (!allowed)
        return EPERM;
    int fd = open_nofollow(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK, 0640);
    if (fd < 0)
        return errno ? errno : EIO;
    int rc = 0;
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = errno;
            break;
        }
        data += n;
        len -= (apr_size_t)n;
    }
    close(fd);
    return rc;
}

/* ---- the loggers ----------------------------------------------------------------------------- */

#define LOGGER_COLS \
    "l.id, l.account_id, a.local_part || '@' || d.name, l.level, l.file, " \
    "coalesce(l.window_size, 0), " \
    "to_char(l.created AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define LOGGER_FROM \
    " FROM account_loggers l JOIN accounts a ON a.id = l.account_id " \
    " JOIN domains d ON d.id = a.domain_id"

static zx_acctlog *row_logger(apr_pool_t *p, PGresult *res, int i)
{
    zx_acctlog *l = apr_pcalloc(p, sizeof *l);
    l->id = apr_pstrdup(p, PQgetvalue(res, i, 0));
    l->account_id = apr_pstrdup(p, PQgetvalue(res, i, 1));
    l->account = apr_pstrdup(p, PQgetvalue(res, i, 2));
    int lv = zx_acctlog_level_parse(PQgetvalue(res, i, 3));
    l->level = lv < 0 ? ZX_ACCTLOG_INFO : (zx_acctlog_level)lv;
    l->file = apr_pstrdup(p, PQgetvalue(res, i, 4));
    l->window_size = atoi(PQgetvalue(res, i, 5));
    l->created = apr_pstrdup(p, PQgetvalue(res, i, 6));
    return l;
}

int zx_acctlog_add(apr_pool_t *p, zx_db *db, const char *account, const char *level,
                   const char *file, int window_size, const char *httpd_user, zx_acctlog **out,
                   const char **err)
{
    int lv = zx_acctlog_level_parse(level);
    if (lv < 0) {
        *err = apr_psprintf(p, "invalid log level \"%s\": expected one of trace, debug, info, "
                            "warn, err, crit", level ? level : "");
        return -1;
    }
    if (window_size < 0) {
        *err = "window_size must be an integer greater than 0";
        return -1;
    }
    int own = 0;
    if (zx_db_tx_begin(db, &own, err) < 0)
        return -1;
    int rc = -1;
    zx_config_scope scope;
    int found = zx_config_account_scope(p, db, account, &scope, err);
    if (found == 0)
        *err = apr_psprintf(p, "no such account: %s", account ? account : "");
    if (found != 1)
        goto done;

    const char *params[4] = {scope.account_id, file, zx_acctlog_level_name((zx_acctlog_level)lv),
                             window_size > 0 ? apr_itoa(p, window_size) : NULL};
    PGresult *res = zx_db_exec(db, "SELECT id FROM account_loggers WHERE account_id = $1::bigint "
                                   "AND file = $2", 2, params, err);
    if (!res)
        goto done;
    if (PQntuples(res) > 0) {
        *err = apr_psprintf(p, "account %s already has a logger writing to %s (id %s)", account,
                            file, PQgetvalue(res, 0, 0));
        PQclear(res);
        goto done;
    }
    PQclear(res);
    const char *dir = zx_acctlog_directory(p, db, err);
    if (!dir || zx_acctlog_prepare_file(p, dir, file, httpd_user, err) < 0)
        goto done;
    res = zx_db_exec(db,
        "WITH l AS (INSERT INTO account_loggers (account_id, file, level, window_size) "
        "           VALUES ($1::bigint, $2, $3, $4::integer) "
        "           RETURNING id, account_id, level, file, window_size, created) "
        "SELECT " LOGGER_COLS " FROM l JOIN accounts a ON a.id = l.account_id "
        " JOIN domains d ON d.id = a.domain_id", 4, params, err);
    if (!res)
        goto done;
    *out = row_logger(p, res, 0);
    PQclear(res);
    const char *details = apr_psprintf(p, "id %s, level %s, file %s%s", (*out)->id, params[2],
                                       file, window_size > 0 ? apr_psprintf(p, ", window_size %d",
                                                                           window_size) : "");
    if (zx_audit_record(db, zx_audit_actor(p), "doAddAccountLogger", (*out)->account, NULL,
                        details, err) < 0)
        goto done;
    rc = 0;
done:
    return zx_db_tx_end(db, own, rc, err);
}

int zx_acctlog_list(apr_pool_t *p, zx_db *db, apr_array_header_t **out, const char **err)
{
    PGresult *res = zx_db_exec(db, "SELECT " LOGGER_COLS LOGGER_FROM " ORDER BY l.id", 0, NULL,
                               err);
    if (!res)
        return -1;
    int n = PQntuples(res);
    *out = apr_array_make(p, n ? n : 1, sizeof(zx_acctlog *));
    for (int i = 0; i < n; i++)
        APR_ARRAY_PUSH(*out, zx_acctlog *) = row_logger(p, res, i);
    PQclear(res);
    return 0;
}

int zx_acctlog_remove(apr_pool_t *p, zx_db *db, const char *which, int *removed,
                      const char **err)
{
    int all = which && strcasecmp(which, "all_loggers") == 0;
    if (!all && (!which || !*which || strspn(which, "0123456789") != strlen(which) ||
                 strlen(which) > 18)) {
        *err = apr_psprintf(p, "invalid logger id \"%s\": expected a number or all_loggers",
                            which ? which : "");
        return -1;
    }
    int own = 0;
    if (zx_db_tx_begin(db, &own, err) < 0)
        return -1;
    int rc = -1;
    const char *params[1] = {which};
    PGresult *res = all ? zx_db_exec(db, "DELETE FROM account_loggers l USING accounts a, "
                                         "domains d WHERE a.id = l.account_id AND "
                                         "d.id = a.domain_id RETURNING l.id, "
                                         "a.local_part || '@' || d.name", 0, NULL, err)
                        : zx_db_exec(db, "DELETE FROM account_loggers l USING accounts a, "
                                         "domains d WHERE l.id = $1::bigint AND "
                                         "a.id = l.account_id AND d.id = a.domain_id "
                                         "RETURNING l.id, a.local_part || '@' || d.name",
                                     1, params, err);
    if (!res)
        goto done;
    *removed = PQntuples(res);
    if (!all && *removed == 0) {
        *err = apr_psprintf(p, "no account logger with id %s", which);
        PQclear(res);
        goto done;
    }
    rc = 0;
    for (int i = 0; i < *removed && rc == 0; i++)
        if (zx_audit_record(db, zx_audit_actor(p), "doRemoveLogger", PQgetvalue(res, i, 1), NULL,
                            apr_psprintf(p, "id %s", PQgetvalue(res, i, 0)), err) < 0)
            rc = -1;
    PQclear(res);
done:
    return zx_db_tx_end(db, own, rc, err);
}

/* ---- the record of one exchange --------------------------------------------------------------- */

/* Is a Status value a success for the command of this response root? ([MS-ASCMD]: 1 for every
 * command; Ping 2 = changes found; MoveItems 3 = success, 1 and 2 are errors there.) */
static int status_ok(unsigned root_tag, int status)
{
    if (root_tag == ZX_Ping_Ping)
        return status == 1 || status == 2;
    if (root_tag == ZX_Move_MoveItems)
        return status == 3;
    return status == 1;
}

static int status_value(apr_pool_t *p, const zx_wb_node *n)
{
    const char *t = zx_wb_text(p, n);
    if (!t || !*t || strlen(t) > 6 || strspn(t, "0123456789") != strlen(t))
        return -1;
    return atoi(t);
}

static void find_status(apr_pool_t *p, const zx_wb_node *n, unsigned tag, unsigned root,
                        int *first, int *bad)
{
    for (const zx_wb_node *e = n->first; e; e = e->next) {
        if (e->kind != ZX_WB_ELEMENT)
            continue;
        if (e->tag == tag) {
            int v = status_value(p, e);
            if (v >= 0 && *first < 0)
                *first = v;
            if (v >= 0 && *bad < 0 && !status_ok(root, v))
                *bad = v;
        }
        else {
            find_status(p, e, tag, root, first, bad);
        }
    }
}

int zx_acctlog_eas_status(apr_pool_t *p, const zx_wb_node *doc, int *ok)
{
    *ok = 1;
    if (!doc)
        return -1;
    int tag = zx_wb_tag_lookup(ZX_WB_PAGE(doc->tag), "Status");
    if (tag < 0)
        return -1;
    int v = -1;
    const zx_wb_node *top = zx_wb_child(doc, (unsigned)tag);
    if (top)
        v = status_value(p, top);
    if (v < 0) {
        int first = -1, bad = -1;
        find_status(p, doc, (unsigned)tag, doc->tag, &first, &bad);
        v = bad >= 0 ? bad : first;
    }
    if (v >= 0)
        *ok = status_ok(doc->tag, v);
    return v;
}

zx_acctlog_level zx_acctlog_severity(const zx_acctlog_exchange *x)
{
    if (x->http_status >= 500 || x->eas_status == ZX_EAS_SERVER_ERROR ||
        x->eas_status == ZX_EAS_SERVER_ERROR_RETRY)
        return ZX_ACCTLOG_ERR;
    if (x->http_status >= 400 || (x->eas_status >= 0 && !x->eas_ok))
        return ZX_ACCTLOG_WARN;
    return ZX_ACCTLOG_INFO;
}

/* Bytes at c (n left) that some reader takes for a line break or a control although they are
 * not ASCII: C1 controls (U+0080-U+009F, NEL among them) and U+2028/U+2029 in UTF-8, or one
 * byte that is not UTF-8 at all.  Their length, 0 for anything else above 0x7F. */
static apr_size_t odd_sequence(const unsigned char *c, apr_size_t n)
{
    if (c[0] < 0x80)
        return 0;
    if (n >= 2 && c[0] == 0xC2 && c[1] >= 0x80 && c[1] <= 0x9F)
        return 2;
    if (n >= 3 && c[0] == 0xE2 && c[1] == 0x80 && (c[2] == 0xA8 || c[2] == 0xA9))
        return 3;
    return zx_utf8_seq(c, n) ? 0 : 1;
}

/* A value for the summary line: "-" when absent; control characters (C0, DEL, C1, U+2028,
 * U+2029), bytes that are not UTF-8, blanks, quotes and backslashes as \xHH so that one
 * exchange is always one line and fields split on blanks. */
static void put_value(zx_buf *b, const char *s)
{
    if (!s || !*s) {
        zx_buf_putc(b, '-');
        return;
    }
    apr_size_t len = strlen(s);
    const unsigned char *u = (const unsigned char *)s;
    for (apr_size_t i = 0; i < len; i++) {
        apr_size_t odd = odd_sequence(u + i, len - i);
        if (odd) {
            for (apr_size_t k = 0; k < odd; k++)
                zx_buf_printf(b, "\\x%02X", u[i + k]);
            i += odd - 1;
        }
        else if (u[i] >= 0x80) {     /* a valid sequence: as it is */
            apr_size_t k = zx_utf8_seq(u + i, len - i);
            k = k ? k : 1;       /* (odd_sequence took the invalid ones) */
            zx_buf_append(b, u + i, k);
            i += k - 1;
        }
        else if (u[i] <= 0x20 || u[i] == 0x7F || u[i] == '"' || u[i] == '\\')
            zx_buf_printf(b, "\\x%02X", u[i]);
        else
            zx_buf_putc(b, (char)u[i]);
    }
}

/* Text lines, each prefixed; control characters other than tab (C1, U+2028/U+2029 too) and
 * bytes that are not UTF-8 escaped.  one_line: a newline is escaped as well. */
static void put_text(zx_buf *b, const char *prefix, const char *s, apr_size_t len, int one_line)
{
    int bol = 1;
    const unsigned char *u = (const unsigned char *)s;
    for (apr_size_t i = 0; i < len; i++) {
        unsigned char c = u[i];
        if (bol) {
            zx_buf_puts(b, prefix);
            bol = 0;
        }
        apr_size_t odd = odd_sequence(u + i, len - i);
        if (odd) {
            for (apr_size_t k = 0; k < odd; k++)
                zx_buf_printf(b, "\\x%02X", u[i + k]);
            i += odd - 1;
        }
        else if (c >= 0x80) {          /* a valid sequence: as it is */
            apr_size_t k = zx_utf8_seq(u + i, len - i);
            k = k ? k : 1;       /* (odd_sequence took the invalid ones) */
            zx_buf_append(b, u + i, k);
            i += k - 1;
        }
        else if (c == '\n' && !one_line) {
            zx_buf_putc(b, '\n');
            bol = 1;
        }
        else if (c == '\r' && i + 1 < len && s[i + 1] == '\n' && !one_line) {
            continue;
        }
        else if ((c < 0x20 && c != '\t') || c == 0x7F) {
            zx_buf_printf(b, "\\x%02X", c);
        }
        else {
            zx_buf_putc(b, (char)c);
        }
    }
    if (!bol)
        zx_buf_putc(b, '\n');
}

static void put_lines(zx_buf *b, const char *prefix, const char *s, apr_size_t len)
{
    put_text(b, prefix, s, len, 0);
}

static int is_password_tag(unsigned tag)
{
    return tag == ZX_Settings_Password || tag == ZX_ItemOperations_Password ||
           tag == ZX_Search_Password;
}

static int has_password(const zx_wb_node *n)
{
    for (const zx_wb_node *e = n->first; e; e = e->next)
        if (e->kind == ZX_WB_ELEMENT && (is_password_tag(e->tag) || has_password(e)))
            return 1;
    return 0;
}

/* A copy of the tree with the text of every Password element replaced by "***". */
static zx_wb_node *redacted(apr_pool_t *p, const zx_wb_node *n)
{
    zx_wb_node *c = apr_pmemdup(p, n, sizeof *n);
    c->first = c->last = c->next = NULL;
    if (n->kind != ZX_WB_ELEMENT)
        return c;
    if (is_password_tag(n->tag)) {
        if (n->first) {
            zx_wb_node *t = apr_pcalloc(p, sizeof *t);
            t->kind = ZX_WB_TEXT;
            t->data = "***";
            t->len = 3;
            c->first = c->last = t;
        }
        return c;
    }
    for (const zx_wb_node *e = n->first; e; e = e->next)
        zx_wb_append(c, redacted(p, e));
    return c;
}

static const char *type_or(const char *t)
{
    return t && *t ? t : "no Content-Type";
}

static void put_body(apr_pool_t *p, zx_buf *b, const char *prefix, const zx_wb_node *doc,
                     const unsigned char *body, apr_size_t len, const char *type, int trace)
{
    if (doc) {
        if (has_password(doc))
            doc = redacted(p, doc);
        const char *xml = zx_wbxml_to_xml(p, doc, 1);
        put_lines(b, prefix, xml, strlen(xml));
    }
    else if (!len) {
        zx_buf_printf(b, "%s(no body)\n", prefix);
    }
    else if (trace && type && (strncasecmp(type, "message/rfc822", 14) == 0 ||
                               strncasecmp(type, "text/", 5) == 0)) {
        zx_buf_printf(b, "%s(%s, %" APR_SIZE_T_FMT " bytes)\n", prefix, type, len);
        put_lines(b, prefix, (const char *)body, len);
    }
    else {
        zx_buf_printf(b, "%s(%s, %" APR_SIZE_T_FMT " bytes)\n", prefix, type_or(type), len);
    }
}

static void put_table(zx_buf *b, const char *prefix, const apr_table_t *t)
{
    if (!t)
        return;
    const apr_array_header_t *a = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)a->elts;
    for (int i = 0; i < a->nelts; i++) {
        if (!e[i].key || strcasecmp(e[i].key, "Authorization") == 0)
            continue;
        zx_buf_printf(b, "%s%s: ", prefix, e[i].key);
        const char *v = e[i].val ? e[i].val : "";
        put_text(b, "", v, strlen(v), 1);     /* one line: a value cannot forge a record */
        if (!*v)
            zx_buf_putc(b, '\n');
    }
}

char *zx_acctlog_format(apr_pool_t *p, const zx_acctlog_exchange *x, zx_acctlog_level level,
                        apr_size_t *len)
{
    zx_acctlog_level sev = zx_acctlog_severity(x);
    /* crit and err record the server's failures, warn every failure, info and up everything */
    if ((level <= ZX_ACCTLOG_ERR && sev != ZX_ACCTLOG_ERR) ||
        (level == ZX_ACCTLOG_WARN && sev == ZX_ACCTLOG_INFO))
        return NULL;
    zx_buf b;
    zx_buf_init(&b, p, 512);
    apr_time_exp_t t;
    apr_time_exp_gmt(&t, x->start);
    zx_buf_printf(&b, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s account=", t.tm_year + 1900,
                  t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, t.tm_usec / 1000,
                  sev == ZX_ACCTLOG_ERR ? "ERROR" : sev == ZX_ACCTLOG_WARN ? "WARN" : "INFO");
    put_value(&b, x->account);
    zx_buf_puts(&b, " device=");
    put_value(&b, x->device_id);
    zx_buf_puts(&b, " type=");
    put_value(&b, x->device_type);
    zx_buf_puts(&b, " cmd=");
    put_value(&b, x->cmd);
    zx_buf_puts(&b, " proto=");
    put_value(&b, x->proto);
    zx_buf_printf(&b, " http=%d eas_status=", x->http_status);
    if (x->eas_status >= 0)
        zx_buf_printf(&b, "%d", x->eas_status);
    else
        zx_buf_putc(&b, '-');
    apr_interval_time_t d = x->duration < 0 ? 0 : x->duration;
    zx_buf_printf(&b, " duration_ms=%" APR_INT64_T_FMT ".%03d request_bytes=%" APR_SIZE_T_FMT
                  " response_bytes=%" APR_SIZE_T_FMT " ip=", (apr_int64_t)(d / 1000),
                  (int)(d % 1000), x->request_len, x->response_len);
    put_value(&b, x->client_ip);
    zx_buf_puts(&b, " ua=");
    put_value(&b, x->user_agent);
    zx_buf_putc(&b, '\n');
    if (level >= ZX_ACCTLOG_DEBUG) {
        int trace = level >= ZX_ACCTLOG_TRACE;
        if (trace)
            put_table(&b, "> ", x->request_info);
        put_body(p, &b, "> ", x->request_doc, x->request_body, x->request_len, x->request_type,
                 trace);
        if (trace) {
            zx_buf_printf(&b, "< HTTP %d\n", x->http_status);
            if (x->response_type)
                zx_buf_printf(&b, "< Content-Type: %s\n", x->response_type);
            put_table(&b, "< ", x->response_headers);
        }
        put_body(p, &b, "< ", x->response_doc, x->response_body, x->response_len,
                 x->response_type, trace);
    }
    *len = b.len;
    return b.data;
}
