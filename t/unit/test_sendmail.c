/* zxmobile - unit tests of mail out (libzxsync/mta/): running the sendmail command
 * (zxsync/sendmail.h: zx_sendmail_run, with t/tools/fake-sendmail as the command) and the
 * recipient lists (zxsync/recipients.h: zx_recipients_parse), Check printing TAP. */
#include <zxsync/recipients.h>
#include <zxsync/sendmail.h>

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

/* The addresses zx_recipients_parse finds in value, joined by '|' (and the invalid pieces). */
static const char *parsed(const char *value, const char **invalid)
{
    apr_array_header_t *bad = NULL;
    apr_array_header_t *a = zx_recipients_parse(g_pool, value, &bad);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(bad);
    const char *out = "", *rej = "";
    for (int i = 0; i < a->nelts; i++)
        out = apr_pstrcat(g_pool, out, i ? "|" : "", APR_ARRAY_IDX(a, i, const char *), NULL);
    for (int i = 0; i < bad->nelts; i++)
        rej = apr_pstrcat(g_pool, rej, i ? "|" : "", APR_ARRAY_IDX(bad, i, const char *), NULL);
    if (invalid)
        *invalid = rej;
    return out;
}

START_TEST(test_recipients_format)
{
    const char *bad = NULL;
    /* nothing */
    ck_assert_str_eq(parsed(NULL, &bad), "");
    ck_assert_str_eq(parsed("", &bad), "");
    ck_assert_str_eq(parsed(" \n\t,;", &bad), "");
    ck_assert_str_eq(bad, "");
    /* one per line: the multi-valued attribute as stored */
    ck_assert_str_eq(parsed("a@x.test\nb@y.test\n", &bad), "a@x.test|b@y.test");
    ck_assert_str_eq(parsed("a@x.test\r\nb@y.test", &bad), "a@x.test|b@y.test");
    /* commas, semicolons, spaces, in one value and mixed with lines */
    ck_assert_str_eq(parsed("a@x.test,b@y.test", &bad), "a@x.test|b@y.test");
    ck_assert_str_eq(parsed("a@x.test, b@y.test ; c@z.test\td@w.test", &bad),
                     "a@x.test|b@y.test|c@z.test|d@w.test");
    ck_assert_str_eq(parsed(" a@x.test;;b@y.test,\n c@z.test ", &bad),
                     "a@x.test|b@y.test|c@z.test");
    ck_assert_str_eq(bad, "");
    /* angle brackets; a display name is not an address */
    ck_assert_str_eq(parsed("Admin <a@x.test>, <b@y.test>", &bad), "a@x.test|b@y.test");
    ck_assert_str_eq(bad, "Admin");
    /* invalid pieces are skipped, the rest kept in order */
    ck_assert_str_eq(parsed("nobody, a@x.test, @x.test, b@, c@@y.test, d@y@z, -oQ@x.test, "
                            "\"q\"@x.test, e(f)@x.test, b@y.test", &bad),
                     "a@x.test|b@y.test");
    ck_assert_str_eq(bad, "nobody|@x.test|b@|c@@y.test|d@y@z|-oQ@x.test|\"q\"@x.test|"
                          "e(f)@x.test");
    ck_assert_str_eq(parsed("caf\xc3\xa9@x.test a@x.test", &bad), "a@x.test");
    /* a repeated address counts once (the first spelling, the first place) */
    ck_assert_str_eq(parsed("A@x.test\nb@y.test, a@X.TEST", &bad), "A@x.test|b@y.test");
    /* invalid may be NULL */
    ck_assert_int_eq(zx_recipients_parse(g_pool, "a@x.test bad", NULL)->nelts, 1);
    ck_assert_int_eq(zx_recipient_valid("a@x.test"), 1);
    ck_assert_int_eq(zx_recipient_valid("<a@x.test>"), 0);
    ck_assert_int_eq(zx_recipient_valid(NULL), 0);
}
END_TEST

START_TEST(test_reads_recipients)
{
    ck_assert_int_eq(zx_sendmail_reads_recipients(g_pool, "/usr/sbin/sendmail -t -i"), 1);
    ck_assert_int_eq(zx_sendmail_reads_recipients(g_pool, "/usr/sbin/sendmail -i"), 0);
    ck_assert_int_eq(zx_sendmail_reads_recipients(g_pool, "/usr/sbin/sendmail \"-t\""), 1);
    ck_assert_int_eq(zx_sendmail_reads_recipients(g_pool, NULL), 0);
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
    TCase *rc = tcase_create("recipients");
    tcase_add_checked_fixture(rc, setup, teardown);
    tcase_add_test(rc, test_recipients_format);
    tcase_add_test(rc, test_reads_recipients);
    suite_add_tcase(s, rc);
    return zx_run_tap(s);
}
