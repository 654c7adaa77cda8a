/* zxmobile - unit tests of the anti-DoS sliding window (gate/dos.c) on plain memory with a fake
 * clock, and of the EAS filter rules (gate/easfilter.c): compiling, matching, evaluation order,
 * modes, blocking and the documented rendering.  Check printing TAP. */
#include <zxsync/dos.h>
#include <zxsync/easfilter.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tap_run.h"

static apr_pool_t *g_pool;
static void *g_mem;

static void *region(unsigned nslots, unsigned ring)
{
    apr_size_t size = zx_dos_region_size(nslots, ring);
    void *m = apr_palloc(g_pool, size);
    ck_assert_int_eq(zx_dos_region_init(m, size, nslots, ring), 0);
    return m;
}

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&g_pool, NULL), APR_SUCCESS);
    g_mem = region(64, 16);
}

static void teardown(void)
{
    apr_pool_destroy(g_pool);
    g_pool = NULL;
}

static const zx_dos_limits lim3 = {3, 1000, 5000};   /* 3 requests per second, 5 s jail */

/* ---- sliding window ------------------------------------------------------------------------ */

START_TEST(test_region_size_and_init)
{
    ck_assert_uint_gt(zx_dos_region_size(4096, 512), 4096u * 512u * 4u);
    char small[16];
    ck_assert_int_eq(zx_dos_region_init(small, sizeof small, 4, 4), -1);
    ck_assert_int_eq(zx_dos_region_init(g_mem, zx_dos_region_size(64, 16), 64, 1), -1);
}
END_TEST

START_TEST(test_max_requests_then_jail)
{
    long long left = -1;
    /* exactly MaxRequests requests within the window pass */
    ck_assert_int_eq(zx_dos_hit(g_mem, "a@x/d1", 10000, &lim3, &left), ZX_DOS_PASS);
    ck_assert_int_eq(zx_dos_hit(g_mem, "a@x/d1", 10100, &lim3, &left), ZX_DOS_PASS);
    ck_assert_int_eq(zx_dos_hit(g_mem, "a@x/d1", 10200, &lim3, &left), ZX_DOS_PASS);
    /* the next one within the window starts the jail and is refused */
    ck_assert_int_eq(zx_dos_hit(g_mem, "a@x/d1", 10300, &lim3, &left), ZX_DOS_NEW_JAIL);
    ck_assert_int_eq(left, 5000);
    /* then everything is refused until the jail ends, with the time left */
    ck_assert_int_eq(zx_dos_hit(g_mem, "a@x/d1", 12300, &lim3, &left), ZX_DOS_JAILED);
    ck_assert_int_eq(left, 3000);
    ck_assert_int_eq(zx_dos_hit(g_mem, "a@x/d1", 15299, &lim3, &left), ZX_DOS_JAILED);
    ck_assert_int_eq(left, 1);
    /* jailed requests are not counted: after the jail the device starts afresh */
    ck_assert_int_eq(zx_dos_hit(g_mem, "a@x/d1", 15300, &lim3, &left), ZX_DOS_PASS);
    ck_assert_int_eq(zx_dos_hit(g_mem, "a@x/d1", 15301, &lim3, &left), ZX_DOS_PASS);
    ck_assert_int_eq(zx_dos_hit(g_mem, "a@x/d1", 15302, &lim3, &left), ZX_DOS_PASS);
    ck_assert_int_eq(zx_dos_hit(g_mem, "a@x/d1", 15303, &lim3, &left), ZX_DOS_NEW_JAIL);
}
END_TEST

START_TEST(test_window_slides)
{
    /* one request every 400 ms: 3 within any 1000 ms window is allowed, never 4 */
    for (long long t = 0; t < 20000; t += 400)
        ck_assert_int_eq(zx_dos_hit(g_mem, "a@x/d1", t, &lim3, NULL), ZX_DOS_PASS);
    /* at the edge: now - oldest == window still counts as within it */
    zx_dos_region_reset(g_mem);
    ck_assert_int_eq(zx_dos_hit(g_mem, "k", 0, &lim3, NULL), ZX_DOS_PASS);
    ck_assert_int_eq(zx_dos_hit(g_mem, "k", 500, &lim3, NULL), ZX_DOS_PASS);
    ck_assert_int_eq(zx_dos_hit(g_mem, "k", 999, &lim3, NULL), ZX_DOS_PASS);
    ck_assert_int_eq(zx_dos_hit(g_mem, "k", 1001, &lim3, NULL), ZX_DOS_PASS);  /* 0 fell out */
    ck_assert_int_eq(zx_dos_hit(g_mem, "k", 1500, &lim3, NULL), ZX_DOS_NEW_JAIL); /* 500..1500 */
}
END_TEST

START_TEST(test_keys_are_independent)
{
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(zx_dos_hit(g_mem, "a@x/d1", 100 + i, &lim3, NULL), ZX_DOS_PASS);
        ck_assert_int_eq(zx_dos_hit(g_mem, "a@x/d2", 100 + i, &lim3, NULL), ZX_DOS_PASS);
        ck_assert_int_eq(zx_dos_hit(g_mem, "b@x/d1", 100 + i, &lim3, NULL), ZX_DOS_PASS);
    }
    ck_assert_int_eq(zx_dos_hit(g_mem, "a@x/d1", 110, &lim3, NULL), ZX_DOS_NEW_JAIL);
    ck_assert_int_eq(zx_dos_hit(g_mem, "a@x/d2", 2000, &lim3, NULL), ZX_DOS_PASS);
    ck_assert_int_eq(zx_dos_hit(g_mem, "b@x/d1", 2000, &lim3, NULL), ZX_DOS_PASS);
    unsigned used = 0, jailed = 0;
    zx_dos_region_stats(g_mem, 2000, &used, &jailed);
    ck_assert_uint_eq(used, 3);
    ck_assert_uint_eq(jailed, 1);
}
END_TEST

START_TEST(test_disabled_and_limits_change)
{
    zx_dos_limits off = {0, 1000, 5000};
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(zx_dos_hit(g_mem, "k", i, &off, NULL), ZX_DOS_PASS);
    /* a higher limit takes effect on the requests already counted */
    zx_dos_limits five = {5, 1000, 5000};
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(zx_dos_hit(g_mem, "k2", i, &lim3, NULL), ZX_DOS_PASS);
    ck_assert_int_eq(zx_dos_hit(g_mem, "k2", 3, &five, NULL), ZX_DOS_PASS);
    ck_assert_int_eq(zx_dos_hit(g_mem, "k2", 4, &five, NULL), ZX_DOS_PASS);
    ck_assert_int_eq(zx_dos_hit(g_mem, "k2", 5, &five, NULL), ZX_DOS_NEW_JAIL);
}
END_TEST

START_TEST(test_reset_and_generation)
{
    for (int i = 0; i < 3; i++)
        zx_dos_hit(g_mem, "k", i, &lim3, NULL);
    ck_assert_int_eq(zx_dos_hit(g_mem, "k", 10, &lim3, NULL), ZX_DOS_NEW_JAIL);
    /* the first restart count seen is only remembered */
    ck_assert_int_eq(zx_dos_region_sync(g_mem, 4), 0);
    ck_assert_int_eq(zx_dos_hit(g_mem, "k", 20, &lim3, NULL), ZX_DOS_JAILED);
    ck_assert_int_eq(zx_dos_region_sync(g_mem, 4), 0);
    ck_assert_int_eq(zx_dos_region_sync(g_mem, 3), 0);   /* a stale reader never resets */
    /* a new restart frees every jail and forgets every counter, once */
    ck_assert_int_eq(zx_dos_region_sync(g_mem, 5), 1);
    ck_assert_int_eq(zx_dos_region_sync(g_mem, 5), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(zx_dos_hit(g_mem, "k", 30 + i, &lim3, NULL), ZX_DOS_PASS);
    ck_assert_int_eq(zx_dos_hit(g_mem, "k", 40, &lim3, NULL), ZX_DOS_NEW_JAIL);
}
END_TEST

START_TEST(test_full_table_eviction)
{
    void *m = region(4, 8);     /* 4 slots, every key probes all of them */
    char key[16];
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof key, "k%d", i);
        ck_assert_int_eq(zx_dos_hit(m, key, 100 + i, &lim3, NULL), ZX_DOS_PASS);
    }
    /* full of active devices: the least recently active one (k0) is evicted */
    ck_assert_int_eq(zx_dos_hit(m, "k4", 200, &lim3, NULL), ZX_DOS_PASS);
    unsigned used = 0;
    zx_dos_region_stats(m, 200, &used, NULL);
    ck_assert_uint_eq(used, 4);
    /* jailed devices are never evicted: jail all four, then a fifth passes uncounted */
    const char *keys[] = {"k1", "k2", "k3", "k4"};
    for (int i = 0; i < 4; i++) {
        for (int n = 0; n < 3; n++)
            ck_assert_int_eq(zx_dos_hit(m, keys[i], 2000 + n, &lim3, NULL), ZX_DOS_PASS);
        ck_assert_int_eq(zx_dos_hit(m, keys[i], 2010, &lim3, NULL), ZX_DOS_NEW_JAIL);
    }
    ck_assert_int_eq(zx_dos_hit(m, "k5", 2020, &lim3, NULL), ZX_DOS_UNTRACKED);
    ck_assert_int_eq(zx_dos_hit(m, "k1", 2020, &lim3, NULL), ZX_DOS_JAILED);
    /* once the jails are over the slots are idle and reused at once */
    ck_assert_int_eq(zx_dos_hit(m, "k5", 8000, &lim3, NULL), ZX_DOS_PASS);
}
END_TEST

START_TEST(test_sampled_ring)
{
    /* 100 requests per window with a ring of 8: a sample every k = ceil(99/7) = 15 requests;
     * the jail comes after at least 100 and at most 114 requests */
    void *m = region(16, 8);
    zx_dos_limits lim = {100, 60000, 1000};
    int passed = 0;
    zx_dos_verdict v = ZX_DOS_PASS;
    for (int i = 0; i < 200 && v == ZX_DOS_PASS; i++) {
        v = zx_dos_hit(m, "k", 1000 + i, &lim, NULL);
        if (v == ZX_DOS_PASS)
            passed++;
    }
    ck_assert_int_eq(v, ZX_DOS_NEW_JAIL);
    ck_assert_int_ge(passed, 100);
    ck_assert_int_le(passed, 114);
    /* spread over time, the sampled window still lets 100 per minute through */
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(zx_dos_hit(m, "slow", 100000 + (long long)i * 700, &lim, NULL),
                         ZX_DOS_PASS);
}
END_TEST

START_TEST(test_exact_up_to_ring)
{
    void *m = region(16, 8);
    zx_dos_limits lim = {8, 1000, 1000};
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(zx_dos_hit(m, "k", i, &lim, NULL), ZX_DOS_PASS);
    ck_assert_int_eq(zx_dos_hit(m, "k", 8, &lim, NULL), ZX_DOS_NEW_JAIL);
}
END_TEST

START_TEST(test_clock_wrap)
{
    /* timestamps keep the low 32 bits: crossing 2^32 ms changes nothing */
    long long base = 4294967296LL - 500;
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(zx_dos_hit(g_mem, "k", base + i * 300, &lim3, NULL), ZX_DOS_PASS);
    ck_assert_int_eq(zx_dos_hit(g_mem, "k", base + 700, &lim3, NULL), ZX_DOS_NEW_JAIL);
    /* a slot idle for longer than the window is emptied, whatever its old times say */
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(zx_dos_hit(g_mem, "k2", 1000 + i, &lim3, NULL), ZX_DOS_PASS);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(zx_dos_hit(g_mem, "k2", 1000 + i + 4294967296LL, &lim3, NULL),
                         ZX_DOS_PASS);
}
END_TEST

/* ---- EAS filters -------------------------------------------------------------------------- */

static zx_easfilter *filter(int id, zx_ef_type type, const char *param, zx_ef_mode mode,
                            const char *versions, int blocking)
{
    zx_easfilter *f = apr_pcalloc(g_pool, sizeof *f);
    const char *err = NULL, *bad = NULL;
    f->id = id;
    f->type = type;
    f->parameter = param;
    f->mode = mode;
    f->versions = zx_vset_parse(g_pool, versions, &bad);
    f->blocking = blocking;
    ck_assert_msg(zx_easfilter_compile(g_pool, f, &err) == 0, "%s", err ? err : "");
    return f;
}

static const char *eval(zx_easfilter **fs, int n, const char *ua, const char *account)
{
    zx_ef_subject s = {ua, account};
    return zx_vset_str(g_pool, zx_easfilters_eval((const zx_easfilter *const *)fs, n,
                                                  ZX_VSET_ALL, &s, NULL));
}

START_TEST(test_filter_types)
{
    zx_ef_subject android = {"Android-Mail/2023 SAMSUNG", "john@example.com"};
    zx_ef_subject none = {NULL, "john@example.com"};
    ck_assert(zx_easfilter_matches(filter(0, ZX_EF_CONTAINS, "samsung", ZX_EF_FIXED, "2.5", 0),
                                   &android));
    ck_assert(!zx_easfilter_matches(filter(0, ZX_EF_CONTAINS, "iphone", ZX_EF_FIXED, "2.5", 0),
                                    &android));
    ck_assert(!zx_easfilter_matches(filter(0, ZX_EF_CONTAINS, "samsung", ZX_EF_FIXED, "2.5", 0),
                                    &none));
    ck_assert(zx_easfilter_matches(filter(0, ZX_EF_REGEX, "^android-[a-z]+/[0-9]{4}", ZX_EF_FIXED,
                                          "2.5", 0), &android));
    ck_assert(!zx_easfilter_matches(filter(0, ZX_EF_REGEX, "^mail", ZX_EF_FIXED, "2.5", 0),
                                    &android));
    ck_assert(zx_easfilter_matches(filter(0, ZX_EF_ACCOUNT, "John@Example.com", ZX_EF_FIXED,
                                          "2.5", 0), &android));
    ck_assert(!zx_easfilter_matches(filter(0, ZX_EF_ACCOUNT, "jo@example.com", ZX_EF_FIXED,
                                           "2.5", 0), &android));
    ck_assert(zx_easfilter_matches(filter(0, ZX_EF_DOMAIN, "EXAMPLE.COM", ZX_EF_FIXED, "2.5", 0),
                                   &android));
    ck_assert(!zx_easfilter_matches(filter(0, ZX_EF_DOMAIN, "ample.com", ZX_EF_FIXED, "2.5", 0),
                                    &android));
    ck_assert(zx_easfilter_matches(filter(0, ZX_EF_AND, "account=john@example.com,contains=android",
                                          ZX_EF_FIXED, "14.1", 1), &android));
    ck_assert(!zx_easfilter_matches(filter(0, ZX_EF_AND, "account=jane@example.com,contains=android",
                                           ZX_EF_FIXED, "14.1", 1), &android));
    ck_assert(zx_easfilter_matches(filter(0, ZX_EF_OR, "account=jane@example.com,contains=android",
                                          ZX_EF_FIXED, "14.1", 1), &android));
    /* a comma inside a regular expression does not split the composite rule */
    ck_assert(zx_easfilter_matches(filter(0, ZX_EF_AND, "regex=and(r)?oid-m{1,2}ail,domain=example.com",
                                          ZX_EF_FIXED, "14.1", 1), &android));
    ck_assert(zx_easfilter_matches(filter(0, ZX_EF_ALWAYS, "", ZX_EF_FIXED, "14.1", 0), &none));
}
END_TEST

START_TEST(test_filter_compile_errors)
{
    const char *err = NULL;
    zx_easfilter f = {0};
    f.type = ZX_EF_REGEX;
    f.parameter = "(";
    ck_assert_int_eq(zx_easfilter_compile(g_pool, &f, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "invalid regular expression"));
    f.type = ZX_EF_CONTAINS;
    f.parameter = "";
    ck_assert_int_eq(zx_easfilter_compile(g_pool, &f, &err), -1);
    f.type = ZX_EF_AND;
    f.parameter = "account=a@b,brand=x";
    ck_assert_int_eq(zx_easfilter_compile(g_pool, &f, &err), -1);
    f.parameter = "and=x";
    ck_assert_int_eq(zx_easfilter_compile(g_pool, &f, &err), -1);
    f.parameter = "";
    ck_assert_int_eq(zx_easfilter_compile(g_pool, &f, &err), -1);
    zx_ef_type t;
    zx_ef_mode m;
    ck_assert_int_eq(zx_ef_type_parse("Contains", &t), 0);
    ck_assert_int_eq(t, ZX_EF_CONTAINS);
    ck_assert_int_eq(zx_ef_type_parse("brand", &t), -1);
    ck_assert_int_eq(zx_ef_mode_parse("LIMIT", &m), 0);
    ck_assert_int_eq(m, ZX_EF_LIMIT);
    ck_assert_int_eq(zx_ef_mode_parse("replace", &m), -1);
}
END_TEST

/* Issue 13, item 8: back-references refused (they make regexec exponential), the subject
 * bounded, one evaluation per (filter set, User-Agent, account) and child. */
START_TEST(test_filter_regex_hardening)
{
    const char *err = NULL;
    zx_easfilter f = {0};
    f.type = ZX_EF_REGEX;
    f.parameter = "(a*)(a*)(a*)\\3\\2\\1b";
    ck_assert_int_eq(zx_easfilter_compile(g_pool, &f, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "back-reference"));
    f.parameter = "(x)\\1";
    ck_assert_int_eq(zx_easfilter_compile(g_pool, &f, &err), -1);
    f.type = ZX_EF_OR;
    f.parameter = "contains=a,regex=(b)\\1";
    ck_assert_int_eq(zx_easfilter_compile(g_pool, &f, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "back-reference"));
    /* an escaped backslash and a backslash in a bracket expression are not back-references */
    f.type = ZX_EF_REGEX;
    f.parameter = "a\\\\1";
    ck_assert_int_eq(zx_easfilter_compile(g_pool, &f, &err), 0);
    f.parameter = "[\\1]x";
    ck_assert_int_eq(zx_easfilter_compile(g_pool, &f, &err), 0);
    f.parameter = "[]\\1]x";
    ck_assert_int_eq(zx_easfilter_compile(g_pool, &f, &err), 0);

    /* only the first ZX_EASFILTER_MAX_SUBJECT bytes of the User-Agent are matched */
    char ua[ZX_EASFILTER_MAX_SUBJECT + 2];
    memset(ua, 'a', sizeof ua - 1);
    ua[sizeof ua - 1] = '\0';
    ua[sizeof ua - 2] = 'x';
    zx_ef_subject s = {ua, NULL};
    ck_assert(!zx_easfilter_matches(filter(0, ZX_EF_REGEX, "x$", ZX_EF_FIXED, "2.5", 0), &s));
    ck_assert(!zx_easfilter_matches(filter(0, ZX_EF_CONTAINS, "ax", ZX_EF_FIXED, "2.5", 0), &s));
    ua[ZX_EASFILTER_MAX_SUBJECT - 1] = 'x';
    ck_assert(zx_easfilter_matches(filter(0, ZX_EF_REGEX, "x$", ZX_EF_FIXED, "2.5", 0), &s));
}
END_TEST

static apr_array_header_t *filter_list(apr_pool_t *p, const char *regex)
{
    apr_array_header_t *list = apr_array_make(p, 2, sizeof(zx_easfilter *));
    zx_easfilter *f = apr_pcalloc(p, sizeof *f);
    const char *err = NULL;
    f->type = ZX_EF_REGEX;
    f->parameter = regex;
    f->mode = ZX_EF_FIXED;
    f->versions = zx_vset_parse(p, "14.0", NULL);
    ck_assert_int_eq(zx_easfilter_compile(p, f, &err), 0);
    APR_ARRAY_PUSH(list, zx_easfilter *) = f;
    return list;
}

START_TEST(test_filter_cache_evaluates_once)
{
    zx_easfilter_cache *c = zx_easfilter_cache_create(g_pool);
    apr_pool_t *np;
    unsigned long evals = 0, hits = 0;
    int matched = -2;
    ck_assert_int_eq(apr_pool_create(&np, NULL), APR_SUCCESS);
    zx_easfilter_cache_install(c, np, filter_list(np, "^Android"));
    zx_ef_subject s = {"Android-Mail/1.0", "a@example.com"};
    zx_vset all = ZX_VSET_ALL;
    for (int i = 0; i < 3; i++) {
        ck_assert_str_eq(zx_vset_str(g_pool, zx_easfilter_cache_eval(c, all, &s, &matched)), "14.0");
        ck_assert_int_eq(matched, 0);
    }
    zx_easfilter_cache_stats(c, &evals, &hits);
    ck_assert_uint_eq(evals, 1);
    ck_assert_uint_eq(hits, 2);
    /* another account is another subject */
    zx_ef_subject s2 = {"Android-Mail/1.0", "b@example.com"};
    zx_easfilter_cache_eval(c, all, &s2, &matched);
    zx_easfilter_cache_stats(c, &evals, &hits);
    ck_assert_uint_eq(evals, 2);
    /* the same filters loaded again keep the answers */
    ck_assert_int_eq(apr_pool_create(&np, NULL), APR_SUCCESS);
    zx_easfilter_cache_install(c, np, filter_list(np, "^Android"));
    zx_easfilter_cache_eval(c, all, &s, &matched);
    zx_easfilter_cache_stats(c, &evals, &hits);
    ck_assert_uint_eq(evals, 2);
    /* changed filters drop them */
    ck_assert_int_eq(apr_pool_create(&np, NULL), APR_SUCCESS);
    zx_easfilter_cache_install(c, np, filter_list(np, "^iOS"));
    ck_assert_str_eq(zx_vset_str(g_pool, zx_easfilter_cache_eval(c, all, &s, &matched)),
                     "2.5,12.0,12.1,14.0,14.1,16.0,16.1");
    ck_assert_int_eq(matched, -1);
    zx_easfilter_cache_stats(c, &evals, &hits);
    ck_assert_uint_eq(evals, 3);
}
END_TEST

START_TEST(test_filter_modes_and_order)
{
    zx_easfilter *fs[4];
    fs[0] = filter(0, ZX_EF_CONTAINS, "a", ZX_EF_FIXED, "2.5,12.0,14.1", 0);
    ck_assert_str_eq(eval(fs, 1, "a", NULL), "2.5,12.0,14.1");
    ck_assert_str_eq(eval(fs, 1, "b", NULL), "2.5,12.0,12.1,14.0,14.1,16.0,16.1");
    fs[0] = filter(0, ZX_EF_CONTAINS, "a", ZX_EF_LIMIT, "12.1,2.5", 0);
    ck_assert_str_eq(eval(fs, 1, "a", NULL), "2.5,12.0,12.1");
    fs[0] = filter(0, ZX_EF_CONTAINS, "a", ZX_EF_SUBTRACT, "16.0,16.1", 0);
    ck_assert_str_eq(eval(fs, 1, "a", NULL), "2.5,12.0,12.1,14.0,14.1");
    /* add after a fixed: in order */
    fs[0] = filter(0, ZX_EF_CONTAINS, "a", ZX_EF_FIXED, "14.0", 0);
    fs[1] = filter(1, ZX_EF_CONTAINS, "a", ZX_EF_ADD, "12.1", 0);
    ck_assert_str_eq(eval(fs, 2, "a", NULL), "12.1,14.0");
    /* a blocking filter ends the evaluation */
    fs[0] = filter(0, ZX_EF_CONTAINS, "a", ZX_EF_FIXED, "14.0", 1);
    ck_assert_str_eq(eval(fs, 2, "a", NULL), "14.0");
    /* a blocking filter that does not match does not block */
    fs[0] = filter(0, ZX_EF_CONTAINS, "zzz", ZX_EF_FIXED, "14.0", 1);
    fs[1] = filter(1, ZX_EF_ALWAYS, "", ZX_EF_LIMIT, "14.1", 0);
    ck_assert_str_eq(eval(fs, 2, "a", NULL), "2.5,12.0,12.1,14.0,14.1");
    /* the documented sample: Outlook fixed 14.0 blocking, Samsung limit 2.5, always limit 14.1 */
    fs[0] = filter(0, ZX_EF_OR, "contains=outlook/,contains=microsoft.outlook", ZX_EF_FIXED,
                   "14.0", 1);
    fs[1] = filter(1, ZX_EF_CONTAINS, "samsung", ZX_EF_LIMIT, "2.5", 0);
    fs[2] = filter(2, ZX_EF_ALWAYS, "", ZX_EF_LIMIT, "14.1", 0);
    ck_assert_str_eq(eval(fs, 3, "Outlook/16.0 (Windows)", NULL), "14.0");
    ck_assert_str_eq(eval(fs, 3, "SAMSUNG-SM-G991B/101", NULL), "2.5");
    ck_assert_str_eq(eval(fs, 3, "Apple-iPhone13C2/2001", NULL), "2.5,12.0,12.1,14.0,14.1");
    int matched = -2;
    zx_ef_subject s = {"nothing", NULL};
    zx_easfilters_eval((const zx_easfilter *const *)fs, 2, ZX_VSET_ALL, &s, &matched);
    ck_assert_int_eq(matched, -1);
    /* never a version the server does not offer */
    fs[0] = filter(0, ZX_EF_CONTAINS, "a", ZX_EF_ADD, "16.1", 0);
    s.user_agent = "a";
    ck_assert_uint_eq(zx_easfilters_eval((const zx_easfilter *const *)fs, 1,
                                         zx_vset_of(ZX_V141), &s, &matched),
                      zx_vset_of(ZX_V141));
    ck_assert_int_eq(matched, 0);
}
END_TEST

START_TEST(test_filter_rendering)
{
    ck_assert_str_eq(zx_easfilter_rule_str(g_pool, filter(0, ZX_EF_OR,
                         "contains=outlook/,contains=microsoft.outlook", ZX_EF_FIXED, "14.0", 1)),
                     "[type = or; rules = [[type = contains; rule = outlook/] OR "
                     "[type = contains; rule = microsoft.outlook]]");
    ck_assert_str_eq(zx_easfilter_rule_str(g_pool, filter(1, ZX_EF_CONTAINS, "samsung",
                                                          ZX_EF_LIMIT, "2.5", 0)),
                     "[type = contains; rule = samsung]");
    ck_assert_str_eq(zx_easfilter_rule_str(g_pool, filter(2, ZX_EF_ALWAYS, "", ZX_EF_LIMIT,
                                                          "14.1", 0)),
                     "[type = always]");
    ck_assert_str_eq(zx_easfilter_rule_str(g_pool, filter(3, ZX_EF_AND,
                         "account=user@example.com,contains=android", ZX_EF_FIXED, "14.1", 1)),
                     "[type = and; rules = [[type = account; rule = user@example.com] AND "
                     "[type = contains; rule = android]]");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("dos");
    TCase *tc = tcase_create("dos");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_region_size_and_init);
    tcase_add_test(tc, test_max_requests_then_jail);
    tcase_add_test(tc, test_window_slides);
    tcase_add_test(tc, test_keys_are_independent);
    tcase_add_test(tc, test_disabled_and_limits_change);
    tcase_add_test(tc, test_reset_and_generation);
    tcase_add_test(tc, test_full_table_eviction);
    tcase_add_test(tc, test_sampled_ring);
    tcase_add_test(tc, test_exact_up_to_ring);
    tcase_add_test(tc, test_clock_wrap);
    tcase_add_test(tc, test_filter_types);
    tcase_add_test(tc, test_filter_compile_errors);
    tcase_add_test(tc, test_filter_regex_hardening);
    tcase_add_test(tc, test_filter_cache_evaluates_once);
    tcase_add_test(tc, test_filter_modes_and_order);
    tcase_add_test(tc, test_filter_rendering);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    apr_initialize();
    return zx_run_tap(suite());
}
