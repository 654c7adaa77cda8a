/* zxmobile - unit tests of the crypt(3) password hashes (zxsync/password.h), Check printing
 * TAP.  Hashes of other formats ($6$, $5$, $2b$, ...) are made here with libxcrypt directly,
 * as an import from another system would bring them.
 *
 * The test program is linked with libzxsync only (not -lcrypt), so libxcrypt's
 * crypt_gensalt_rn and crypt_rn are looked up at run time in the libcrypt that libzxsync
 * already loaded. */
#include <zxsync/password.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <check.h>
#include <crypt.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

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

typedef char *gensalt_fn(const char *prefix, unsigned long count, const char *rbytes,
                         int nrbytes, char *output, int output_size);
typedef char *crypt_rn_fn(const char *phrase, const char *setting, void *data, int size);

static void *libcrypt_sym(const char *name)
{
    void *f = dlsym(RTLD_DEFAULT, name);
    ck_assert_msg(f != NULL, "%s not found in the loaded libcrypt", name);
    return f;
}

/* A hash made by libxcrypt itself; NULL when this libxcrypt cannot make that kind. */
static const char *foreign_hash(const char *prefix, unsigned long count, const char *password)
{
    gensalt_fn *gensalt;
    crypt_rn_fn *cryptrn;
    *(void **)&gensalt = libcrypt_sym("crypt_gensalt_rn");
    *(void **)&cryptrn = libcrypt_sym("crypt_rn");
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    if (!gensalt(prefix, count, NULL, 0, setting, sizeof setting))
        return NULL;
    struct crypt_data *cd = apr_pcalloc(g_pool, sizeof *cd);
    const char *h = cryptrn(password, setting, cd, (int)sizeof *cd);
    if (!h || h[0] == '*')
        return NULL;
    return apr_pstrdup(g_pool, h);
}

START_TEST(test_hash_and_verify_yescrypt)
{
    const char *h1 = NULL, *h2 = NULL, *err = NULL;
    ck_assert_int_eq(zx_password_hash(g_pool, "correct horse", NULL, &h1, &err), 0);
    ck_assert_ptr_nonnull(h1);
    ck_assert_str_eq(ZX_PASSWORD_DEFAULT_PREFIX, "$y$");
    ck_assert_int_eq(strncmp(h1, "$y$", 3), 0);
    ck_assert_uint_gt(strlen(h1), 40);
    ck_assert_int_eq(zx_password_is_hash(h1), 1);
    ck_assert_int_eq(zx_password_verify(g_pool, "correct horse", h1), 1);
    ck_assert_int_eq(zx_password_verify(g_pool, "correct horsE", h1), 0);
    ck_assert_int_eq(zx_password_verify(g_pool, "correct horse ", h1), 0);
    ck_assert_int_eq(zx_password_verify(g_pool, "correct hors", h1), 0);
    ck_assert_int_eq(zx_password_verify(g_pool, "", h1), 0);

    /* a fresh salt every time */
    ck_assert_int_eq(zx_password_hash(g_pool, "correct horse", "$y$", &h2, &err), 0);
    ck_assert_int_eq(strncmp(h2, "$y$", 3), 0);
    ck_assert_str_ne(h1, h2);
    ck_assert_int_eq(zx_password_verify(g_pool, "correct horse", h2), 1);

    /* the hash is the password's, not any password's: a tampered hash fails */
    char *t = apr_pstrdup(g_pool, h1);
    size_t n = strlen(t);
    t[n - 1] = t[n - 1] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(zx_password_verify(g_pool, "correct horse", t), 0);
    t = apr_pstrndup(g_pool, h1, n - 1);
    ck_assert_int_eq(zx_password_verify(g_pool, "correct horse", t), 0);
    t = apr_pstrcat(g_pool, h1, "x", NULL);
    ck_assert_int_eq(zx_password_verify(g_pool, "correct horse", t), 0);
}
END_TEST

START_TEST(test_hash_other_prefixes)
{
    static const char *const prefixes[] = {"$6$", "$5$", "$2b$"};
    for (unsigned i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        const char *h = NULL, *err = NULL;
        ck_assert_msg(zx_password_hash(g_pool, "s3cret:pw", prefixes[i], &h, &err) == 0,
                      "%s: %s", prefixes[i], err);
        ck_assert_int_eq(strncmp(h, prefixes[i], strlen(prefixes[i])), 0);
        ck_assert_int_eq(zx_password_is_hash(h), 1);
        ck_assert_int_eq(zx_password_verify(g_pool, "s3cret:pw", h), 1);
        ck_assert_int_eq(zx_password_verify(g_pool, "s3cret:pW", h), 0);
    }
    /* an unknown method is an error with a message */
    const char *h = NULL, *err = NULL;
    ck_assert_int_eq(zx_password_hash(g_pool, "pw", "$zz$", &h, &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "$zz$"));
    ck_assert_ptr_null(h);
}
END_TEST

START_TEST(test_verify_foreign_hashes)
{
    static const struct {
        const char *prefix;
        unsigned long count;
    } kinds[] = {{"$6$", 5000}, {"$5$", 5000}, {"$2b$", 5}, {"$y$", 0}, {"$gy$", 0},
                 {"$7$", 0}};
    unsigned made = 0;
    for (unsigned i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        const char *h = foreign_hash(kinds[i].prefix, kinds[i].count, "imported pw");
        if (!h) {
            /* $6$ and $2b$ at least must be available: they are what imports carry */
            ck_assert_msg(strcmp(kinds[i].prefix, "$6$") != 0 &&
                          strcmp(kinds[i].prefix, "$2b$") != 0,
                          "libxcrypt cannot make %s hashes", kinds[i].prefix);
            continue;
        }
        made++;
        ck_assert_int_eq(strncmp(h, kinds[i].prefix, strlen(kinds[i].prefix)), 0);
        ck_assert_msg(zx_password_is_hash(h) == 1, "%s not a hash", h);
        ck_assert_msg(zx_password_verify(g_pool, "imported pw", h) == 1, "%s does not verify", h);
        ck_assert_int_eq(zx_password_verify(g_pool, "imported pW", h), 0);
        ck_assert_int_eq(zx_password_verify(g_pool, "", h), 0);
    }
    ck_assert_uint_ge(made, 3);

    /* published test vectors */
    /* glibc/libxcrypt SHA-512 crypt: "Hello world!" with salt "saltstring" */
    ck_assert_int_eq(zx_password_verify(g_pool, "Hello world!",
                                        "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3u"
                                        "BnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"), 1);
    ck_assert_int_eq(zx_password_verify(g_pool, "Hello world",
                                        "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3u"
                                        "BnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"), 0);
    /* SHA-256 crypt, same vector set */
    ck_assert_int_eq(zx_password_verify(g_pool, "Hello world!",
                                        "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZ"
                                        "aBBGWEc5"), 1);
    /* bcrypt (OpenBSD vector): "U*U" */
    ck_assert_int_eq(zx_password_verify(g_pool, "U*U",
                                        "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
                     1);
    ck_assert_int_eq(zx_password_verify(g_pool, "U*V",
                                        "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
                     0);
}
END_TEST

START_TEST(test_malformed_hashes)
{
    static const char *const bad[] = {
        "", "$", "$$", "$y$", "$6$", "$2b$", "*", "*0", "!", "!$6$abc$def", "x",
        "plaintext", "correct horse", "$zz$abc$def", "$6", "{CRYPT}$6$saltstring$abc",
        "$6$saltstring", "$y$j9T$", "$2b$05$short", "$2b$99$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        /* the "hash" itself as the password must not open it either */
        ck_assert_msg(zx_password_verify(g_pool, bad[i], bad[i]) == 0, "\"%s\" verified", bad[i]);
        ck_assert_msg(zx_password_verify(g_pool, "", bad[i]) == 0, "\"%s\" verified ''", bad[i]);
        ck_assert_msg(zx_password_verify(g_pool, "pw", bad[i]) == 0, "\"%s\" verified", bad[i]);
    }
    ck_assert_int_eq(zx_password_verify(g_pool, "pw", NULL), 0);
    const char *h = NULL, *err = NULL;
    ck_assert_int_eq(zx_password_hash(g_pool, "pw", "$6$", &h, &err), 0);
    ck_assert_int_eq(zx_password_verify(g_pool, NULL, h), 0);
    /* a DES hash (legacy, no '$' prefix) is not accepted as a hash */
    ck_assert_int_eq(zx_password_is_hash("abJnggxhB/yWI"), 0);
    ck_assert_int_eq(zx_password_verify(g_pool, "test", "abJnggxhB/yWI"), 0);
}
END_TEST

START_TEST(test_is_hash)
{
    const char *h = NULL, *err = NULL;
    ck_assert_int_eq(zx_password_hash(g_pool, "pw", NULL, &h, &err), 0);
    ck_assert_int_eq(zx_password_is_hash(h), 1);
    ck_assert_int_eq(zx_password_is_hash("$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/"
                                         "O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"), 1);
    ck_assert_int_eq(zx_password_is_hash("$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJK"
                                         "vyOeW"), 1);
    ck_assert_int_eq(zx_password_is_hash(NULL), 0);
    ck_assert_int_eq(zx_password_is_hash(""), 0);
    ck_assert_int_eq(zx_password_is_hash("plain"), 0);
    ck_assert_int_eq(zx_password_is_hash("correct horse battery staple"), 0);
    ck_assert_int_eq(zx_password_is_hash("$zz$abc$def"), 0);
    ck_assert_int_eq(zx_password_is_hash("*"), 0);
    ck_assert_int_eq(zx_password_is_hash("!"), 0);
    ck_assert_int_eq(zx_password_is_hash("{CRYPT}$6$abc$def"), 0);
}
END_TEST

START_TEST(test_password_edge_cases)
{
    const char *h = NULL, *err = NULL;
    /* the empty password hashes and verifies like any other */
    ck_assert_int_eq(zx_password_hash(g_pool, "", NULL, &h, &err), 0);
    ck_assert_int_eq(zx_password_verify(g_pool, "", h), 1);
    ck_assert_int_eq(zx_password_verify(g_pool, " ", h), 0);
    /* long passwords: libxcrypt takes up to CRYPT_MAX_PASSPHRASE_SIZE - 1 bytes */
    size_t max = CRYPT_MAX_PASSPHRASE_SIZE - 1;
    char *longpw = apr_palloc(g_pool, max + 2);
    for (size_t i = 0; i <= max; i++)
        longpw[i] = (char)('a' + i % 26);
    longpw[max] = 0;
    ck_assert_int_eq(zx_password_hash(g_pool, longpw, NULL, &h, &err), 0);
    ck_assert_int_eq(zx_password_verify(g_pool, longpw, h), 1);
    longpw[max - 1] = 'X';
    ck_assert_int_eq(zx_password_verify(g_pool, longpw, h), 0);
    /* one byte more is refused with a message, and never verifies */
    longpw[max] = 'y';
    longpw[max + 1] = 0;
    const char *h2 = NULL;
    err = NULL;
    ck_assert_int_eq(zx_password_hash(g_pool, longpw, NULL, &h2, &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_null(h2);
    ck_assert_int_eq(zx_password_verify(g_pool, longpw, h), 0);
    /* non-ASCII */
    ck_assert_int_eq(zx_password_hash(g_pool, "p\xC3\xA4ssw\xC3\xB6rd", "$6$", &h, &err), 0);
    ck_assert_int_eq(zx_password_verify(g_pool, "p\xC3\xA4ssw\xC3\xB6rd", h), 1);
    ck_assert_int_eq(zx_password_verify(g_pool, "p\xC3\xA4ssword", h), 0);
}
END_TEST

/* ---- the hash gate: a counting semaphore with a bounded wait -------------------------------- */

typedef struct {
    zx_hash_gate *g;
    int rv;
    long report;
    apr_time_t waited;
} gate_try;

static void *APR_THREAD_FUNC try_enter(apr_thread_t *t, void *data)
{
    gate_try *x = data;
    apr_time_t t0 = apr_time_now();
    x->rv = zx_hash_gate_enter(x->g, &x->report);
    x->waited = apr_time_now() - t0;
    if (x->rv == 0)
        zx_hash_gate_leave(x->g);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

static gate_try run_try(zx_hash_gate *g)
{
    gate_try x = {g, 99, 99, 0};
    apr_thread_t *t;
    apr_status_t st;
    ck_assert_int_eq(apr_thread_create(&t, NULL, try_enter, &x, g_pool), APR_SUCCESS);
    apr_thread_join(&st, t);
    return x;
}

START_TEST(test_hash_gate)
{
    zx_hash_gate *g = zx_hash_gate_create(g_pool, 2, 100);
    ck_assert_ptr_nonnull(g);
    long report = 99;
    ck_assert_int_eq(zx_hash_gate_enter(g, &report), 0);
    ck_assert_int_eq(report, -1);
    /* one slot left: another thread gets it at once */
    gate_try x = run_try(g);
    ck_assert_int_eq(x.rv, 0);
    ck_assert_int_lt(x.waited, apr_time_from_msec(50));
    ck_assert_int_eq(zx_hash_gate_enter(g, NULL), 0);
    /* both taken: refused after the wait; the first refusal of an interval reports the
     * previous interval's count (none), the next ones report nothing */
    x = run_try(g);
    ck_assert_int_eq(x.rv, -1);
    ck_assert_int_ge(x.waited, apr_time_from_msec(90));
    ck_assert_int_eq(x.report, 0);
    x = run_try(g);
    ck_assert_int_eq(x.rv, -1);
    ck_assert_int_eq(x.report, -1);
    zx_hash_gate_stats st;
    zx_hash_gate_stats_get(g, &st);
    ck_assert_uint_eq(st.slots, 2);
    ck_assert_uint_eq(st.busy, 2);
    ck_assert_uint_eq(st.waiting, 0);
    ck_assert_uint_eq(st.entered, 3);
    ck_assert_uint_eq(st.refused, 2);
    /* a slot given back is taken by a waiter */
    zx_hash_gate_leave(g);
    x = run_try(g);
    ck_assert_int_eq(x.rv, 0);
    zx_hash_gate_leave(g);
    zx_hash_gate_stats_get(g, &st);
    ck_assert_uint_eq(st.busy, 0);
}
END_TEST

static Suite *password_suite(void)
{
    Suite *s = suite_create("password");
    TCase *tc = tcase_create("password");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_hash_and_verify_yescrypt);
    tcase_add_test(tc, test_hash_other_prefixes);
    tcase_add_test(tc, test_verify_foreign_hashes);
    tcase_add_test(tc, test_malformed_hashes);
    tcase_add_test(tc, test_is_hash);
    tcase_add_test(tc, test_password_edge_cases);
    tcase_add_test(tc, test_hash_gate);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    apr_initialize();
    return zx_run_tap(password_suite());
}
