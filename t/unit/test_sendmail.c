/* zxmobile - unit tests of running the sendmail command (eas/compose.h: zx_sendmail_run),
 * with t/tools/fake-sendmail as the command, Check printing TAP. */
#include "../../libzxsync/eas/compose.h"

#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap_run.h"

#define FAKE ZX_SRCDIR "/t/tools/fake-sendmail"

static apr_pool_t *g_pool;
static char g_dir[] = "/tmp/zx-sendmail-XXXXXX";

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&g_pool, NULL), APR_SUCCESS);
    strcpy(g_dir, "/tmp/zx-sendmail-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
}

static void teardown(void)
{
    unlink(apr_pstrcat(g_pool, g_dir, "/log", NULL));
    unlink(apr_pstrcat(g_pool, g_dir, "/exit", NULL));
    rmdir(g_dir);
    apr_pool_destroy(g_pool);
    g_pool = NULL;
}

static const char *cmdline(const char *extra)
{
    return apr_psprintf(g_pool, "%s --log %s/log --exit-file %s/exit %s", FAKE, g_dir, g_dir,
                        extra);
}

static char *read_log(void)
{
    char *data = NULL;
    apr_file_t *f;
    apr_finfo_t fi;
    const char *path = apr_pstrcat(g_pool, g_dir, "/log", NULL);
    if (apr_file_open(&f, path, APR_READ, 0, g_pool) != APR_SUCCESS)
        return NULL;
    apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    data = apr_pcalloc(g_pool, (apr_size_t)fi.size + 1);
    apr_size_t n = (apr_size_t)fi.size;
    apr_file_read_full(f, data, n, &n);
    apr_file_close(f);
    return data;
}

static apr_array_header_t *rcpts(const char *a, const char *b)
{
    apr_array_header_t *r = apr_array_make(g_pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(r, const char *) = a;
    if (b)
        APR_ARRAY_PUSH(r, const char *) = b;
    return r;
}

START_TEST(test_arguments_and_stdin)
{
    const char *err = NULL;
    const char *msg = "Subject: hi\n\nbody\n.\nmore\n";
    ck_assert_int_eq(zx_sendmail_run(g_pool, cmdline(""), "me@example.com",
                                     rcpts("a@example.org", "b@example.net"), msg, strlen(msg),
                                     &err), 0);
    char *log = read_log();
    ck_assert_ptr_nonnull(log);
    /* -i (a lone "." is text), -f sender, then the recipients */
    ck_assert_ptr_nonnull(strstr(log, "\"argv\": [\"-i\", \"-f\", \"me@example.com\", "
                                      "\"a@example.org\", \"b@example.net\"]"));
    ck_assert_ptr_nonnull(strstr(log, "body\\n.\\nmore"));
}
END_TEST

START_TEST(test_t_option_takes_recipients_from_the_message)
{
    const char *err = NULL;
    ck_assert_int_eq(zx_sendmail_run(g_pool, cmdline("-t -i"), "me@example.com",
                                     rcpts("a@example.org", NULL), "x\n", 2, &err), 0);
    char *log = read_log();
    ck_assert_ptr_nonnull(strstr(log, "\"argv\": [\"-t\", \"-i\", \"-f\", \"me@example.com\"]"));
}
END_TEST

START_TEST(test_large_message)
{
    /* more than a pipe holds: written while the command reads */
    apr_size_t len = 3u * 1024u * 1024u;
    char *msg = apr_palloc(g_pool, len);
    for (apr_size_t i = 0; i < len; i++)
        msg[i] = (i % 64 == 63) ? '\n' : (char)('a' + i % 26);
    const char *err = NULL;
    ck_assert_int_eq(zx_sendmail_run(g_pool, cmdline(""), "me@example.com",
                                     rcpts("a@example.org", NULL), msg, len, &err), 0);
    char *log = read_log();
    ck_assert_ptr_nonnull(log);
    ck_assert_uint_gt(strlen(log), len);
}
END_TEST

START_TEST(test_failures)
{
    const char *err = NULL;
    apr_file_t *f;
    /* an exit status other than 0 */
    ck_assert_int_eq(apr_file_open(&f, apr_pstrcat(g_pool, g_dir, "/exit", NULL),
                                   APR_WRITE | APR_CREATE | APR_TRUNCATE, APR_OS_DEFAULT,
                                   g_pool), APR_SUCCESS);
    apr_file_puts("75\n", f);
    apr_file_close(f);
    ck_assert_int_eq(zx_sendmail_run(g_pool, cmdline(""), "me@example.com",
                                     rcpts("a@example.org", NULL), "x\n", 2, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "exited with status 75"));
    ck_assert_ptr_nonnull(strstr(err, "failing with status 75"));   /* its stderr */
    ck_assert_ptr_null(read_log());
    /* a program that does not exist, a relative path, nothing configured */
    err = NULL;
    ck_assert_int_eq(zx_sendmail_run(g_pool, "/nonexistent/sendmail -t", "me@example.com",
                                     NULL, "x\n", 2, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "cannot run /nonexistent/sendmail"));
    ck_assert_int_eq(zx_sendmail_run(g_pool, "sendmail -t", "me@example.com", NULL, "x\n", 2,
                                     &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "absolute program path"));
    ck_assert_int_eq(zx_sendmail_run(g_pool, NULL, "me@example.com", NULL, "x\n", 2, &err), -1);
    /* exits 0 without reading the message: not accepted */
    apr_size_t len = 1024u * 1024u;
    char *msg = apr_pcalloc(g_pool, len);
    memset(msg, 'x', len);
    ck_assert_int_eq(zx_sendmail_run(g_pool, "/bin/true", "me@example.com", NULL, msg, len,
                                     &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "did not read the whole message"));
    /* killed by a signal */
    ck_assert_int_eq(zx_sendmail_run(g_pool, "/bin/sh -c \"kill -9 $$\"", "me@example.com",
                                     NULL, "x\n", 2, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "killed by signal 9"));
}
END_TEST

int main(void)
{
    apr_initialize();
    /* as in httpd: a reader that went away is an error code, not a signal */
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("sendmail");
    TCase *tc = tcase_create("run");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_arguments_and_stdin);
    tcase_add_test(tc, test_t_option_takes_recipients_from_the_message);
    tcase_add_test(tc, test_large_message);
    tcase_add_test(tc, test_failures);
    suite_add_tcase(s, tc);
    return zx_run_tap(s);
}
