/* zxmobile - unit tests: the policy fixture test_policy.c and test_wap.c share (the includer
 * defines g_pool, its test pool, and includes <check.h> and <zxsync/policy.h> first). */
#ifndef ZX_TEST_POLICY_FIXTURE_H
#define ZX_TEST_POLICY_FIXTURE_H

#include <string.h>
#include <zxsync/attrs.h>

/* A policy holding the built-in defaults of attrs.def. */
static zx_policy defaults(void)
{
    zx_policy pol;
    memset(&pol, 0, sizeof pol);
    const zx_policy_item *items = zx_policy_items(&pol.count);
    pol.values = apr_pcalloc(g_pool, pol.count * sizeof *pol.values);
    pol.from = apr_pcalloc(g_pool, pol.count * sizeof *pol.from);
    for (apr_size_t i = 0; i < pol.count; i++) {
        const zx_attr_def *a = zx_attr_find(items[i].attr);
        ck_assert_ptr_nonnull(a);
        pol.values[i] = a->def;
    }
    pol.mdm = 1;
    return pol;
}

/* One item of pol set by its attribute name. */
static void set(zx_policy *pol, const char *name, const char *value)
{
    const zx_policy_item *it = zx_policy_item_find(name);
    ck_assert_ptr_nonnull(it);
    apr_size_t n;
    const zx_policy_item *items = zx_policy_items(&n);
    pol->values[it - items] = value;
}

#endif
