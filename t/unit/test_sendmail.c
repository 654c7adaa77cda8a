/* zxmobile - unit tests of mail out (libzxsync/mta/): running the sendmail command
 * (zxsync/sendmail.h: zx_sendmail_run, with t/tools/fake-sendmail as the command), the
 * recipient lists (zxsync/recipients.h: zx_recipients_parse) and the transport specs and
 * checks (zxsync/transport.h), Check printing TAP. */
#include <zxsync/recipients.h>
#include <zxsync/sendmail.h>
#include <zxsync/transport.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/stat.h>

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
    static const char *const files[] = {"nox", "world", "nocolon", "good"};
    for (unsigned i = 0; i < sizeof files / sizeof *files; i++)
        unlink(apr_pstrcat(g_pool, g_dir, "/", files[i], NULL));
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

/* ---- the transport ------------------------------------------------------------------- */

static zx_transport parse_ok(const char *spec)
{
    zx_transport t;
    const char *err = NULL;
    ck_assert_msg(zx_transport_parse(g_pool, spec, &t, &err) == 0, "%s: %s", spec, err);
    return t;
}

static const char *parse_err(const char *spec)
{
    zx_transport t;
    const char *err = NULL;
    ck_assert_msg(zx_transport_parse(g_pool, spec, &t, &err) < 0, "%s accepted", spec);
    ck_assert_ptr_nonnull(err);
    return err;
}

START_TEST(test_transport_specs)
{
    ck_assert_int_eq(parse_ok(NULL).kind, ZX_TRANSPORT_NONE);
    ck_assert_int_eq(parse_ok("  ").kind, ZX_TRANSPORT_NONE);
    ck_assert_int_eq(parse_ok("NONE").kind, ZX_TRANSPORT_NONE);
    zx_transport t = parse_ok("sendmail: /usr/sbin/sendmail -t -i ");
    ck_assert_int_eq(t.kind, ZX_TRANSPORT_SENDMAIL);
    ck_assert_str_eq(t.command, "/usr/sbin/sendmail -t -i");
    ck_assert_int_eq(zx_transport_reads_recipients(g_pool, &t), 1);
    t = parse_ok("/usr/sbin/sendmail -i");
    ck_assert_int_eq(t.kind, ZX_TRANSPORT_SENDMAIL);
    ck_assert_int_eq(zx_transport_reads_recipients(g_pool, &t), 0);
    t = parse_ok("smtp://mail.example.com");
    ck_assert_int_eq(t.kind, ZX_TRANSPORT_SMTP);
    ck_assert_str_eq(t.host, "mail.example.com");
    ck_assert_uint_eq(t.port, 587);
    ck_assert_str_eq(t.url, "smtp://mail.example.com:587");
    ck_assert_int_eq(zx_transport_reads_recipients(g_pool, &t), 0);
    t = parse_ok("SMTPS://10.0.0.1");
    ck_assert_int_eq(t.kind, ZX_TRANSPORT_SMTPS);
    ck_assert_str_eq(t.url, "smtps://10.0.0.1:465");
    t = parse_ok("smtp://[::1]:2525/");
    ck_assert_str_eq(t.url, "smtp://[::1]:2525");
    ck_assert_str_eq(zx_transport_describe(g_pool, &t), "smtp://[::1]:2525 (STARTTLS required)");
    ck_assert_ptr_nonnull(strstr(parse_err("sendmail:sendmail -t"), "absolute program path"));
    ck_assert_ptr_nonnull(strstr(parse_err("sendmail:"), "absolute program path"));
    ck_assert_ptr_nonnull(strstr(parse_err("smtp://"), "no host name"));
    ck_assert_ptr_nonnull(strstr(parse_err("smtp://:25"), "no host name"));
    ck_assert_ptr_nonnull(strstr(parse_err("smtp://h:0"), "from 1 to 65535"));
    ck_assert_ptr_nonnull(strstr(parse_err("smtp://h:65536"), "from 1 to 65535"));
    ck_assert_ptr_nonnull(strstr(parse_err("smtp://h:25x"), "nothing may follow"));
    ck_assert_ptr_nonnull(strstr(parse_err("smtp://u:p@h"), "credentials go in the file"));
    ck_assert_ptr_nonnull(strstr(parse_err("smtp://h/x"), "nothing may follow"));
    ck_assert_ptr_nonnull(strstr(parse_err("smtp://h_x"), "not allowed"));
    ck_assert_ptr_nonnull(strstr(parse_err("smtp://[zz]"), "IPv6"));
    ck_assert_ptr_nonnull(strstr(parse_err("lmtp://h"), "is no transport"));
}
END_TEST

static const char *write_file(const char *name, const char *text, int mode)
{
    const char *path = apr_pstrcat(g_pool, g_dir, "/", name, NULL);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    chmod(path, (mode_t)mode);
    return path;
}

START_TEST(test_transport_checks)
{
    zx_transport t = parse_ok("none");
    ck_assert_ptr_null(zx_transport_check(g_pool, &t));
    t = parse_ok("sendmail:/nonexistent/sendmail -i");
    ck_assert_ptr_nonnull(strstr(zx_transport_check(g_pool, &t), "does not exist"));
    t = parse_ok(apr_pstrcat(g_pool, "sendmail:", write_file("nox", "#!/bin/sh\n", 0644), NULL));
    ck_assert_ptr_nonnull(strstr(zx_transport_check(g_pool, &t), "not an executable file"));
    t = parse_ok(FAKE " -i");
    ck_assert_ptr_null(zx_transport_check(g_pool, &t));
    t = parse_ok("smtp://mail.example.com");
    t.credentials = write_file("world", "u:p\n", 0644);
    ck_assert_ptr_nonnull(strstr(zx_transport_check(g_pool, &t), "readable by everyone"));
    t.credentials = write_file("nocolon", "password\n", 0600);
    ck_assert_ptr_nonnull(strstr(zx_transport_check(g_pool, &t), "user:password"));
    t.credentials = write_file("good", "me@example.com:pa:ss word\r\nignored\n", 0640);
    ck_assert_ptr_null(zx_transport_check(g_pool, &t));
    ck_assert_str_eq(t.user, "me@example.com");
    ck_assert_str_eq(t.password, "pa:ss word");
    t.ca_file = apr_pstrcat(g_pool, g_dir, "/missing.pem", NULL);
    ck_assert_ptr_nonnull(strstr(zx_transport_check(g_pool, &t), "CA file"));
}
END_TEST

START_TEST(test_transport_send_statuses)
{
    const char *err = NULL;
    apr_array_header_t *rcpts = apr_array_make(g_pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(rcpts, const char *) = "a@example.org";
    const char *msg = "Subject: x\n\nhi\n";
    /* none: refused for good */
    zx_transport t = parse_ok("none");
    ck_assert_int_eq(zx_transport_send(g_pool, &t, "me@example.com", rcpts, msg, strlen(msg),
                                       &err), ZX_SEND_PERMFAIL);
    /* no address that could become a second SMTP command or a command line option */
    t = parse_ok("smtp://127.0.0.1:1");
    apr_array_header_t *bad = apr_array_make(g_pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(bad, const char *) = "a@example.org>\r\nRCPT TO:<b@example.org";
    ck_assert_int_eq(zx_transport_send(g_pool, &t, "me@example.com", bad, msg, strlen(msg),
                                       &err), ZX_SEND_PERMFAIL);
    ck_assert_ptr_nonnull(strstr(err, "not a valid recipient"));
    ck_assert_int_eq(zx_transport_send(g_pool, &t, "-oQ/tmp@example.com", rcpts, msg,
                                       strlen(msg), &err), ZX_SEND_PERMFAIL);
    /* sendmail: 75 (EX_TEMPFAIL) and a program that cannot run are temporary, 1 is not */
    t = parse_ok("sendmail:/bin/sh -c \"exit 75\"");
    ck_assert_int_eq(zx_transport_send(g_pool, &t, "me@example.com", rcpts, msg, strlen(msg),
                                       &err), ZX_SEND_TEMPFAIL);
    t = parse_ok("sendmail:/bin/sh -c \"cat >/dev/null; exit 1\"");
    ck_assert_int_eq(zx_transport_send(g_pool, &t, "me@example.com", rcpts, msg, strlen(msg),
                                       &err), ZX_SEND_PERMFAIL);
    ck_assert_ptr_nonnull(strstr(err, "exited with status 1"));
    t = parse_ok("sendmail:/nonexistent/sendmail");
    ck_assert_int_eq(zx_transport_send(g_pool, &t, "me@example.com", rcpts, msg, strlen(msg),
                                       &err), ZX_SEND_TEMPFAIL);
    t = parse_ok("sendmail:/bin/sh -c \"cat >/dev/null\"");
    ck_assert_int_eq(zx_transport_send(g_pool, &t, "me@example.com", rcpts, msg, strlen(msg),
                                       &err), ZX_SEND_OK);
    /* SMTP with nobody listening: temporary */
    ck_assert_int_eq(zx_transport_global_init(&err), 0);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    close(fd);              /* a port that was free a moment ago */
    t = parse_ok(apr_psprintf(g_pool, "smtp://127.0.0.1:%u", (unsigned)ntohs(sa.sin_port)));
    t.timeout = 5;
    ck_assert_int_eq(zx_transport_send(g_pool, &t, "me@example.com", rcpts, msg, strlen(msg),
                                       &err), ZX_SEND_TEMPFAIL);
    ck_assert_ptr_nonnull(strstr(err, "smtp://127.0.0.1:"));
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
    TCase *tt = tcase_create("transport");
    tcase_add_checked_fixture(tt, setup, teardown);
    tcase_set_timeout(tt, 60);
    tcase_add_test(tt, test_transport_specs);
    tcase_add_test(tt, test_transport_checks);
    tcase_add_test(tt, test_transport_send_statuses);
    suite_add_tcase(s, tt);
    return zx_run_tap(s);
}
