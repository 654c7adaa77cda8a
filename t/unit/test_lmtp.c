/* zxmobile - unit tests of the LMTP protocol engine (zxsync/lmtp.h): replies and their order,
 * pipelining, input cut anywhere, dot-stuffing, line endings, size limits, sequence errors,
 * temporary failures at RCPT and after the message, one copy per account, the database lent
 * only while a transaction works.  The directory and the delivery are fakes given through the
 * engine's callbacks (the real ones run in t/e2e/test_lmtp.py).  Check, TAP. */
#include <zxsync/lmtp.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <check.h>
#include <string.h>

#include "tap_run.h"

static apr_pool_t *g_pool;

/* ---- the fake directory and mailbox ------------------------------------------------------- */

typedef struct {
    int db_down;                 /* acquire fails */
    int resolve_fails;           /* resolve answers -1 */
    int leased;                  /* connections lent now */
    int acquired;                /* ever */
    const char *tempfail;        /* deliver answers TEMPFAIL for this address */
    apr_array_header_t *to;      /* delivered: address */
    apr_array_header_t *data;    /* delivered: the message */
    char fake_db;
} fake;

static fake g_fake;

static zx_db *f_acquire(void *baton, apr_pool_t *p, const char **err)
{
    fake *f = baton;
    if (f->db_down) {
        *err = "could not connect to server: No such file or directory";
        return NULL;
    }
    f->leased++;
    f->acquired++;
    return (zx_db *)&f->fake_db;
}

static void f_release(void *baton, apr_pool_t *p, zx_db *db)
{
    fake *f = baton;
    ck_assert_ptr_eq(db, (zx_db *)&f->fake_db);
    f->leased--;
}

static int f_resolve(void *baton, apr_pool_t *p, zx_db *db, const char *address,
                     const char **name, const char **id, const char **err)
{
    fake *f = baton;
    ck_assert_ptr_eq(db, (zx_db *)&f->fake_db);
    if (f->resolve_fails) {
        *err = "57P01: terminating connection due to administrator command";
        return -1;
    }
    if (strcasecmp(address, "a@x.test") == 0 || strcasecmp(address, "alias@x.test") == 0) {
        *name = "a@x.test";
        *id = "1";
        return 1;
    }
    if (strcasecmp(address, "b@x.test") == 0 || strcasecmp(address, "temp@x.test") == 0) {
        *name = address;
        *id = strcasecmp(address, "b@x.test") == 0 ? "2" : "3";
        return 1;
    }
    *err = apr_psprintf(p, "no such account: %s", address);
    return 0;
}

static zx_delivery_status f_deliver(void *baton, apr_pool_t *p, zx_db *db, const char *address,
                                    const char *data, apr_size_t len, zx_delivery *out,
                                    const char **err)
{
    fake *f = baton;
    ck_assert_ptr_eq(db, (zx_db *)&f->fake_db);
    if (f->tempfail && strcmp(address, f->tempfail) == 0) {
        *err = "40001: could not serialize access";
        return ZX_DELIVERY_TEMPFAIL;
    }
    APR_ARRAY_PUSH(f->to, const char *) = apr_pstrdup(g_pool, address);
    APR_ARRAY_PUSH(f->data, const char *) = apr_pstrmemdup(g_pool, data, len);
    out->account = address;
    out->item_id = "42";
    return ZX_DELIVERY_OK;
}

static void quiet(void *baton, zx_log_level level, const char *msg)
{
}

static zx_lmtp *session(apr_size_t max_size)
{
    zx_lmtp_settings set = {"mx.test", max_size, 0, NULL};
    zx_lmtp_ops ops = {f_acquire, f_release, f_resolve, f_deliver, quiet, &g_fake};
    return zx_lmtp_create(g_pool, &set, &ops);
}

/* Feed all of in (in pieces of step bytes; 0: at once), return every answer. */
static const char *talk(zx_lmtp *s, const char *in, apr_size_t step)
{
    apr_size_t len = strlen(in), off = 0;
    while (off < len) {
        apr_size_t n = step && len - off > step ? step : len - off;
        apr_size_t took = zx_lmtp_feed(s, in + off, n);
        off += n;
        if (took < n)
            break;
    }
    apr_size_t olen;
    const char *out = zx_lmtp_output(s, &olen);
    const char *r = out ? apr_pstrmemdup(g_pool, out, olen) : "";
    zx_lmtp_output_done(s);
    return r;
}

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&g_pool, NULL), APR_SUCCESS);
    memset(&g_fake, 0, sizeof g_fake);
    g_fake.to = apr_array_make(g_pool, 4, sizeof(const char *));
    g_fake.data = apr_array_make(g_pool, 4, sizeof(const char *));
}

static void teardown(void)
{
    apr_pool_destroy(g_pool);
    g_pool = NULL;
}

#define DELIVERED(i) APR_ARRAY_IDX(g_fake.data, (i), const char *)
#define DELIVERED_TO(i) APR_ARRAY_IDX(g_fake.to, (i), const char *)

/* ---- tests ------------------------------------------------------------------------------- */

START_TEST(test_greeting_and_lhlo)
{
    zx_lmtp *s = session(10000);
    zx_lmtp_greet(s);
    ck_assert_str_eq(talk(s, "LHLO mta.test\r\n", 0),
                     "220 mx.test LMTP zxmobile ready\r\n"
                     "250-mx.test\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n"
                     "250-8BITMIME\r\n250 SIZE 10000\r\n");
    ck_assert_str_eq(talk(s, "QUIT\r\nNOOP\r\n", 0), "221 2.0.0 mx.test closing connection\r\n");
    ck_assert_int_eq(zx_lmtp_closed(s), 1);
}
END_TEST

static const char *const TX =
    "LHLO mta.test\r\n"
    "MAIL FROM:<sender@else.test> SIZE=100 BODY=8BITMIME\r\n"
    "RCPT TO:<a@x.test>\r\n"
    "RCPT TO:<nobody@x.test>\r\n"
    "RCPT TO:<B@x.test>\r\n"
    "DATA\r\n"
    "Subject: caf\xc3\xa9\r\n"
    "\r\n"
    "..leading dot\r\n"
    ".\r\n"
    "QUIT\r\n";

static const char *const TX_REPLIES =
    "250 2.1.0 Sender <sender@else.test> OK\r\n"
    "250 2.1.5 <a@x.test> OK\r\n"
    "550 5.1.1 <nobody@x.test> User unknown in this server\r\n"
    "250 2.1.5 <B@x.test> OK\r\n"
    "354 End data with <CR><LF>.<CR><LF>\r\n"
    "250 2.0.0 <a@x.test> delivered\r\n"
    "250 2.0.0 <B@x.test> delivered\r\n"
    "221 2.0.0 mx.test closing connection\r\n";

static const char *const TX_STORED =
    "Return-Path: <sender@else.test>\r\n"
    "Subject: caf\xc3\xa9\r\n"
    "\r\n"
    ".leading dot\r\n";

/* the whole transaction in one write (pipelining), one reply per recipient in RCPT order */
START_TEST(test_pipelined_transaction)
{
    zx_lmtp *s = session(0);
    const char *out = talk(s, TX, 0);
    const char *tail = strstr(out, "250 2.1.0");
    ck_assert_ptr_nonnull(tail);
    ck_assert_str_eq(tail, TX_REPLIES);
    ck_assert_int_eq(g_fake.to->nelts, 2);
    ck_assert_str_eq(DELIVERED_TO(0), "a@x.test");
    ck_assert_str_eq(DELIVERED_TO(1), "B@x.test");
    ck_assert_str_eq(DELIVERED(0), TX_STORED);
    ck_assert_str_eq(DELIVERED(1), TX_STORED);
    ck_assert_int_eq(g_fake.leased, 0);
    const zx_lmtp_stats *st = zx_lmtp_stats_get(s);
    ck_assert_uint_eq(st->transactions, 1);
    ck_assert_uint_eq(st->delivered, 2);
    ck_assert_uint_eq(st->rejected, 1);
}
END_TEST

/* the same input cut in every piece size gives the same answers and message */
START_TEST(test_any_split)
{
    for (apr_size_t step = 1; step <= 17; step++) {
        setup();
        zx_lmtp *s = session(0);
        const char *out = talk(s, TX, step);
        ck_assert_str_eq(strstr(out, "250 2.1.0"), TX_REPLIES);
        ck_assert_int_eq(g_fake.to->nelts, 2);
        ck_assert_str_eq(DELIVERED(1), TX_STORED);
        teardown();
    }
    setup();
}
END_TEST

/* LF alone as line end; the message keeps what came */
START_TEST(test_bare_lf)
{
    zx_lmtp *s = session(0);
    const char *out = talk(s, "LHLO m\nMAIL FROM:<>\nRCPT TO:<a@x.test>\nDATA\n"
                              "From: x@y.test\n\nbody\n.\n", 0);
    ck_assert_ptr_nonnull(strstr(out, "250 2.0.0 <a@x.test> delivered\r\n"));
    ck_assert_str_eq(DELIVERED(0), "Return-Path: <>\nFrom: x@y.test\n\nbody\n");
}
END_TEST

/* "." inside a line, "..", a line of one dot and more, a line longer than any buffer */
START_TEST(test_dots_and_long_lines)
{
    zx_lmtp *s = session(0);
    char *longline = apr_palloc(g_pool, 200001);
    memset(longline, 'x', 200000);
    longline[0] = '.';
    longline[200000] = '\0';
    const char *in = apr_pstrcat(g_pool, "LHLO m\r\nMAIL FROM:<s@t.test>\r\nRCPT TO:<a@x.test>\r\n"
                                 "DATA\r\nX: 1\r\n\r\na.b\r\n...\r\n. \r\n.x\r\n", longline,
                                 "\r\n.\r\n", NULL);
    const char *out = talk(s, in, 5000);
    ck_assert_ptr_nonnull(strstr(out, "250 2.0.0 <a@x.test> delivered\r\n"));
    const char *want = apr_pstrcat(g_pool, "Return-Path: <s@t.test>\r\nX: 1\r\n\r\na.b\r\n..\r\n"
                                   " \r\nx\r\n", longline + 1, "\r\n", NULL);
    ck_assert_str_eq(DELIVERED(0), want);
}
END_TEST

START_TEST(test_sequence_errors)
{
    zx_lmtp *s = session(0);
    ck_assert_str_eq(talk(s, "MAIL FROM:<a@b.test>\r\n", 0),
                     "503 5.5.1 Error: send LHLO first\r\n");
    ck_assert_str_eq(talk(s, "HELO m\r\n", 0), "500 5.5.1 Error: this is LMTP, say LHLO\r\n");
    ck_assert_str_eq(talk(s, "LHLO\r\n", 0), "501 5.5.4 Syntax: LHLO hostname\r\n");
    talk(s, "LHLO m\r\n", 0);
    ck_assert_str_eq(talk(s, "RCPT TO:<a@x.test>\r\n", 0),
                     "503 5.5.1 Error: need MAIL command\r\n");
    ck_assert_str_eq(talk(s, "DATA\r\n", 0), "503 5.5.1 Error: need MAIL command\r\n");
    ck_assert_str_eq(talk(s, "MAIL TO:<a@b.test>\r\n", 0),
                     "501 5.5.4 Syntax: MAIL FROM:<address>\r\n");
    ck_assert_str_eq(talk(s, "mail from:<a@b.test> XYZ=1\r\n", 0),
                     "555 5.5.4 Unsupported parameter XYZ\r\n");
    ck_assert_str_eq(talk(s, "mail from:<a@b.test>\r\n", 0),
                     "250 2.1.0 Sender <a@b.test> OK\r\n");
    ck_assert_str_eq(talk(s, "MAIL FROM:<a@b.test>\r\n", 0),
                     "503 5.5.1 Error: nested MAIL command\r\n");
    ck_assert_str_eq(talk(s, "RCPT TO:<>\r\n", 0), "501 5.1.3 Bad recipient address syntax\r\n");
    ck_assert_str_eq(talk(s, "RCPT TO:<nobody@x.test>\r\nDATA\r\n", 0),
                     "550 5.1.1 <nobody@x.test> User unknown in this server\r\n"
                     "503 5.5.1 Error: no valid recipients\r\n");
    ck_assert_str_eq(talk(s, "VRFY a@x.test\r\nNOOP\r\nRSET\r\n", 0),
                     "252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery\r\n"
                     "250 2.0.0 OK\r\n250 2.0.0 OK\r\n");
    ck_assert_str_eq(talk(s, "RCPT TO:<a@x.test>\r\n", 0),
                     "503 5.5.1 Error: need MAIL command\r\n");
    ck_assert_str_eq(talk(s, "BDAT 10 LAST\r\nXYZZY\r\n\r\n", 0),
                     "500 5.5.1 Error: command not recognized\r\n"
                     "500 5.5.1 Error: command not recognized\r\n"
                     "500 5.5.2 Error: bad syntax\r\n");
    ck_assert_int_eq(g_fake.leased, 0);
}
END_TEST

START_TEST(test_line_too_long)
{
    zx_lmtp *s = session(0);
    talk(s, "LHLO m\r\n", 0);
    char *junk = apr_palloc(g_pool, 5001);
    memset(junk, 'A', 5000);
    junk[5000] = '\0';
    /* in one piece and in several */
    ck_assert_str_eq(talk(s, apr_pstrcat(g_pool, "NOOP ", junk, "\r\nNOOP\r\n", NULL), 0),
                     "500 5.5.2 Error: line too long\r\n250 2.0.0 OK\r\n");
    ck_assert_str_eq(talk(s, apr_pstrcat(g_pool, "NOOP ", junk, "\r\nNOOP\r\n", NULL), 700),
                     "500 5.5.2 Error: line too long\r\n250 2.0.0 OK\r\n");
}
END_TEST

START_TEST(test_size_limits)
{
    zx_lmtp *s = session(100);
    talk(s, "LHLO m\r\n", 0);
    ck_assert_str_eq(talk(s, "MAIL FROM:<a@b.test> SIZE=101\r\n", 0),
                     "552 5.3.4 Message size exceeds fixed maximum message size (100 bytes)\r\n");
    ck_assert_str_eq(talk(s, "MAIL FROM:<a@b.test> SIZE=x\r\n", 0),
                     "501 5.5.4 Bad SIZE parameter\r\n");
    char *big = apr_palloc(g_pool, 201);
    memset(big, 'b', 200);
    big[200] = '\0';
    const char *out = talk(s, apr_pstrcat(g_pool, "MAIL FROM:<a@b.test> SIZE=100\r\n"
                                          "RCPT TO:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n"
                                          "X: y\r\n\r\n", big, "\r\n.\r\n", NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "354 "));
    ck_assert_ptr_nonnull(strstr(out, "552 5.3.4 <a@x.test> Message size exceeds fixed maximum "
                                      "message size (100 bytes)\r\n552 5.3.4 <b@x.test> "));
    ck_assert_int_eq(g_fake.to->nelts, 0);
    /* the next message, within the limit, goes through */
    out = talk(s, "MAIL FROM:<a@b.test>\r\nRCPT TO:<a@x.test>\r\nDATA\r\nX: y\r\n\r\nok\r\n.\r\n",
               0);
    ck_assert_ptr_nonnull(strstr(out, "250 2.0.0 <a@x.test> delivered\r\n"));
    ck_assert_int_eq(g_fake.to->nelts, 1);
}
END_TEST

/* not a message at all: 554 for each recipient */
START_TEST(test_not_a_message)
{
    zx_lmtp *s = session(0);
    const char *out = talk(s, "LHLO m\r\nMAIL FROM:<>\r\nRCPT TO:<a@x.test>\r\nDATA\r\n"
                              "no header here\r\n.\r\n", 0);
    ck_assert_ptr_nonnull(strstr(out, "554 5.6.0 <a@x.test> Message rejected: "));
    ck_assert_int_eq(g_fake.to->nelts, 0);
}
END_TEST

/* the database away: 451 at RCPT; a delivery failing: 451 for that recipient only */
START_TEST(test_temporary_failures)
{
    zx_lmtp *s = session(0);
    talk(s, "LHLO m\r\n", 0);
    g_fake.db_down = 1;
    ck_assert_str_eq(talk(s, "MAIL FROM:<>\r\nRCPT TO:<a@x.test>\r\nDATA\r\nRSET\r\n", 0),
                     "250 2.1.0 Sender <> OK\r\n"
                     "451 4.3.0 <a@x.test> Temporary failure: database unavailable, try again "
                     "later\r\n503 5.5.1 Error: no valid recipients\r\n250 2.0.0 OK\r\n");
    g_fake.db_down = 0;
    g_fake.resolve_fails = 1;
    ck_assert_ptr_nonnull(strstr(talk(s, "MAIL FROM:<>\r\nRCPT TO:<a@x.test>\r\nRSET\r\n", 0),
                                 "451 4.3.0 <a@x.test> "));
    ck_assert_int_eq(g_fake.leased, 0);
    g_fake.resolve_fails = 0;
    g_fake.tempfail = "temp@x.test";
    const char *out = talk(s, "MAIL FROM:<>\r\nRCPT TO:<a@x.test>\r\nRCPT TO:<temp@x.test>\r\n"
                              "RCPT TO:<b@x.test>\r\nDATA\r\nX: y\r\n\r\n.\r\n", 0);
    ck_assert_ptr_nonnull(strstr(out, "354 End data with <CR><LF>.<CR><LF>\r\n"
                                      "250 2.0.0 <a@x.test> delivered\r\n"
                                      "451 4.3.0 <temp@x.test> Temporary failure, try again "
                                      "later\r\n"
                                      "250 2.0.0 <b@x.test> delivered\r\n"));
    ck_assert_int_eq(g_fake.to->nelts, 2);
    ck_assert_int_eq(g_fake.leased, 0);
    const zx_lmtp_stats *st = zx_lmtp_stats_get(s);
    ck_assert_uint_eq(st->deferred, 3);
    ck_assert_uint_eq(st->delivered, 2);
}
END_TEST

/* an address and an alias of one account: one copy, two replies */
START_TEST(test_one_copy_per_account)
{
    zx_lmtp *s = session(0);
    const char *out = talk(s, "LHLO m\r\nMAIL FROM:<>\r\nRCPT TO:<a@x.test>\r\n"
                              "RCPT TO:<alias@x.test>\r\nDATA\r\nX: y\r\n\r\n.\r\n", 0);
    ck_assert_ptr_nonnull(strstr(out, "250 2.0.0 <a@x.test> delivered\r\n"
                                      "250 2.0.0 <alias@x.test> same mailbox as <a@x.test>\r\n"));
    ck_assert_int_eq(g_fake.to->nelts, 1);
}
END_TEST

/* the connection is lent while commands work, given back when the session waits */
START_TEST(test_database_lent_briefly)
{
    zx_lmtp *s = session(0);
    talk(s, "LHLO m\r\nMAIL FROM:<>\r\nRCPT TO:<a@x.test>\r\n", 0);
    ck_assert_int_eq(g_fake.leased, 1);
    zx_lmtp_idle(s);
    ck_assert_int_eq(g_fake.leased, 0);
    talk(s, "RCPT TO:<b@x.test>\r\n", 0);
    ck_assert_int_eq(g_fake.leased, 1);
    /* the session's pool going (the connection dropped) gives it back too */
    zx_lmtp_abort(s, NULL, "timeout");
    ck_assert_int_eq(g_fake.leased, 0);
    ck_assert_str_eq(talk(s, "", 0), "421 4.4.2 mx.test timeout, closing connection\r\n");
    ck_assert_int_eq(zx_lmtp_closed(s), 1);
    apr_pool_t *sub;
    apr_pool_create(&sub, g_pool);
    zx_lmtp_settings set = {"mx.test", 0, 0, NULL};
    zx_lmtp_ops ops = {f_acquire, f_release, f_resolve, f_deliver, quiet, &g_fake};
    zx_lmtp *s2 = zx_lmtp_create(sub, &set, &ops);
    zx_lmtp_feed(s2, "LHLO m\r\nMAIL FROM:<>\r\nRCPT TO:<a@x.test>\r\n", 42);
    ck_assert_int_eq(g_fake.leased, 1);
    apr_pool_destroy(sub);
    ck_assert_int_eq(g_fake.leased, 0);
}
END_TEST

START_TEST(test_too_many_recipients)
{
    zx_lmtp_settings set = {"mx.test", 0, 2, NULL};
    zx_lmtp_ops ops = {f_acquire, f_release, f_resolve, f_deliver, quiet, &g_fake};
    zx_lmtp *s = zx_lmtp_create(g_pool, &set, &ops);
    const char *out = talk(s, "LHLO m\r\nMAIL FROM:<>\r\nRCPT TO:<a@x.test>\r\n"
                              "RCPT TO:<b@x.test>\r\nRCPT TO:<temp@x.test>\r\n", 0);
    ck_assert_ptr_nonnull(strstr(out, "452 4.5.3 Error: too many recipients\r\n"));
}
END_TEST

int main(void)
{
    apr_initialize();
    Suite *s = suite_create("lmtp");
    TCase *tc = tcase_create("protocol");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_greeting_and_lhlo);
    tcase_add_test(tc, test_pipelined_transaction);
    tcase_add_test(tc, test_any_split);
    tcase_add_test(tc, test_bare_lf);
    tcase_add_test(tc, test_dots_and_long_lines);
    tcase_add_test(tc, test_sequence_errors);
    tcase_add_test(tc, test_line_too_long);
    tcase_add_test(tc, test_size_limits);
    tcase_add_test(tc, test_not_a_message);
    tcase_add_test(tc, test_temporary_failures);
    tcase_add_test(tc, test_one_copy_per_account);
    tcase_add_test(tc, test_database_lent_briefly);
    tcase_add_test(tc, test_too_many_recipients);
    suite_add_tcase(s, tc);
    return zx_run_tap(s);
}
