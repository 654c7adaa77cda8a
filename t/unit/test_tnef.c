/* zxmobile - unit tests of the TNEF reader (libzxsync/mime/tnef.c) and of winmail.dat in the
 * MIME reader: the streams are built here attribute by attribute as [MS-OXTNEF] lays them out
 * (and the properties as 2.1.3.4 does); every prefix of a stream and a stream with lengths that
 * lie are read without reading past the input (valgrind, `./zx test`).  Check, TAP. */
#include <zxsync/mime.h>

#include "../../libzxsync/mime/tnef.h"

#include <apr_base64.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <check.h>
#include <stdint.h>
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

/* ---- building streams ----------------------------------------------------------------------- */

typedef struct {
    unsigned char b[65536];
    apr_size_t n;
} buf;

static void put(buf *o, const void *d, apr_size_t n)
{
    ck_assert_uint_le(o->n + n, sizeof o->b);
    memcpy(o->b + o->n, d, n);
    o->n += n;
}

static void u16(buf *o, uint32_t v)
{
    unsigned char b[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
    put(o, b, 2);
}

static void u32(buf *o, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    put(o, b, 4);
}

static void attr(buf *o, int level, uint32_t id, const void *data, apr_size_t n)
{
    unsigned char lvl = (unsigned char)level;
    put(o, &lvl, 1);
    u32(o, id);
    u32(o, (uint32_t)n);
    put(o, data, n);
    uint32_t sum = 0;
    for (apr_size_t i = 0; i < n; i++)
        sum += ((const unsigned char *)data)[i];
    u16(o, sum & 0xFFFF);
}

static void pad(buf *o)
{
    static const unsigned char zero[4] = {0};
    put(o, zero, (4 - o->n % 4) % 4);
}

/* one variable-length property value (count 1) */
static void prop_var(buf *o, uint32_t tag, const void *v, apr_size_t n)
{
    u32(o, tag);
    u32(o, 1);
    u32(o, (uint32_t)n);
    put(o, v, n);
    pad(o);
}

static apr_size_t utf16(const char *ascii, unsigned char *out)
{
    apr_size_t n = 0;
    for (const char *s = ascii; *s; s++) {
        out[n++] = (unsigned char)*s;
        out[n++] = 0;
    }
    out[n++] = 0;
    out[n++] = 0;
    return n;
}

static const char PDF[] = "%PDF-1.4 the report";
static const unsigned char PNG[] = {0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0, 0, 13};

/* A stream as Outlook writes it: version, code page, a message class, the message's
 * properties (PR_BODY), then three attachments: report.pdf (title and data attributes, a long
 * name in UTF-16), a picture with its data only in PR_ATTACH_DATA_BIN and a MIME tag, and an
 * embedded message (PR_ATTACH_METHOD 5, left out). */
static void outlook_stream(buf *o)
{
    o->n = 0;
    u32(o, 0x223E9F78);
    u16(o, 0x1234);
    unsigned char ver[4] = {0, 0, 1, 0};
    attr(o, 1, 0x00089006, ver, 4);
    unsigned char cp[8] = {0xE4, 0x04, 0, 0, 0, 0, 0, 0};     /* 1252 */
    attr(o, 1, 0x00069007, cp, 8);
    attr(o, 1, 0x00078008, "IPM.Microsoft Mail.Note", 24);
    buf props = {.n = 0};
    u32(&props, 3);
    u32(&props, 0x00170003);            /* PR_IMPORTANCE, PT_LONG */
    u32(&props, 1);
    /* a named property: GUID, kind 1 (a name), the name in UTF-16 padded */
    u32(&props, 0x8001001F);
    static const unsigned char guid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    put(&props, guid, 16);
    u32(&props, 1);
    unsigned char name[32];
    apr_size_t nl = utf16("Keywords", name);
    u32(&props, (uint32_t)nl);
    put(&props, name, nl);
    pad(&props);
    unsigned char kw[16];
    apr_size_t kwl = utf16("x", kw);
    u32(&props, 1);
    u32(&props, (uint32_t)kwl);
    put(&props, kw, kwl);
    pad(&props);
    static const char body[] = "Caf\xe9 at noon.\r\nSee the report.";
    prop_var(&props, 0x1000001E, body, sizeof body);      /* PR_BODY, PT_STRING8, with NUL */
    attr(o, 1, 0x00069003, props.b, props.n);

    /* attachment 1 */
    unsigned char rend[14] = {0};
    attr(o, 2, 0x00069002, rend, sizeof rend);
    attr(o, 2, 0x00018010, "REPORT~1.PDF", 13);
    attr(o, 2, 0x0006800F, PDF, sizeof PDF - 1);
    buf ap = {.n = 0};
    u32(&ap, 1);
    unsigned char ln[64];
    apr_size_t lnl = utf16("Quarterly report.pdf", ln);
    prop_var(&ap, 0x3707001F, ln, lnl);
    attr(o, 2, 0x00069005, ap.b, ap.n);

    /* attachment 2: data in the properties */
    attr(o, 2, 0x00069002, rend, sizeof rend);
    attr(o, 2, 0x00018010, "logo", 5);
    buf ap2 = {.n = 0};
    u32(&ap2, 3);
    prop_var(&ap2, 0x370E001E, "image/png", 10);
    prop_var(&ap2, 0x3712001E, "logo@outlook", 13);
    prop_var(&ap2, 0x37010102, PNG, sizeof PNG);
    attr(o, 2, 0x00069005, ap2.b, ap2.n);

    /* attachment 3: an embedded message */
    attr(o, 2, 0x00069002, rend, sizeof rend);
    attr(o, 2, 0x00018010, "Fwd.msg", 8);
    buf ap3 = {.n = 0};
    u32(&ap3, 2);
    u32(&ap3, 0x37050003);
    u32(&ap3, 5);
    unsigned char obj[16 + 6] = {0};
    prop_var(&ap3, 0x3701000D, obj, sizeof obj);
    attr(o, 2, 0x00069005, ap3.b, ap3.n);
}

/* ---- zx_tnef_parse ------------------------------------------------------------------------- */

static int str_is(const zx_tnef_string *s, const char *want)
{
    return s->data && !s->utf16 && s->len == strlen(want) && memcmp(s->data, want, s->len) == 0;
}

START_TEST(reads_attachments_body_and_codepage)
{
    buf o;
    outlook_stream(&o);
    zx_tnef t;
    ck_assert_int_eq(zx_tnef_parse(g_pool, o.b, o.n, &t), 0);
    ck_assert(!t.damaged);
    ck_assert_int_eq(t.codepage, 1252);
    ck_assert(str_is(&t.body, "Caf\xe9 at noon.\r\nSee the report."));
    ck_assert_int_eq(t.attachments->nelts, 3);
    zx_tnef_attachment *a = &APR_ARRAY_IDX(t.attachments, 0, zx_tnef_attachment);
    ck_assert(str_is(&a->title, "REPORT~1.PDF"));
    ck_assert(a->long_name.utf16 && a->long_name.len == 2 * strlen("Quarterly report.pdf"));
    ck_assert_uint_eq(a->len, sizeof PDF - 1);
    ck_assert(memcmp(a->data, PDF, a->len) == 0);
    a = &APR_ARRAY_IDX(t.attachments, 1, zx_tnef_attachment);
    ck_assert(str_is(&a->mime_type, "image/png"));
    ck_assert(str_is(&a->content_id, "logo@outlook"));
    ck_assert_uint_eq(a->len, sizeof PNG);
    ck_assert(memcmp(a->data, PNG, sizeof PNG) == 0);
    ck_assert(!a->embedded);
    a = &APR_ARRAY_IDX(t.attachments, 2, zx_tnef_attachment);
    ck_assert(a->embedded && !a->data);
}
END_TEST

START_TEST(not_tnef_and_damaged_streams)
{
    zx_tnef t;
    ck_assert_int_eq(zx_tnef_parse(g_pool, (const unsigned char *)"hello world", 11, &t), -1);
    ck_assert_int_eq(zx_tnef_parse(g_pool, (const unsigned char *)"", 0, &t), -1);
    buf o;
    outlook_stream(&o);
    /* every prefix: read up to the damage, never past the input (valgrind) */
    for (apr_size_t n = 0; n < o.n; n++) {
        unsigned char *copy = malloc(n ? n : 1);
        memcpy(copy, o.b, n);
        int rc = zx_tnef_parse(g_pool, copy, n, &t);
        if (n < 6)
            ck_assert_int_eq(rc, -1);
        else {
            ck_assert_int_eq(rc, 0);
            for (int i = 0; i < t.attachments->nelts; i++) {
                zx_tnef_attachment *a = &APR_ARRAY_IDX(t.attachments, i, zx_tnef_attachment);
                if (a->data)
                    ck_assert(a->data >= copy && a->data + a->len <= copy + n);
            }
        }
        free(copy);
    }
    /* lengths that lie: every 32-bit field set to huge values in turn */
    for (apr_size_t off = 6; off + 4 <= o.n; off++) {
        buf bad = o;
        bad.b[off] = 0xFF;
        bad.b[off + 1] = 0xFF;
        bad.b[off + 2] = 0xFF;
        bad.b[off + 3] = 0x7F;
        unsigned char *copy = malloc(bad.n);
        memcpy(copy, bad.b, bad.n);
        ck_assert_int_eq(zx_tnef_parse(g_pool, copy, bad.n, &t), 0);
        free(copy);
    }
}
END_TEST

/* ---- winmail.dat in a message ------------------------------------------------------------------ */

static const char *with_winmail(const buf *o, const char *type, const char *text)
{
    char *b64 = apr_palloc(g_pool, (apr_size_t)apr_base64_encode_len((int)o->n));
    apr_base64_encode(b64, (const char *)o->b, (int)o->n);
    return apr_psprintf(g_pool,
        "From: Olga <olga@example.com>\r\nTo: ann@example.com\r\nSubject: Report\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
        "%s"
        "--b\r\nContent-Type: %s; name=\"winmail.dat\"\r\n"
        "Content-Disposition: attachment; filename=\"winmail.dat\"\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b--\r\n",
        text ? apr_psprintf(g_pool, "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
                            text) : "",
        type, b64);
}

START_TEST(winmail_files_are_the_messages_attachments)
{
    buf o;
    outlook_stream(&o);
    const char *msg = with_winmail(&o, "application/ms-tnef", "The outer text.");
    zx_mime_message *m = NULL;
    const char *err = NULL;
    ck_assert_int_eq(zx_mime_parse(g_pool, msg, strlen(msg), &m, &err), 0);
    ck_assert_str_eq(m->text_plain, "The outer text.");
    ck_assert_int_eq(m->attachments->nelts, 2);          /* not winmail.dat, not the .msg */
    zx_mime_attachment *a = &APR_ARRAY_IDX(m->attachments, 0, zx_mime_attachment);
    ck_assert_str_eq(a->name, "Quarterly report.pdf");
    ck_assert_str_eq(a->content_type, "application/pdf");
    ck_assert_uint_eq(a->size, sizeof PDF - 1);
    const char *data;
    apr_size_t len;
    ck_assert_int_eq(zx_mime_attachment_data(g_pool, msg, strlen(msg), a->part, &data, &len,
                                             &err), 0);
    ck_assert_uint_eq(len, sizeof PDF - 1);
    ck_assert(memcmp(data, PDF, len) == 0);
    a = &APR_ARRAY_IDX(m->attachments, 1, zx_mime_attachment);
    ck_assert_str_eq(a->name, "logo");
    ck_assert_str_eq(a->content_type, "image/png");
    ck_assert_str_eq(a->content_id, "logo@outlook");
    ck_assert_int_eq(zx_mime_attachment_data(g_pool, msg, strlen(msg), a->part, &data, &len,
                                             &err), 0);
    ck_assert_uint_eq(len, sizeof PNG);
    ck_assert(memcmp(data, PNG, len) == 0);
    /* the embedded message's number, and numbers past the stream, are no attachment */
    int leaf = a->part & 0xFFFF;
    ck_assert_int_eq(zx_mime_attachment_data(g_pool, msg, strlen(msg), leaf + (3 << 16), &data,
                                             &len, &err), -1);
    ck_assert_int_eq(zx_mime_attachment_data(g_pool, msg, strlen(msg), leaf + (9 << 16), &data,
                                             &len, &err), -1);
    ck_assert_int_eq(zx_mime_attachment_data(g_pool, msg, strlen(msg), (leaf - 1) + (1 << 16),
                                             &data, &len, &err), -1);   /* the text leaf */
}
END_TEST

START_TEST(winmail_body_when_there_is_no_other)
{
    buf o;
    outlook_stream(&o);
    const char *msg = with_winmail(&o, "application/octet-stream", NULL);
    zx_mime_message *m = NULL;
    const char *err = NULL;
    ck_assert_int_eq(zx_mime_parse(g_pool, msg, strlen(msg), &m, &err), 0);
    /* PR_BODY in code page 1252, as UTF-8 */
    ck_assert_str_eq(m->text_plain, "Caf\xc3\xa9 at noon.\r\nSee the report.");
    ck_assert_int_eq(m->attachments->nelts, 2);
}
END_TEST

START_TEST(a_winmail_without_files_stays_an_attachment)
{
    buf o = {.n = 0};
    u32(&o, 0x223E9F78);
    u16(&o, 1);
    attr(&o, 1, 0x00078008, "IPM.Note", 9);
    const char *msg = with_winmail(&o, "application/ms-tnef", "Text.");
    zx_mime_message *m = NULL;
    const char *err = NULL;
    ck_assert_int_eq(zx_mime_parse(g_pool, msg, strlen(msg), &m, &err), 0);
    ck_assert_int_eq(m->attachments->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(m->attachments, 0, zx_mime_attachment).name, "winmail.dat");
    /* and something that only claims to be TNEF */
    buf junk = {.n = 0};
    put(&junk, "not tnef at all", 15);
    msg = with_winmail(&junk, "application/ms-tnef", "Text.");
    ck_assert_int_eq(zx_mime_parse(g_pool, msg, strlen(msg), &m, &err), 0);
    ck_assert_int_eq(m->attachments->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(m->attachments, 0, zx_mime_attachment).name, "winmail.dat");
}
END_TEST

int main(void)
{
    apr_initialize();
    Suite *s = suite_create("tnef");
    TCase *tc = tcase_create("tnef");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, reads_attachments_body_and_codepage);
    tcase_add_test(tc, not_tnef_and_damaged_streams);
    tcase_add_test(tc, winmail_files_are_the_messages_attachments);
    tcase_add_test(tc, winmail_body_when_there_is_no_other);
    tcase_add_test(tc, a_winmail_without_files_stays_an_attachment);
    suite_add_tcase(s, tc);
    return zx_run_tap(s);
}
