/* zxmobile - unit tests of the waiter registry (libzxsync/notify/hub.c): which waiters a
 * notification wakes, one wait per device (wait ids), and the wake-up of everyone when the
 * process stops.  No database: the listener thread is not started; notifications go through
 * zx_notify_hub_dispatch as the listener would.  Check, TAP. */
#include <zxsync/notify.h>

#include <apr_general.h>
#include <check.h>
#include <poll.h>

#include "tap_run.h"

static apr_pool_t *g_pool;

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&g_pool, NULL), APR_SUCCESS);
}

static void teardown(void)
{
    apr_pool_destroy(g_pool);
    g_pool = NULL;
}

/* 1 when the waiter's fd is readable now */
static int signalled(zx_waiter *w)
{
    struct pollfd pfd = {zx_waiter_fd(w), POLLIN, 0};
    return poll(&pfd, 1, 0) == 1;
}

static zx_waiter *add(zx_notify_hub *hub, const char *account, const char *device, long long id)
{
    const char *err = NULL;
    zx_waiter *w = zx_waiter_add(hub, account, device, id, &err);
    ck_assert_msg(w != NULL, "zx_waiter_add: %s", err ? err : "?");
    return w;
}

START_TEST(wakes_exactly_the_account)
{
    zx_notify_hub *hub = zx_notify_hub_create(g_pool, "");
    ck_assert_ptr_nonnull(hub);
    zx_waiter *a1 = add(hub, "7", "100", 1);
    zx_waiter *a2 = add(hub, "7", "101", 2);
    zx_waiter *b = add(hub, "8", "102", 3);
    zx_notify_hub_dispatch(hub, "7");
    ck_assert(signalled(a1) && signalled(a2));
    ck_assert(!signalled(b));
    ck_assert_uint_eq(zx_waiter_take(a1), ZX_WAKE_CHANGE);
    ck_assert(!signalled(a1));                   /* take drains the eventfd */
    ck_assert_uint_eq(zx_waiter_take(a1), 0);
    /* "70" is another account, not a prefix match; malformed payloads are ignored */
    zx_notify_hub_dispatch(hub, "70");
    zx_notify_hub_dispatch(hub, "");
    zx_notify_hub_dispatch(hub, "7:");
    zx_notify_hub_dispatch(hub, "7:100");
    ck_assert(!signalled(a1));
    zx_notify_stats st;
    zx_notify_hub_stats(hub, &st);
    ck_assert_uint_eq(st.waiting, 3);
    /* removing the account's first, then last waiter keeps the registry consistent */
    zx_waiter_remove(a2);
    zx_notify_hub_dispatch(hub, "7");
    ck_assert_uint_eq(zx_waiter_take(a1), ZX_WAKE_CHANGE);
    zx_waiter_remove(a1);
    zx_notify_hub_dispatch(hub, "7");
    zx_notify_hub_dispatch(hub, "8");
    ck_assert_uint_eq(zx_waiter_take(b), ZX_WAKE_CHANGE);
    zx_waiter_remove(b);
    zx_notify_hub_stats(hub, &st);
    ck_assert_uint_eq(st.waiting, 0);
}
END_TEST

START_TEST(newer_wait_of_the_device_supersedes)
{
    zx_notify_hub *hub = zx_notify_hub_create(g_pool, "");
    zx_waiter *old = add(hub, "7", "100", 10);
    zx_waiter *other = add(hub, "7", "101", 11);
    /* a newer waiter of device 100 in this process ends the older one at once */
    zx_waiter *cur = add(hub, "7", "100", 12);
    ck_assert_uint_eq(zx_waiter_take(old), ZX_WAKE_SUPERSEDED);
    ck_assert(!signalled(cur) && !signalled(other));
    zx_waiter_remove(old);                       /* its request answers and goes */
    /* announced by another node: "<account>:<device>:<wait id>" */
    zx_notify_hub_dispatch(hub, "7:100:13");
    ck_assert_uint_eq(zx_waiter_take(cur), ZX_WAKE_SUPERSEDED);
    ck_assert(!signalled(other));
    /* an announcement of an older id ends nothing */
    zx_notify_hub_dispatch(hub, "7:101:5");
    ck_assert(!signalled(other));
    /* a waiter that registers after a newer one of its device starts superseded */
    zx_waiter *late = add(hub, "7", "101", 9);
    ck_assert_uint_eq(zx_waiter_take(late), ZX_WAKE_SUPERSEDED);
    ck_assert(!signalled(other));
    zx_notify_stats st;
    zx_notify_hub_stats(hub, &st);
    ck_assert_uint_eq(st.superseded, 3);
    zx_waiter_remove(late);
    zx_waiter_remove(cur);
    zx_waiter_remove(other);
}
END_TEST

START_TEST(stop_wakes_everyone_and_refuses_new_waiters)
{
    zx_notify_hub *hub = zx_notify_hub_create(g_pool, "");
    zx_waiter *a = add(hub, "1", "100", 1);
    zx_waiter *b = add(hub, "2", "200", 2);
    zx_notify_hub_stop(hub);
    ck_assert(zx_waiter_take(a) & ZX_WAKE_SHUTDOWN);
    ck_assert(zx_waiter_take(b) & ZX_WAKE_SHUTDOWN);
    const char *err = NULL;
    ck_assert_ptr_null(zx_waiter_add(hub, "1", "101", 3, &err));
    ck_assert_ptr_nonnull(err);
    zx_waiter_remove(a);
    zx_waiter_remove(b);
    zx_notify_hub_stop(hub);                     /* twice is harmless */
}
END_TEST

START_TEST(over_the_limit_the_oldest_is_shed)
{
    zx_notify_hub *hub = zx_notify_hub_create(g_pool, "");
    zx_notify_hub_set_max(hub, 2);
    zx_waiter *a = add(hub, "1", "100", 1);
    zx_waiter *b = add(hub, "2", "200", 2);
    ck_assert(!signalled(a) && !signalled(b));
    zx_waiter *c = add(hub, "3", "300", 3);      /* one too many: a, the oldest, goes */
    ck_assert_uint_eq(zx_waiter_take(a), ZX_WAKE_SHED);
    ck_assert(!signalled(b) && !signalled(c));
    zx_waiter *d = add(hub, "4", "400", 4);      /* a is told already: b goes */
    ck_assert_uint_eq(zx_waiter_take(b), ZX_WAKE_SHED);
    ck_assert(!signalled(c) && !signalled(d));
    zx_waiter_remove(a);
    zx_waiter_remove(b);
    zx_waiter *e = add(hub, "5", "500", 5);      /* c is the oldest now */
    ck_assert_uint_eq(zx_waiter_take(c), ZX_WAKE_SHED);
    ck_assert(!signalled(d) && !signalled(e));
    zx_notify_stats st;
    zx_notify_hub_stats(hub, &st);
    ck_assert_uint_eq(st.shed, 3);
    ck_assert_uint_eq(st.waiting, 3);
    zx_waiter_remove(d);
    zx_waiter_remove(c);
    zx_waiter_remove(e);
    zx_notify_hub_stats(hub, &st);
    ck_assert_uint_eq(st.waiting, 0);
}
END_TEST

START_TEST(settings_cache)
{
    zx_notify_hub *hub = zx_notify_hub_create(g_pool, "");
    zx_push_settings s = {0, 0, 0, 0};
    ck_assert_int_eq(zx_notify_hub_settings_get(hub, &s), 0);   /* never read */
    zx_push_settings in = {0, 30, 900, 120};
    zx_notify_hub_settings_put(hub, &in);
    ck_assert_int_eq(zx_notify_hub_settings_get(hub, &s), 1);
    ck_assert_int_eq(s.instant, 0);
    ck_assert_int_eq(s.latency, 30);
    ck_assert_int_eq(s.max_heartbeat, 900);
    ck_assert_int_eq(s.min_heartbeat, 120);
}
END_TEST

int main(void)
{
    apr_initialize();
    Suite *s = suite_create("notify");
    TCase *tc = tcase_create("hub");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, wakes_exactly_the_account);
    tcase_add_test(tc, newer_wait_of_the_device_supersedes);
    tcase_add_test(tc, stop_wakes_everyone_and_refuses_new_waiters);
    tcase_add_test(tc, over_the_limit_the_oldest_is_shed);
    tcase_add_test(tc, settings_cache);
    suite_add_tcase(s, tc);
    return zx_run_tap(s);
}
