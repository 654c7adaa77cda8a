/* zxmobile - unit tests of the answer cache (libzxsync/gate/answer.c): what its key covers,
 * what makes a kept answer outdated (a change of its account, of everything, the listener's
 * connection), which answers are kept at all, and that the notification hub tells the cache
 * of both channels.  No database: the calls the pipeline and the listener make are made here.
 * Check, TAP. */
#include <zxsync/answer.h>
#include <zxsync/notify.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <check.h>
#include <string.h>

#include "tap_run.h"

static apr_pool_t *g_pool;
static const int g_srv = 1;        /* an endpoint's identity (its address) */

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&g_pool, NULL), APR_SUCCESS);
}

static void teardown(void)
{
    apr_pool_destroy(g_pool);
    g_pool = NULL;
}

static const unsigned char BODY[] = {0x03, 0x01, 0x6a, 0x00, 0x45, 0x5c};

static void request(zx_request *req, zx_response *resp)
{
    zx_request_init(req, g_pool);
    zx_response_init(resp, g_pool);
    req->method = ZX_METHOD_POST;
    req->cmd_name = "Sync";
    req->cmd = ZX_CMD_SYNC;
    req->user = "ann";
    req->device_id = "dev1";
    req->device_type = "iPhone";
    req->proto_str = "14.1";
    req->proto = ZX_V141;
    req->user_agent = "Apple-iPhone/1";
    req->content_type = "application/vnd.ms-sync.wbxml";
    req->auth_user = "ann@example.com";
    req->auth_password = "secret";
    req->body = BODY;
    req->body_len = sizeof BODY;
}

/* What the pipeline does for a computed answer up to the command: the lookup (a miss),
 * authentication (account 7), the device registry; then the handler declares the answer
 * reusable. */
static void computed(zx_answer_cache *c, zx_request *req, zx_response *resp,
                     const char *account_id)
{
    request(req, resp);
    ck_assert_int_eq(zx_answer_lookup(c, &g_srv, req), 0);
    req->account.id = account_id;
    req->account.name = "ann@example.com";
    req->authenticated = 1;
    zx_answer_note_account(c, req);
    req->device_row = "42";
    resp->status = 200;
    req->answer_reusable = 1;
}

/* A computed empty 200 (with a header), then the store. */
static int compute_and_store(zx_answer_cache *c, const char *account_id)
{
    zx_request req;
    zx_response resp;
    computed(c, &req, &resp, account_id);
    apr_table_set(resp.headers, "X-Test", "kept");
    return zx_answer_store(c, &req, &resp);
}

static int hit(zx_answer_cache *c)
{
    zx_request req;
    zx_response resp;
    request(&req, &resp);
    if (!zx_answer_lookup(c, &g_srv, &req))
        return 0;
    ck_assert_str_eq(req.account.id, "7");
    ck_assert_str_eq(req.account.name, "ann@example.com");
    ck_assert_str_eq(req.device_row, "42");
    ck_assert(req.authenticated && req.answered_from_cache);
    zx_answer_replay(&req, &resp);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_uint_eq(resp.body_len, 0);
    ck_assert_str_eq(apr_table_get(resp.headers, "X-Test"), "kept");
    return 1;
}

START_TEST(key_covers_every_input)
{
    zx_answer_cache *c = zx_answer_cache_create(g_pool, 64);
    ck_assert_ptr_nonnull(c);
    zx_request base, r;
    zx_response resp;
    request(&base, &resp);
    unsigned char k0[32], k[32];
    zx_answer_key(c, &g_srv, &base, k0);
    zx_answer_key(c, &g_srv, &base, k);
    ck_assert(memcmp(k0, k, 32) == 0);
    static const unsigned char other_body[] = {0x03, 0x01, 0x6a, 0x00, 0x45, 0x5d};
    const int other_srv = 2;
    for (int i = 0; i < 26; i++) {
        r = base;
        const void *srv = &g_srv;
        switch (i) {
        case 0: srv = &other_srv; break;
        case 1: r.method = ZX_METHOD_OPTIONS; break;
        case 2: r.base64_query = 1; break;
        case 3: r.cmd_name = "sync"; break;
        case 4: r.cmd = ZX_CMD_FOLDERSYNC; break;
        case 5: r.user = "bob"; break;
        case 6: r.device_id = "dev2"; break;
        case 7: r.device_type = "Android"; break;
        case 8: r.attachment_name = "a"; break;
        case 9: r.collection_id = "1"; break;
        case 10: r.item_id = "1:1"; break;
        case 11: r.long_id = "L"; break;
        case 12: r.occurrence = "o"; break;
        case 13: r.save_in_sent = 1; break;
        case 14: r.accept_multipart = 1; break;
        case 15: r.locale = 0x409; break;
        case 16: r.proto_str = "14.0"; break;
        case 17: r.proto = ZX_V140; break;
        case 18: r.has_policy_key = 1; break;
        case 19: r.policy_key = 5; break;
        case 20: r.user_agent = NULL; break;
        case 21: r.content_type = "application/vnd.ms-sync"; break;
        case 22: r.auth_user = "ann"; break;
        case 23: r.auth_password = "Secret"; break;
        case 24: r.body = other_body; break;
        case 25: r.body_len = 5; break;
        }
        zx_answer_key(c, srv, &r, k);
        ck_assert_msg(memcmp(k0, k, 32) != 0, "input %d is not part of the key", i);
    }
    /* absent and empty differ; so do the splits of one concatenation */
    r = base;
    r.occurrence = "";
    zx_answer_key(c, &g_srv, &r, k);
    ck_assert(memcmp(k0, k, 32) != 0);
    zx_request a = base, b = base;
    a.user = "ab";
    a.device_id = "c";
    b.user = "a";
    b.device_id = "bc";
    zx_answer_key(c, &g_srv, &a, k0);
    zx_answer_key(c, &g_srv, &b, k);
    ck_assert(memcmp(k0, k, 32) != 0);
    /* another process (another secret) has other keys for the same request */
    zx_answer_cache *c2 = zx_answer_cache_create(g_pool, 64);
    zx_answer_key(c, &g_srv, &base, k0);
    zx_answer_key(c2, &g_srv, &base, k);
    ck_assert(memcmp(k0, k, 32) != 0);
}
END_TEST

START_TEST(nothing_while_the_listener_is_not_connected)
{
    zx_answer_cache *c = zx_answer_cache_create(g_pool, 64);
    zx_request req;
    zx_response resp;
    request(&req, &resp);
    ck_assert_int_eq(zx_answer_lookup(c, &g_srv, &req), 0);
    ck_assert_ptr_null(req.answer_fill);            /* nothing to keep either */
    ck_assert_int_eq(compute_and_store(c, "7"), 0);
    zx_answer_cache_connected(c, 1);
    ck_assert_int_eq(compute_and_store(c, "7"), 1);
    ck_assert(hit(c));
    ck_assert(hit(c));
    zx_answer_cache_connected(c, 0);                /* lost: notifications may be lost */
    ck_assert(!hit(c));
    zx_answer_cache_connected(c, 1);                /* back: what was kept is gone */
    ck_assert(!hit(c));
    zx_answer_stats st;
    zx_answer_cache_stats(c, &st);
    ck_assert_uint_eq(st.hits, 2);
    ck_assert_uint_eq(st.stores, 1);
}
END_TEST

START_TEST(changes_outdate_exactly_their_account)
{
    zx_answer_cache *c = zx_answer_cache_create(g_pool, 64);
    zx_answer_cache_connected(c, 1);
    ck_assert_int_eq(compute_and_store(c, "7"), 1);
    ck_assert(hit(c));
    zx_answer_cache_changed(c, "8");                /* another account */
    ck_assert(hit(c));
    zx_answer_cache_changed(c, "7");
    ck_assert(!hit(c));
    ck_assert_int_eq(compute_and_store(c, "7"), 1);
    ck_assert(hit(c));
    zx_answer_cache_changed(c, NULL);               /* everything (directory, configuration) */
    ck_assert(!hit(c));
    ck_assert_int_eq(compute_and_store(c, "7"), 1);
    zx_answer_cache_changed(c, "");                 /* "" is everything too */
    ck_assert(!hit(c));
    zx_answer_stats st;
    zx_answer_cache_stats(c, &st);
    ck_assert_uint_eq(st.invalid, 5);     /* the three hits, and two lookups of the stores */
}
END_TEST

START_TEST(children_sharing_the_region_see_each_others_changes)
{
    /* two children (two caches) on one region: a change one of them notes outdates what the
     * other keeps at once, without its listener; a third, unshared cache does not see it */
    void *region = apr_pcalloc(g_pool, zx_answer_shared_size());
    ck_assert_int_eq(zx_answer_cache_share(zx_answer_cache_create(g_pool, 64), region), -1);
    zx_answer_shared_init(region);
    zx_answer_cache *a = zx_answer_cache_create(g_pool, 64);
    zx_answer_cache *b = zx_answer_cache_create(g_pool, 64);
    zx_answer_cache *alone = zx_answer_cache_create(g_pool, 64);
    ck_assert_int_eq(zx_answer_cache_share(a, region), 0);
    ck_assert_int_eq(zx_answer_cache_share(b, region), 0);
    zx_answer_cache_connected(a, 1);
    zx_answer_cache_connected(b, 1);
    zx_answer_cache_connected(alone, 1);
    ck_assert_int_eq(compute_and_store(b, "7"), 1);
    ck_assert_int_eq(compute_and_store(alone, "7"), 1);
    ck_assert(hit(b));
    zx_answer_cache_changed(a, "8");
    ck_assert(hit(b));
    zx_answer_cache_changed(a, "7");                /* a request in child a changed account 7 */
    ck_assert(!hit(b));
    ck_assert(hit(alone));
    /* and the other way round */
    ck_assert_int_eq(compute_and_store(a, "7"), 1);
    ck_assert(hit(a));
    zx_answer_cache_changed(b, "7");
    ck_assert(!hit(a));
}
END_TEST

START_TEST(a_change_during_the_request_is_not_kept)
{
    zx_answer_cache *c = zx_answer_cache_create(g_pool, 64);
    zx_answer_cache_connected(c, 1);
    for (int when = 0; when < 3; when++) {
        zx_request req;
        zx_response resp;
        request(&req, &resp);
        ck_assert_int_eq(zx_answer_lookup(c, &g_srv, &req), 0);
        req.account.id = "7";
        req.account.name = "ann@example.com";
        if (when == 0)
            zx_answer_cache_changed(c, NULL);       /* before the account was read */
        zx_answer_note_account(c, &req);
        if (when == 1)
            zx_answer_cache_changed(c, "7");        /* while the command ran */
        if (when == 2)
            zx_answer_cache_connected(c, 1);        /* the listener reconnected meanwhile */
        req.device_row = "42";
        req.answer_reusable = 1;
        ck_assert_int_eq(zx_answer_store(c, &req, &resp), 0);
        ck_assert(!hit(c));
    }
}
END_TEST

START_TEST(only_reusable_small_successes_are_kept)
{
    zx_answer_cache *c = zx_answer_cache_create(g_pool, 64);
    zx_answer_cache_connected(c, 1);
    static unsigned char big[ZX_ANSWER_MAX_BODY + 1];
    for (int why = 0; why < 5; why++) {
        zx_request req;
        zx_response resp;
        computed(c, &req, &resp, "7");
        req.answer_reusable = why != 0;
        if (why == 1)
            resp.status = 503;
        if (why == 2)
            resp.reason = "failed";
        if (why == 3) {
            resp.body = big;
            resp.body_len = sizeof big;
        }
        if (why == 4)
            req.device_row = NULL;
        ck_assert_msg(zx_answer_store(c, &req, &resp) == 0, "case %d kept", why);
    }
    ck_assert(!hit(c));
    /* a body is kept and given back byte for byte */
    zx_request req;
    zx_response resp;
    computed(c, &req, &resp, "7");
    static const unsigned char wb[] = {0x03, 0x01, 0x6a, 0x00, 0x00, 0x07, 0x56, 0x4c, 0x03, 0x31,
                                       0x00, 0x01, 0x01};
    resp.content_type = "application/vnd.ms-sync.wbxml";
    resp.body = wb;
    resp.body_len = sizeof wb;
    ck_assert_int_eq(zx_answer_store(c, &req, &resp), 1);
    request(&req, &resp);
    ck_assert_int_eq(zx_answer_lookup(c, &g_srv, &req), 1);
    zx_answer_replay(&req, &resp);
    ck_assert_str_eq(resp.content_type, "application/vnd.ms-sync.wbxml");
    ck_assert_uint_eq(resp.body_len, sizeof wb);
    ck_assert(memcmp(resp.body, wb, sizeof wb) == 0);
    /* a request that differs in one byte is not answered */
    static const unsigned char other[] = {0x03, 0x01, 0x6a, 0x00, 0x45, 0x5d};
    request(&req, &resp);
    req.body = other;
    ck_assert_int_eq(zx_answer_lookup(c, &g_srv, &req), 0);
}
END_TEST

START_TEST(only_small_sync_and_foldersync_posts_are_candidates)
{
    zx_request req;
    zx_response resp;
    request(&req, &resp);
    ck_assert(zx_answer_candidate(&req));
    req.cmd = ZX_CMD_FOLDERSYNC;
    ck_assert(zx_answer_candidate(&req));
    req.cmd = ZX_CMD_PING;
    ck_assert(!zx_answer_candidate(&req));
    req.cmd = ZX_CMD_SYNC;
    req.body_len = ZX_ANSWER_MAX_REQUEST + 1;       /* a Sync carrying client changes */
    ck_assert(!zx_answer_candidate(&req));
    req.body_len = ZX_ANSWER_MAX_REQUEST;
    ck_assert(zx_answer_candidate(&req));
    req.method = ZX_METHOD_OPTIONS;
    ck_assert(!zx_answer_candidate(&req));
}
END_TEST

/* ---- the hub tells the cache ---------------------------------------------------------------- */

static void obs_changed(void *baton, const char *account)
{
    zx_answer_cache_changed(baton, account);
}

static void obs_connected(void *baton, int up)
{
    zx_answer_cache_connected(baton, up);
}

START_TEST(hub_notifications_reach_the_cache)
{
    zx_answer_cache *c = zx_answer_cache_create(g_pool, 64);
    zx_notify_hub *hub = zx_notify_hub_create(g_pool, "");
    zx_notify_observer o = {obs_changed, obs_connected, c};
    zx_notify_hub_observe(hub, &o);
    zx_answer_cache_connected(c, 1);
    ck_assert_int_eq(compute_and_store(c, "7"), 1);
    zx_notify_hub_dispatch(hub, "8");                    /* zx_mailbox, another account */
    zx_notify_hub_dispatch_cache(hub, "8");              /* zx_cache, another account */
    ck_assert(hit(c));
    zx_notify_hub_dispatch(hub, "7:dev9:12");            /* a Ping of the account starts */
    ck_assert(!hit(c));
    ck_assert_int_eq(compute_and_store(c, "7"), 1);
    zx_notify_hub_dispatch_cache(hub, "7");              /* a device or state row changed */
    ck_assert(!hit(c));
    ck_assert_int_eq(compute_and_store(c, "7"), 1);
    zx_notify_hub_dispatch_cache(hub, "");               /* the directory or configuration */
    ck_assert(!hit(c));
    ck_assert_int_eq(compute_and_store(c, "7"), 1);
    zx_notify_hub_dispatch(hub, "7");                    /* a mailbox change */
    ck_assert(!hit(c));
}
END_TEST

int main(void)
{
    apr_initialize();
    Suite *s = suite_create("answer");
    TCase *tc = tcase_create("answer");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, key_covers_every_input);
    tcase_add_test(tc, nothing_while_the_listener_is_not_connected);
    tcase_add_test(tc, changes_outdate_exactly_their_account);
    tcase_add_test(tc, a_change_during_the_request_is_not_kept);
    tcase_add_test(tc, children_sharing_the_region_see_each_others_changes);
    tcase_add_test(tc, only_reusable_small_successes_are_kept);
    tcase_add_test(tc, only_small_sync_and_foldersync_posts_are_candidates);
    tcase_add_test(tc, hub_notifications_reach_the_cache);
    suite_add_tcase(s, tc);
    return zx_run_tap(s);
}
