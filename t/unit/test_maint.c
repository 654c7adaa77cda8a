/* zxmobile - unit test of the periodic jobs' runner (libzxsync/core/maint.c) and the server's
 * jobs on it (gate/jobs.c): it starts, runs its period, and stops and is joined by its pool's
 * cleanup, leaving nothing behind (valgrind).  Without a database the jobs are skipped.  The jobs themselves are tested end to end
 * (t/e2e/test_abq.py: a notification without any request).  Check, TAP. */
#include <zxsync/server.h>

#include <apr_general.h>
#include <check.h>
#include <unistd.h>

#include "tap_run.h"

START_TEST(starts_runs_and_is_joined_by_its_pool)
{
    apr_pool_t *p;
    ck_assert_int_eq(apr_pool_create(&p, NULL), APR_SUCCESS);
    zx_server srv = {0};
    zx_server_settings_default(&srv.settings);
    const char *err = NULL;
    zx_maint *m = zx_maint_start(p, &srv, 5, &err);
    ck_assert_msg(m != NULL, "zx_maint_start: %s", err ? err : "?");
    usleep(30 * 1000);                      /* a few periods, each without a database */
    zx_maint_run_once(&srv, p);
    apr_pool_destroy(p);                    /* stops and joins the thread */
}
END_TEST

START_TEST(a_long_period_still_stops_at_once)
{
    apr_pool_t *p;
    ck_assert_int_eq(apr_pool_create(&p, NULL), APR_SUCCESS);
    zx_server srv = {0};
    const char *err = NULL;
    ck_assert_ptr_nonnull(zx_maint_start(p, &srv, 3600 * 1000, &err));
    apr_pool_destroy(p);                    /* would hang for an hour if the stop were lost */
}
END_TEST

static void count_job(void *baton, apr_pool_t *p, zx_db *db)
{
    (void)p;
    (void)db;
    ++*(int *)baton;
}

START_TEST(a_runner_without_a_database_runs_no_job)
{
    apr_pool_t *p;
    ck_assert_int_eq(apr_pool_create(&p, NULL), APR_SUCCESS);
    int runs = 0;
    zx_maint *m = zx_maint_create(p, NULL, 5);
    zx_maint_add(m, count_job, &runs);
    const char *err = NULL;
    ck_assert_int_eq(zx_maint_begin(m, &err), 0);
    usleep(30 * 1000);
    zx_maint_run(m, p);
    apr_pool_destroy(p);                    /* stops and joins the thread */
    ck_assert_int_eq(runs, 0);
}
END_TEST

int main(void)
{
    apr_initialize();
    Suite *s = suite_create("maint");
    TCase *tc = tcase_create("maint");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, starts_runs_and_is_joined_by_its_pool);
    tcase_add_test(tc, a_long_period_still_stops_at_once);
    tcase_add_test(tc, a_runner_without_a_database_runs_no_job);
    suite_add_tcase(s, tc);
    return zx_run_tap(s);
}
