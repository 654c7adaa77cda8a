/* zxmobile - unit tests of the account loggers' records (zxsync/acctlog.h): levels, the EAS
 * status of a response, what each level writes, escaping, password redaction, and appending.
 * Check printing TAP. */
#include <zxsync/acctlog.h>
#include <zxsync/wbxml.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap_run.h"

static apr_pool_t *p;

static void setup(void)
{
    apr_pool_create(&p, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(p);
}

static int count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *q = strstr(s, needle); q; q = strstr(q + 1, needle))
        n++;
    return n;
}

static int lines(const char *s)
{
    return count(s, "\n");
}

/* A Sync exchange: request with a SyncKey, response with Status 1 and a SyncKey. */
static void sync_exchange(zx_acctlog_exchange *x)
{
    memset(x, 0, sizeof *x);
    x->start = apr_time_from_sec(1700000000) + 123456;    /* 2023-11-14T22:13:20.123Z */
    x->duration = 12345;
    x->account = "john@example.com";
    x->device_id = "dev1";
    x->device_type = "iPhone";
    x->cmd = "Sync";
    x->proto = "14.1";
    x->client_ip = "127.0.0.1";
    x->user_agent = "Apple-iPhone/1 (test)";
    x->http_status = 200;
    zx_wb_node *rq = zx_wb_new(p, ZX_AirSync_Sync);
    zx_wb_node *c = zx_wb_add(p, zx_wb_add(p, rq, ZX_AirSync_Collections), ZX_AirSync_Collection);
    zx_wb_add_text(p, c, ZX_AirSync_SyncKey, "req-key-7");
    zx_wb_add_text(p, c, ZX_AirSync_CollectionId, "12");
    x->request_doc = rq;
    x->request_len = 40;
    x->request_type = "application/vnd.ms-sync.wbxml";
    zx_wb_node *rs = zx_wb_new(p, ZX_AirSync_Sync);
    c = zx_wb_add(p, zx_wb_add(p, rs, ZX_AirSync_Collections), ZX_AirSync_Collection);
    zx_wb_add_text(p, c, ZX_AirSync_SyncKey, "resp-key-8");
    zx_wb_add_text(p, c, ZX_AirSync_CollectionId, "12");
    zx_wb_add_text(p, c, ZX_AirSync_Status, "1");
    x->response_doc = rs;
    x->response_len = 60;
    x->response_type = "application/vnd.ms-sync.wbxml";
    x->eas_status = zx_acctlog_eas_status(p, rs, &x->eas_ok);
}

START_TEST(test_levels)
{
    ck_assert_int_eq(zx_acctlog_level_parse("debug"), ZX_ACCTLOG_DEBUG);
    ck_assert_int_eq(zx_acctlog_level_parse("INFO"), ZX_ACCTLOG_INFO);
    ck_assert_int_eq(zx_acctlog_level_parse("Trace"), ZX_ACCTLOG_TRACE);
    ck_assert_int_eq(zx_acctlog_level_parse("warning"), ZX_ACCTLOG_WARN);
    ck_assert_int_eq(zx_acctlog_level_parse("error"), ZX_ACCTLOG_ERR);
    ck_assert_int_eq(zx_acctlog_level_parse("crit"), ZX_ACCTLOG_CRIT);
    ck_assert_int_eq(zx_acctlog_level_parse("verbose"), -1);
    ck_assert_int_eq(zx_acctlog_level_parse(""), -1);
    ck_assert_int_eq(zx_acctlog_level_parse(NULL), -1);
    ck_assert_str_eq(zx_acctlog_level_name(ZX_ACCTLOG_WARN), "warn");
    ck_assert_str_eq(zx_acctlog_level_name(ZX_ACCTLOG_ERR), "err");
}
END_TEST

START_TEST(test_eas_status)
{
    int ok = 0;
    /* root Status wins */
    zx_wb_node *d = zx_wb_new(p, ZX_AirSync_Sync);
    zx_wb_add_text(p, d, ZX_AirSync_Status, "13");
    ck_assert_int_eq(zx_acctlog_eas_status(p, d, &ok), 13);
    ck_assert_int_eq(ok, 0);
    /* no root Status: the first failing one among the collections */
    d = zx_wb_new(p, ZX_AirSync_Sync);
    zx_wb_node *cs = zx_wb_add(p, d, ZX_AirSync_Collections);
    zx_wb_add_text(p, zx_wb_add(p, cs, ZX_AirSync_Collection), ZX_AirSync_Status, "1");
    zx_wb_add_text(p, zx_wb_add(p, cs, ZX_AirSync_Collection), ZX_AirSync_Status, "3");
    ck_assert_int_eq(zx_acctlog_eas_status(p, d, &ok), 3);
    ck_assert_int_eq(ok, 0);
    /* Status of another code page (e.g. in the data) does not count */
    d = zx_wb_new(p, ZX_FolderHierarchy_FolderSync);
    zx_wb_add_text(p, d, ZX_FolderHierarchy_Status, "1");
    ck_assert_int_eq(zx_acctlog_eas_status(p, d, &ok), 1);
    ck_assert_int_eq(ok, 1);
    /* Ping 2 (changes) and MoveItems 3 (success) are successes */
    d = zx_wb_new(p, ZX_Ping_Ping);
    zx_wb_add_text(p, d, ZX_Ping_Status, "2");
    ck_assert_int_eq(zx_acctlog_eas_status(p, d, &ok), 2);
    ck_assert_int_eq(ok, 1);
    d = zx_wb_new(p, ZX_Move_MoveItems);
    zx_wb_add_text(p, zx_wb_add(p, d, ZX_Move_Response), ZX_Move_Status, "3");
    ck_assert_int_eq(zx_acctlog_eas_status(p, d, &ok), 3);
    ck_assert_int_eq(ok, 1);
    d = zx_wb_new(p, ZX_Move_MoveItems);
    zx_wb_add_text(p, zx_wb_add(p, d, ZX_Move_Response), ZX_Move_Status, "1");
    zx_acctlog_eas_status(p, d, &ok);
    ck_assert_int_eq(ok, 0);
    /* none */
    ck_assert_int_eq(zx_acctlog_eas_status(p, NULL, &ok), -1);
    ck_assert_int_eq(ok, 1);
}
END_TEST

START_TEST(test_info_line)
{
    zx_acctlog_exchange x;
    sync_exchange(&x);
    apr_size_t len = 0;
    char *r = zx_acctlog_format(p, &x, ZX_ACCTLOG_INFO, &len);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(len, strlen(r));
    ck_assert_str_eq(r, "2023-11-14T22:13:20.123Z INFO account=john@example.com device=dev1 "
                        "type=iPhone cmd=Sync proto=14.1 http=200 eas_status=1 "
                        "duration_ms=12.345 request_bytes=40 response_bytes=60 ip=127.0.0.1 "
                        "ua=Apple-iPhone/1\\x20(test)\n");
    /* nothing of the bodies at info */
    ck_assert_ptr_null(strstr(r, "req-key-7"));
}
END_TEST

START_TEST(test_debug_record)
{
    zx_acctlog_exchange x;
    sync_exchange(&x);
    apr_size_t len = 0;
    char *r = zx_acctlog_format(p, &x, ZX_ACCTLOG_DEBUG, &len);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(count(r, " INFO account="), 1);
    ck_assert_ptr_nonnull(strstr(r, "\n> <Sync xmlns=\"AirSync\">"));
    ck_assert_ptr_nonnull(strstr(r, "<SyncKey>req-key-7</SyncKey>"));
    ck_assert_ptr_nonnull(strstr(r, "\n< <Sync xmlns=\"AirSync\">"));
    ck_assert_ptr_nonnull(strstr(r, "<SyncKey>resp-key-8</SyncKey>"));
    /* every line after the first belongs to the request or the response */
    const char *q = strchr(r, '\n') + 1;
    while (*q) {
        ck_assert_msg(q[0] == '>' || q[0] == '<', "line without prefix: %s", q);
        q = strchr(q, '\n') + 1;
    }
    ck_assert_ptr_null(strstr(r, "> Method: "));     /* headers only at trace */
}
END_TEST

START_TEST(test_trace_record)
{
    zx_acctlog_exchange x;
    sync_exchange(&x);
    apr_table_t *info = apr_table_make(p, 4);
    apr_table_add(info, "Cmd", "Sync");
    apr_table_add(info, "Authorization", "Basic am9objpzZWNyZXQ=");
    apr_table_add(info, "Credentials", "Basic, login john (password not logged)");
    x.request_info = info;
    apr_table_t *h = apr_table_make(p, 2);
    apr_table_add(h, "MS-Server-ActiveSync", "15.1");
    x.response_headers = h;
    apr_size_t len = 0;
    char *r = zx_acctlog_format(p, &x, ZX_ACCTLOG_TRACE, &len);
    ck_assert_ptr_nonnull(strstr(r, "\n> Cmd: Sync\n"));
    ck_assert_ptr_nonnull(strstr(r, "\n> Credentials: Basic, login john (password not logged)\n"));
    ck_assert_ptr_null(strstr(r, "am9objpzZWNyZXQ="));
    ck_assert_ptr_null(strstr(r, "Authorization"));
    ck_assert_ptr_nonnull(strstr(r, "\n< HTTP 200\n< Content-Type: application/vnd.ms-sync.wbxml\n"
                                    "< MS-Server-ActiveSync: 15.1\n"));
    ck_assert_ptr_nonnull(strstr(r, "<SyncKey>req-key-7</SyncKey>"));
}
END_TEST

START_TEST(test_levels_filter)
{
    zx_acctlog_exchange x;
    sync_exchange(&x);
    apr_size_t len;
    /* a success: info and up only */
    ck_assert_ptr_null(zx_acctlog_format(p, &x, ZX_ACCTLOG_WARN, &len));
    ck_assert_ptr_null(zx_acctlog_format(p, &x, ZX_ACCTLOG_ERR, &len));
    ck_assert_ptr_null(zx_acctlog_format(p, &x, ZX_ACCTLOG_CRIT, &len));
    /* an EAS failure (Sync 3): warn records it, err does not */
    x.eas_status = 3;
    x.eas_ok = 0;
    ck_assert_int_eq(zx_acctlog_severity(&x), ZX_ACCTLOG_WARN);
    char *r = zx_acctlog_format(p, &x, ZX_ACCTLOG_WARN, &len);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(lines(r), 1);
    ck_assert_ptr_nonnull(strstr(r, "Z WARN account="));
    ck_assert_ptr_null(zx_acctlog_format(p, &x, ZX_ACCTLOG_ERR, &len));
    /* HTTP 4xx: warn */
    x.eas_status = -1;
    x.eas_ok = 1;
    x.http_status = 401;
    ck_assert_int_eq(zx_acctlog_severity(&x), ZX_ACCTLOG_WARN);
    /* a server failure: every level */
    x.http_status = 503;
    ck_assert_int_eq(zx_acctlog_severity(&x), ZX_ACCTLOG_ERR);
    r = zx_acctlog_format(p, &x, ZX_ACCTLOG_CRIT, &len);
    ck_assert_ptr_nonnull(r);
    ck_assert_ptr_nonnull(strstr(r, "Z ERROR account="));
    ck_assert_ptr_nonnull(zx_acctlog_format(p, &x, ZX_ACCTLOG_ERR, &len));
    x.http_status = 200;
    x.eas_status = 111;
    x.eas_ok = 0;
    ck_assert_int_eq(zx_acctlog_severity(&x), ZX_ACCTLOG_ERR);
}
END_TEST

START_TEST(test_escaping)
{
    zx_acctlog_exchange x;
    sync_exchange(&x);
    x.device_id = "evil\nINFO account=other";
    x.user_agent = NULL;
    x.proto = "";
    zx_wb_node *rq = zx_wb_new(p, ZX_Settings_Settings);
    zx_wb_add_text(p, rq, ZX_Settings_Model, "line1\r\nline2\001");
    x.request_doc = rq;
    apr_size_t len;
    char *r = zx_acctlog_format(p, &x, ZX_ACCTLOG_INFO, &len);
    ck_assert_int_eq(lines(r), 1);
    ck_assert_ptr_nonnull(strstr(r, "device=evil\\x0AINFO\\x20account=other "));
    ck_assert_ptr_nonnull(strstr(r, " proto=- "));
    ck_assert_ptr_nonnull(strstr(r, " ua=-\n"));
    r = zx_acctlog_format(p, &x, ZX_ACCTLOG_DEBUG, &len);
    /* a multi-line text stays inside prefixed lines; control characters are escaped */
    ck_assert_ptr_nonnull(strstr(r, "line1\n> line2\\x01"));
}
END_TEST

START_TEST(test_password_redacted)
{
    zx_acctlog_exchange x;
    sync_exchange(&x);
    zx_wb_node *rq = zx_wb_new(p, ZX_Settings_Settings);
    zx_wb_node *dp = zx_wb_add(p, zx_wb_add(p, rq, ZX_Settings_DevicePassword), ZX_Settings_Set);
    zx_wb_add_text(p, dp, ZX_Settings_Password, "Sup3rSecret");
    x.request_doc = rq;
    zx_wb_node *io = zx_wb_new(p, ZX_ItemOperations_ItemOperations);
    zx_wb_node *opt = zx_wb_add(p, zx_wb_add(p, io, ZX_ItemOperations_Fetch),
                                ZX_ItemOperations_Options);
    zx_wb_add_text(p, opt, ZX_ItemOperations_UserName, "john");
    zx_wb_add_text(p, opt, ZX_ItemOperations_Password, "An0therSecret");
    x.response_doc = io;
    apr_size_t len;
    char *r = zx_acctlog_format(p, &x, ZX_ACCTLOG_TRACE, &len);
    ck_assert_ptr_null(strstr(r, "Sup3rSecret"));
    ck_assert_ptr_null(strstr(r, "An0therSecret"));
    ck_assert_int_eq(count(r, "<Password>***</Password>"), 2);
    ck_assert_ptr_nonnull(strstr(r, "<UserName>john</UserName>"));
    /* the trees themselves are untouched */
    ck_assert_str_eq(zx_wb_child_text(p, dp, ZX_Settings_Password), "Sup3rSecret");
}
END_TEST

START_TEST(test_bodies_without_wbxml)
{
    zx_acctlog_exchange x;
    sync_exchange(&x);
    x.cmd = "SendMail";
    x.proto = "12.1";
    x.request_doc = NULL;
    x.request_body = (const unsigned char *)"Subject: hi\r\n\r\nbody text\r\n";
    x.request_len = strlen((const char *)x.request_body);
    x.request_type = "message/rfc822";
    x.response_doc = NULL;
    x.response_body = NULL;
    x.response_len = 0;
    x.response_type = NULL;
    x.eas_status = -1;
    apr_size_t len;
    char *r = zx_acctlog_format(p, &x, ZX_ACCTLOG_DEBUG, &len);
    ck_assert_ptr_nonnull(strstr(r, "\n> (message/rfc822, 26 bytes)\n< (no body)\n"));
    ck_assert_ptr_null(strstr(r, "body text"));
    r = zx_acctlog_format(p, &x, ZX_ACCTLOG_TRACE, &len);
    ck_assert_ptr_nonnull(strstr(r, "\n> Subject: hi\n> \n> body text\n"));
}
END_TEST

START_TEST(test_append)
{
    char dir[] = "/tmp/zx-acctlog-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const char *path = apr_pstrcat(p, dir, "/a.log", NULL);
    ck_assert_int_eq(zx_acctlog_append(dir, path, "one\n", 4), 0);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0640);
    /* rotated away: the next record goes to a new file at the path */
    const char *old = apr_pstrcat(p, dir, "/a.log.1", NULL);
    ck_assert_int_eq(rename(path, old), 0);
    ck_assert_int_eq(zx_acctlog_append(dir, path, "two\n", 4), 0);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_size, 4);
    ck_assert_int_eq(stat(old, &st), 0);
    ck_assert_int_eq(st.st_size, 4);
    /* concurrent writers: whole records, never interleaved */
    unlink(path);
    char rec[4000];
    for (int k = 0; k < 4; k++) {
        if (fork() == 0) {
            memset(rec, 'a' + k, sizeof rec - 1);
            rec[sizeof rec - 1] = '\n';
            for (int i = 0; i < 200; i++)
                if (zx_acctlog_append(dir, path, rec, sizeof rec) != 0)
                    _exit(1);
            _exit(0);
        }
    }
    for (int k = 0; k < 4; k++) {
        int status = 0;
        wait(&status);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char line[5000];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        size_t same = 1;
        while (same < sizeof rec - 1 && line[same] == line[0])
            same++;
        ck_assert_uint_eq(strlen(line), sizeof rec);
        ck_assert_uint_eq(same, sizeof rec - 1);
        n++;
    }
    fclose(f);
    ck_assert_int_eq(n, 800);
    /* a symbolic link is not followed; a missing directory is an error */
    const char *link = apr_pstrcat(p, dir, "/link.log", NULL);
    ck_assert_int_eq(symlink(path, link), 0);
    ck_assert_int_eq(zx_acctlog_append(dir, link, "x\n", 2), ELOOP);
    ck_assert_int_eq(zx_acctlog_append(dir, apr_pstrcat(p, dir, "/no/such.log", NULL), "x\n", 2),
                     ENOENT);
    unlink(link);
    unlink(path);
    unlink(old);
    rmdir(dir);
}
END_TEST

START_TEST(test_prepare_file)
{
    const char *err = NULL;
    ck_assert_int_eq(zx_acctlog_prepare_file(p, "/", "relative.log", "root", &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "not an absolute path"));
    ck_assert_int_eq(zx_acctlog_prepare_file(p, "/", "/tmp/x.log", "no-such-user-zx", &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "ZXMOBILE_HTTPD_USER"));
    ck_assert_int_eq(zx_acctlog_prepare_file(p, "/", "/tmp", "root", &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
    ck_assert_int_eq(zx_acctlog_prepare_file(p, "/", "/nonexistent-zx/dir/x.log", "root", &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "No such file or directory"));
}
END_TEST

/* Issue 13, item 9: a logger's file only inside the logger directory, no symbolic link on the
 * way, every logged value on its line. */
START_TEST(test_directory_and_symlinks)
{
    const char *err = NULL;
    /* the path check */
    ck_assert_int_eq(zx_acctlog_path_allowed(p, "/var/log/zx", "/var/log/zx/a.log", &err), 0);
    ck_assert_int_eq(zx_acctlog_path_allowed(p, "/var/log/zx/", "/var/log/zx/sub/a.log", &err), 0);
    ck_assert_int_eq(zx_acctlog_path_allowed(p, "/", "/a.log", &err), 0);
    static const char *const outside[] = {
        "/etc/cron.d/x", "/var/log/zxx/a.log", "/var/log/zx", "/var/log/zx/", "/var/log/zx/../../x",
        "/var/log/zx/./a.log", "/var/log/zx//a.log", "/var/log/zx/a/..", "var/log/zx/a.log"};
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
        err = NULL;
        ck_assert_msg(zx_acctlog_path_allowed(p, "/var/log/zx", outside[i], &err) == -1,
                      "%s accepted", outside[i]);
        ck_assert_ptr_nonnull(err);
    }
    ck_assert_int_eq(zx_acctlog_path_allowed(p, "/var/log/zx", "/etc/cron.d/x", &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "is not in the account logger directory /var/log/zx"));
    ck_assert_int_eq(zx_acctlog_path_allowed(p, "var/log", "/var/log/a", &err), -1);
    ck_assert_int_eq(zx_acctlog_path_allowed(p, "/var/../etc", "/etc/a", &err), -1);
    ck_assert_int_eq(zx_acctlog_prepare_file(p, "/var/log/zx", "/etc/cron.d/zx-test", "root", &err),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "not in the account logger directory"));
    ck_assert_int_eq(access("/etc/cron.d/zx-test", F_OK), -1);

    /* appending: outside the directory EPERM, a symbolic link on the way ELOOP */
    char dir[] = "/tmp/zx-acctlog-XXXXXX", other[] = "/tmp/zx-acctlog-o-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_ptr_nonnull(mkdtemp(other));
    const char *sub = apr_pstrcat(p, dir, "/sub", NULL);
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    ck_assert_int_eq(zx_acctlog_append(dir, apr_pstrcat(p, sub, "/a.log", NULL), "x\n", 2), 0);
    ck_assert_int_eq(zx_acctlog_append(dir, apr_pstrcat(p, other, "/a.log", NULL), "x\n", 2), EPERM);
    ck_assert_int_eq(access(apr_pstrcat(p, other, "/a.log", NULL), F_OK), -1);
    const char *lsub = apr_pstrcat(p, dir, "/lsub", NULL);
    ck_assert_int_eq(symlink(other, lsub), 0);          /* dir/lsub -> other */
    ck_assert_int_eq(zx_acctlog_append(dir, apr_pstrcat(p, lsub, "/a.log", NULL), "x\n", 2), ELOOP);
    ck_assert_int_eq(access(apr_pstrcat(p, other, "/a.log", NULL), F_OK), -1);
    ck_assert_int_eq(zx_acctlog_prepare_file(p, dir, apr_pstrcat(p, lsub, "/b.log", NULL), "root",
                                             &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "symbolic link"));
    ck_assert_int_eq(access(apr_pstrcat(p, other, "/b.log", NULL), F_OK), -1);
    /* the directory's own path is walked too */
    const char *ldir = apr_pstrcat(p, other, "/ldir", NULL);
    ck_assert_int_eq(symlink(dir, ldir), 0);
    ck_assert_int_eq(zx_acctlog_append(ldir, apr_pstrcat(p, ldir, "/sub/a.log", NULL), "x\n", 2),
                     ELOOP);
    unlink(ldir);
    unlink(lsub);
    unlink(apr_pstrcat(p, sub, "/a.log", NULL));
    rmdir(sub);
    rmdir(dir);
    rmdir(other);
}
END_TEST

START_TEST(test_values_cannot_forge_lines)
{
    zx_acctlog_exchange x;
    memset(&x, 0, sizeof x);
    x.start = apr_time_from_sec(1700000000);
    x.account = "john@example.com";
    x.cmd = "FolderSync";
    x.http_status = 200;
    x.eas_status = -1;
    x.user_agent = "UA\n2026-01-01T00:00:00.000Z INFO account=forged\xc2\x85x\xe2\x80\xa8y\xff"
                   "\xc3\xa9\xef\xbf\xbd";
    apr_table_t *info = apr_table_make(p, 2);
    apr_table_set(info, "User-Agent", x.user_agent);
    x.request_info = info;
    apr_size_t len;
    char *r = zx_acctlog_format(p, &x, ZX_ACCTLOG_TRACE, &len);
    /* every line is the record's line or a "> " / "< " line */
    int lines = 0;
    for (char *line = r; *line; lines++) {
        char *nl = strchr(line, '\n');
        ck_assert_ptr_nonnull(nl);
        ck_assert_msg(strncmp(line, "2023-", 5) == 0 || strncmp(line, "> ", 2) == 0 ||
                      strncmp(line, "< ", 2) == 0, "forged line: %.*s", (int)(nl - line), line);
        line = nl + 1;
    }
    ck_assert_int_ge(lines, 2);
    ck_assert_ptr_nonnull(strstr(r, "ua=UA\\x0A2026-01-01T00:00:00.000Z\\x20INFO\\x20account=forged"
                                    "\\xC2\\x85x\\xE2\\x80\\xA8y\\xFF\xc3\xa9\xef\xbf\xbd\n"));
    ck_assert_ptr_nonnull(strstr(r, "> User-Agent: UA\\x0A2026-01-01T00:00:00.000Z INFO "
                                    "account=forged\\xC2\\x85x\\xE2\\x80\\xA8y\\xFF\xc3\xa9\xef\xbf\xbd\n"));
}
END_TEST

static Suite *acctlog_suite(void)
{
    Suite *s = suite_create("acctlog");
    TCase *tc = tcase_create("records");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_levels);
    tcase_add_test(tc, test_eas_status);
    tcase_add_test(tc, test_info_line);
    tcase_add_test(tc, test_debug_record);
    tcase_add_test(tc, test_trace_record);
    tcase_add_test(tc, test_levels_filter);
    tcase_add_test(tc, test_escaping);
    tcase_add_test(tc, test_password_redacted);
    tcase_add_test(tc, test_bodies_without_wbxml);
    tcase_add_test(tc, test_append);
    tcase_add_test(tc, test_prepare_file);
    tcase_add_test(tc, test_directory_and_symlinks);
    tcase_add_test(tc, test_values_cannot_forge_lines);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    apr_initialize();
    return zx_run_tap(acctlog_suite());
}
