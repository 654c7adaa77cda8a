/* zxmobile - unit tests of the MIME reader (zxsync/mime.h, GMime 3) and of composing a
 * message to send (zxsync/mime_compose.h), Check printing TAP.
 *
 * The fixtures in t/fixtures/mime/ are written byte by byte for these tests (charsets, encoded
 * words, RFC 2231 names, nested multiparts, S/MIME, an invitation, a broken message, an empty
 * one, a huge header line); every field zx_mime_parse() fills is asserted.  Run under valgrind
 * with CK_FORK=no by `./zx test`: everything lives in the test's pool, GMime objects are freed.
 */
#include <zxsync/buf.h>
#include <zxsync/mime.h>
#include <zxsync/mime_compose.h>
#include <zxsync/text.h>

#include <apr_base64.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap_run.h"

#ifndef ZX_SRCDIR
#define ZX_SRCDIR "."
#endif
#define FIXTURES ZX_SRCDIR "/t/fixtures/mime/"

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

static const char *fixture(const char *name, apr_size_t *len)
{
    const char *path = apr_pstrcat(g_pool, FIXTURES, name, NULL);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = apr_palloc(g_pool, (apr_size_t)n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (apr_size_t)n;
    return buf;
}

static zx_mime_message *parse_fixture(const char *name)
{
    apr_size_t len;
    const char *data = fixture(name, &len);
    zx_mime_message *m = NULL;
    const char *err = NULL;
    ck_assert_int_eq(zx_mime_parse(g_pool, data, len, &m, &err), 0);
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_nonnull(m->attachments);
    return m;
}

static zx_mime_message *parse_str(const char *s)
{
    zx_mime_message *m = NULL;
    const char *err = NULL;
    ck_assert_int_eq(zx_mime_parse(g_pool, s, strlen(s), &m, &err), 0);
    return m;
}

static const zx_mime_attachment *att(const zx_mime_message *m, int i)
{
    ck_assert_int_gt(m->attachments->nelts, i);
    return &APR_ARRAY_IDX(m->attachments, i, zx_mime_attachment);
}

#define SECONDS(m) ((long long)((m)->date / APR_USEC_PER_SEC))

/* ---- charsets and headers ----------------------------------------------------------------- */

START_TEST(test_latin1)
{
    zx_mime_message *m = parse_fixture("latin1.eml");
    ck_assert_str_eq(m->subject, "Caf\u00e9 cr\u00e8me");
    ck_assert_str_eq(m->from, "Jean Dupr\u00e9 <jean@example.fr>");
    ck_assert_ptr_null(m->sender);
    ck_assert_str_eq(m->to, "Alice <alice@example.com>, bob@example.com");
    ck_assert_str_eq(m->cc, "\"Carol, C.\" <carol@example.com>");
    ck_assert_ptr_null(m->bcc);
    ck_assert_ptr_null(m->reply_to);
    ck_assert_str_eq(m->message_id, "latin1-1@example.fr");
    ck_assert_ptr_null(m->in_reply_to);
    ck_assert_ptr_null(m->references);
    ck_assert_str_eq(m->thread_topic, "Caf\u00e9 cr\u00e8me");
    ck_assert_int_eq(SECONDS(m), 1699950600LL);     /* 2023-11-14 08:30:00 UTC */
    ck_assert_int_eq(m->importance, 2);
    ck_assert_str_eq(m->message_class, "IPM.Note");
    ck_assert_str_eq(m->content_class, "urn:content-classes:message");
    ck_assert_str_eq(m->text_plain,
                     "Caf\u00e9 cr\u00e8me \u00e0 la fran\u00e7aise.\nPrix : 12\u00a0EUR? Non, 12 \u00a3.\n");
    ck_assert_ptr_null(m->text_html);
    ck_assert_int_eq(m->native_body_type, 1);
    ck_assert_int_eq(m->attachments->nelts, 0);
    ck_assert_int_eq(m->malformed, 0);
}
END_TEST

START_TEST(test_windows1252)
{
    zx_mime_message *m = parse_fixture("windows1252.eml");
    ck_assert_str_eq(m->subject, "Price: \u20ac5 \u2013 \u201cdeal\u201d");
    ck_assert_str_eq(m->from, "shop@example.com");
    ck_assert_str_eq(m->to, "alice@example.com");
    ck_assert_str_eq(m->message_id, "cp1252@example.com");
    ck_assert_int_eq(SECONDS(m), 1700089200LL);     /* 2023-11-15 23:00:00 UTC */
    ck_assert_int_eq(m->importance, 0);             /* X-Priority: 5 (Lowest) */
    ck_assert_str_eq(m->text_plain, "\u201cSmart quotes\u201d cost \u20ac5 \u2013 really.\n");
    ck_assert_ptr_null(m->text_html);
    ck_assert_int_eq(m->native_body_type, 1);
    ck_assert_int_eq(m->attachments->nelts, 0);
    ck_assert_int_eq(m->malformed, 0);
}
END_TEST

START_TEST(test_koi8r)
{
    zx_mime_message *m = parse_fixture("koi8r.eml");
    ck_assert_str_eq(m->subject, "\u041f\u0440\u0438\u0432\u0435\u0442");
    ck_assert_str_eq(m->from, "\u0418\u0432\u0430\u043d \u041f\u0435\u0442\u0440\u043e\u0432 "
                              "<ivan@example.ru>");
    ck_assert_str_eq(m->to, "alice@example.com");
    ck_assert_str_eq(m->message_id, "koi8@example.ru");
    ck_assert_int_eq(SECONDS(m), 1700125200LL);
    ck_assert_int_eq(m->importance, 2);             /* Priority: urgent */
    ck_assert_str_eq(m->text_plain, "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440!\n"
                                    "\u042d\u0442\u043e \u0442\u0435\u0441\u0442.\n");
    ck_assert_ptr_null(m->text_html);
    ck_assert_int_eq(m->attachments->nelts, 0);
    ck_assert_int_eq(m->malformed, 0);
}
END_TEST

START_TEST(test_shiftjis)
{
    zx_mime_message *m = parse_fixture("shiftjis.eml");
    ck_assert_str_eq(m->subject, "\u4f1a\u8b70\u306e\u304a\u77e5\u3089\u305b");   /* ISO-2022-JP */
    ck_assert_str_eq(m->from, "\u5c71\u7530\u592a\u90ce <taro@example.jp>");      /* Shift_JIS */
    ck_assert_str_eq(m->message_id, "sjis@example.jp");
    ck_assert_int_eq(SECONDS(m), 1700182800LL);
    ck_assert_int_eq(m->importance, 1);
    /* U+2460 (circled 1) exists only in the CP932 extension of Shift_JIS */
    ck_assert_str_eq(m->text_plain,
                     "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3067\u3059\u3002\n"
                     "\u2460\u8868\u793a\n");
    ck_assert_int_eq(m->attachments->nelts, 0);
    ck_assert_int_eq(m->malformed, 0);
}
END_TEST

START_TEST(test_utf8_encoded_words)
{
    zx_mime_message *m = parse_fixture("utf8_words.eml");
    /* a Q word and a B word separated by folding white space join; plain text follows */
    ck_assert_str_eq(m->subject, "Gr\u00fc\u00dfe aus M\u00fcnchen \U0001F37A - plain tail");
    ck_assert_str_eq(m->from, "J\u00fcrgen M\u00fcller <jm@example.de>");
    ck_assert_str_eq(m->sender, "list-bounces@example.org");
    ck_assert_str_eq(m->to, "Team: alice@example.com, Bj\u00f6rn <bjorn@example.se>;");
    ck_assert_ptr_null(m->cc);
    ck_assert_str_eq(m->bcc, "hidden@example.com");
    ck_assert_str_eq(m->reply_to, "reply@example.de");
    ck_assert_str_eq(m->message_id, "utf8words@example.de");
    ck_assert_str_eq(m->in_reply_to, "parent@example.de");
    ck_assert_str_eq(m->references, "<root@example.de> <parent@example.de>");
    ck_assert_str_eq(m->thread_topic, "Gr\u00fc\u00dfe");
    ck_assert_int_eq(SECONDS(m), 1700295330LL);
    /* format=flowed; delsp=yes: soft breaks joined, quote depth kept */
    ck_assert_str_eq(m->text_plain, "Dies ist ein sehr langer Absatz, der weich umbrochen wurde.\n"
                                    "> Zitat eins zwei\n\nEnde \u2713\n");
    ck_assert_ptr_null(m->text_html);
    ck_assert_int_eq(m->malformed, 0);
}
END_TEST

START_TEST(test_importance_headers)
{
    static const struct { const char *hdr; int want; } cases[] = {
        {"X-Priority: 1 (Highest)", 2}, {"X-Priority: 2", 2}, {"X-Priority: 3 (Normal)", 1},
        {"X-Priority: 4", 0}, {"Importance: Low", 0}, {"Importance: normal", 1},
        {"Priority: non-urgent", 0}, {"X-MSMail-Priority: High", 2}, {"X-Priority: bogus", 1},
        {"Importance: high\nX-Priority: 5", 2},     /* Importance wins */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        zx_mime_message *m = parse_str(apr_psprintf(g_pool, "Subject: x\n%s\n\nbody\n",
                                                    cases[i].hdr));
        ck_assert_msg(m->importance == cases[i].want, "%s: importance %d, expected %d",
                      cases[i].hdr, m->importance, cases[i].want);
    }
    ck_assert_int_eq(parse_str("Subject: x\n\nbody\n")->importance, 1);
}
END_TEST

START_TEST(test_thread_topic_from_subject)
{
    ck_assert_str_eq(parse_str("Subject: Re: AW: Fwd: Budget 2024\n\nx\n")->thread_topic,
                     "Budget 2024");
    ck_assert_str_eq(parse_str("Subject: RE[2]: Budget\n\nx\n")->thread_topic, "Budget");
    ck_assert_str_eq(parse_str("Subject: Reply needed\n\nx\n")->thread_topic, "Reply needed");
    ck_assert_str_eq(parse_str("Subject: Re:\n\nx\n")->thread_topic, "");
    ck_assert_ptr_null(parse_str("From: a@b.c\n\nx\n")->thread_topic);
}
END_TEST

START_TEST(test_charset_fallbacks)
{
    /* undeclared 8-bit: UTF-8 when valid, otherwise Windows-1252 */
    ck_assert_str_eq(parse_str("Subject: x\n\ncaf\xc3\xa9\n")->text_plain, "caf\u00e9\n");
    ck_assert_str_eq(parse_str("Subject: x\n\ncaf\xe9 \x93q\x94\n")->text_plain,
                     "caf\u00e9 \u201cq\u201d\n");
    /* us-ascii label on 8-bit text, the same */
    ck_assert_str_eq(parse_str("Content-Type: text/plain; charset=us-ascii\n\n\xe9t\xe9\n")->text_plain,
                     "\u00e9t\u00e9\n");
    /* ISO-8859-1 label with Windows-1252 quotes (as browsers read it) */
    ck_assert_str_eq(parse_str("Content-Type: text/plain; charset=iso-8859-1\n\n\x93hi\x94\n")->text_plain,
                     "\u201chi\u201d\n");
    /* unknown charset: trusted as UTF-8 when valid, else Windows-1252 */
    ck_assert_str_eq(parse_str("Content-Type: text/plain; charset=x-no-such\n\n\xe2\x82\xac\n")->text_plain,
                     "\u20ac\n");
    ck_assert_str_eq(parse_str("Content-Type: text/plain; charset=x-no-such\n\n\x80\n")->text_plain,
                     "\u20ac\n");
    /* invalid UTF-8 labelled UTF-8: U+FFFD per bad byte, overlongs and surrogates refused */
    ck_assert_str_eq(parse_str("Content-Type: text/plain; charset=utf-8\n\na\xff" "b\xc0\xaf" "c\xed\xa0\x80" "d\n")->text_plain,
                     "a\ufffd" "b\ufffd\ufffd" "c\ufffd\ufffd\ufffd" "d\n");
    /* invalid bytes in a multi-byte charset; truncated sequence at the end */
    ck_assert_str_eq(parse_str("Content-Type: text/plain; charset=shift_jis\n\n\x82\xa0\x82\n")->text_plain,
                     "\u3042\ufffd\n");
    ck_assert_str_eq(parse_str("Content-Type: multipart/mixed; boundary=b\n\n--b\n"
                               "Content-Type: text/plain; charset=shift_jis\n\n\x82\xa0\x82\n--b--\n")->text_plain,
                     "\u3042\ufffd");
    /* NUL bytes are dropped (strings go to C and to WBXML) */
    zx_mime_message *m = NULL;
    const char *err;
    static const char nul[] = "Subject: a\0b\n\nx\0y\n";
    ck_assert_int_eq(zx_mime_parse(g_pool, nul, sizeof nul - 1, &m, &err), 0);
    ck_assert_str_eq(m->text_plain, "xy\n");
    /* an alias GMime maps (latin2 -> iso-8859-2) */
    ck_assert_str_eq(parse_str("Content-Type: text/plain; charset=latin2\n\n\xb3\xf3\xbf\n")->text_plain,
                     "\u0142\u00f3\u017c\n");
    /* raw UTF-8 and raw Windows-1252 in headers */
    ck_assert_str_eq(parse_str("Subject: Gr\xc3\xbc\xc3\x9f" "e\n\nx\n")->subject, "Gr\u00fc\u00dfe");
    ck_assert_str_eq(parse_str("Subject: caf\xe9\n\nx\n")->subject, "caf\u00e9");
    /* an encoded word with an unknown charset or broken base64 still yields text */
    m = parse_str("Subject: =?x-unknown?Q?ab?= =?utf-8?B?!!!?= end\n\nx\n");
    ck_assert_ptr_nonnull(m->subject);
    ck_assert_ptr_nonnull(strstr(m->subject, "end"));
}
END_TEST

START_TEST(test_html_meta_charset)
{
    zx_mime_message *m = parse_fixture("html_meta.eml");
    ck_assert_str_eq(m->subject, "HTML only");
    ck_assert_int_eq(SECONDS(m), 1700989200LL);
    ck_assert_ptr_null(m->text_plain);
    ck_assert_ptr_nonnull(m->text_html);
    ck_assert_ptr_nonnull(strstr(m->text_html, "<p>Prix: 5 \u20ac &mdash; caf\u00e9</p>"));
    ck_assert_int_eq(m->native_body_type, 2);
    ck_assert_str_eq(zx_mime_html_to_text(g_pool, m->text_html), "Prix: 5 \u20ac \u2014 caf\u00e9");
    ck_assert_int_eq(m->attachments->nelts, 0);
    ck_assert_int_eq(m->malformed, 0);
}
END_TEST

/* ---- structure ------------------------------------------------------------------------------ */

static const char *pdf_bytes(apr_size_t *len)
{
    static const char head[] = "%PDF-1.4\n% zxmobile test document\n";
    static const char tail[] = "\n%%EOF\n";
    char *b = apr_palloc(g_pool, sizeof head - 1 + 256 + sizeof tail - 1);
    memcpy(b, head, sizeof head - 1);
    for (int i = 0; i < 256; i++)
        b[sizeof head - 1 + i] = (char)i;
    memcpy(b + sizeof head - 1 + 256, tail, sizeof tail - 1);
    *len = sizeof head - 1 + 256 + sizeof tail - 1;
    return b;
}

/* Content of leaf `part` of a fixture: want_len bytes equal to want (prefix: at least). */
static void assert_data_ex(const char *fixture_name, int part, const char *want, apr_size_t want_len,
                           int prefix)
{
    apr_size_t len;
    const char *data = fixture(fixture_name, &len);
    const char *content = NULL, *err = NULL;
    apr_size_t clen = 0;
    ck_assert_int_eq(zx_mime_attachment_data(g_pool, data, len, part, &content, &clen, &err), 0);
    if (prefix)
        ck_assert_uint_ge(clen, want_len);
    else
        ck_assert_uint_eq(clen, want_len);
    ck_assert_int_eq(memcmp(content, want, want_len), 0);
    ck_assert_int_eq(content[clen], '\0');
}

static void assert_data(const char *fixture_name, int part, const char *want, apr_size_t want_len)
{
    assert_data_ex(fixture_name, part, want, want_len, 0);
}

START_TEST(test_rfc2231_names)
{
    zx_mime_message *m = parse_fixture("rfc2231.eml");
    ck_assert_str_eq(m->subject, "files");
    ck_assert_str_eq(m->text_plain, "See the attached files.");
    ck_assert_ptr_null(m->text_html);
    ck_assert_int_eq(m->attachments->nelts, 2);
    apr_size_t pdf_len;
    const char *pdf = pdf_bytes(&pdf_len);
    const zx_mime_attachment *a = att(m, 0);
    ck_assert_str_eq(a->name, "\u20ac rates \u00e9t\u00e9 2023.pdf");   /* filename*0*, *1*, *2 */
    ck_assert_str_eq(a->content_type, "application/pdf");
    ck_assert_ptr_null(a->content_id);
    ck_assert_ptr_null(a->content_location);
    ck_assert_int_eq(a->is_inline, 0);
    ck_assert_uint_eq(a->size, pdf_len);
    ck_assert_int_eq(a->part, 1);
    assert_data("rfc2231.eml", 1, pdf, pdf_len);
    a = att(m, 1);
    ck_assert_str_eq(a->name, "r\u00e9sum\u00e9.txt");                   /* RFC 2047 in a parameter */
    ck_assert_str_eq(a->content_type, "text/plain");
    ck_assert_int_eq(a->is_inline, 0);
    /* the line break before the boundary belongs to the boundary */
    ck_assert_uint_eq(a->size, strlen("r\u00e9sum\u00e9 \u2014 notes"));
    ck_assert_int_eq(a->part, 2);
    assert_data("rfc2231.eml", 2, "r\u00e9sum\u00e9 \u2014 notes", a->size);
    ck_assert_int_eq(m->malformed, 0);
}
END_TEST

START_TEST(test_nested_alternative_related)
{
    zx_mime_message *m = parse_fixture("nested.eml");
    ck_assert_str_eq(m->subject, "Nested");
    ck_assert_str_eq(m->text_plain, "Hello world (plain)");
    ck_assert_ptr_nonnull(m->text_html);
    ck_assert_int_eq(strncmp(m->text_html, "<!DOCTYPE html><html><head><title>Newsletter", 44), 0);
    ck_assert_ptr_nonnull(strstr(m->text_html, "<img src=\"cid:logo%40zx\" alt=\"logo\">"));
    ck_assert_int_eq(m->native_body_type, 2);
    ck_assert_str_eq(m->message_class, "IPM.Note");
    ck_assert_int_eq(m->attachments->nelts, 2);
    /* leaves: 0 text/plain, 1 text/html, 2 image/png, 3 application/pdf */
    const zx_mime_attachment *img = att(m, 0);
    ck_assert_int_eq(img->part, 2);
    ck_assert_str_eq(img->name, "logo.png");
    ck_assert_str_eq(img->content_type, "image/png");
    ck_assert_str_eq(img->content_id, "logo@zx");
    ck_assert_int_eq(img->is_inline, 1);            /* referenced as cid:logo%40zx */
    ck_assert_uint_eq(img->size, 70);
    const zx_mime_attachment *pdf = att(m, 1);
    ck_assert_int_eq(pdf->part, 3);
    ck_assert_str_eq(pdf->name, "report.pdf");
    ck_assert_int_eq(pdf->is_inline, 0);
    apr_size_t pdf_len;
    const char *pdf_data = pdf_bytes(&pdf_len);
    ck_assert_uint_eq(pdf->size, pdf_len);
    assert_data("nested.eml", 3, pdf_data, pdf_len);
    assert_data_ex("nested.eml", 2, "\x89PNG\r\n\x1a\n", 8, 1);
    /* the body parts are leaves too */
    assert_data("nested.eml", 0, "Hello world (plain)", 19);
    ck_assert_str_eq(zx_mime_html_to_text(g_pool, m->text_html),
                     "Hello world\n\nCaf\u00e9 & cr\u00e8me <3 \U0001F600\n\nLogo:\n\n* one\n* two\n\n"
                     "Visit our site <https://example.com/x>.\nBye");
    ck_assert_int_eq(m->malformed, 0);
}
END_TEST

START_TEST(test_rfc822_attachment)
{
    zx_mime_message *m = parse_fixture("rfc822_attachment.eml");
    ck_assert_str_eq(m->subject, "Fwd: Original subject");
    ck_assert_str_eq(m->thread_topic, "Original subject");
    ck_assert_str_eq(m->text_plain, "Forwarding this.");
    ck_assert_int_eq(m->attachments->nelts, 1);     /* the inner attachment is not ours */
    const zx_mime_attachment *a = att(m, 0);
    ck_assert_str_eq(a->content_type, "message/rfc822");
    ck_assert_str_eq(a->name, "Original subject.eml");
    ck_assert_int_eq(a->part, 1);
    ck_assert_int_eq(a->is_inline, 0);
    /* the embedded message comes back byte for byte */
    apr_size_t len;
    const char *data = fixture("rfc822_attachment.eml", &len);
    const char *start = strstr(data, "From: orig@example.com");
    const char *end = strstr(data, "\n--fw--");
    ck_assert_ptr_nonnull(start);
    ck_assert_ptr_nonnull(end);
    apr_size_t inner_len = (apr_size_t)(end - start);
    ck_assert_uint_eq(a->size, inner_len);
    assert_data("rfc822_attachment.eml", 1, start, inner_len);
    ck_assert_int_eq(m->malformed, 0);
}
END_TEST

START_TEST(test_smime_signed)
{
    zx_mime_message *m = parse_fixture("smime_signed.eml");
    ck_assert_str_eq(m->message_class, "IPM.Note.SMIME.MultipartSigned");
    ck_assert_str_eq(m->content_class, "urn:content-classes:message");
    ck_assert_str_eq(m->text_plain, "Signed text");
    ck_assert_str_eq(m->text_html, "<p>Signed <b>text</b></p>");
    ck_assert_int_eq(m->native_body_type, 2);
    ck_assert_int_eq(m->attachments->nelts, 1);
    const zx_mime_attachment *a = att(m, 0);
    ck_assert_str_eq(a->name, "smime.p7s");
    ck_assert_str_eq(a->content_type, "application/pkcs7-signature");
    ck_assert_uint_eq(a->size, 300);
    ck_assert_int_eq(a->part, 2);
    char sig[300];
    for (int i = 0; i < 300; i++)
        sig[i] = (char)((i * 7 + 3) % 256);
    assert_data("smime_signed.eml", 2, sig, sizeof sig);
    ck_assert_int_eq(m->malformed, 0);
    /* an x-pkcs7 protocol is S/MIME too; a PGP signature is not */
    ck_assert_str_eq(parse_str("Content-Type: multipart/signed; protocol=\"application/x-pkcs7-signature\"; boundary=s\n\n"
                               "--s\nContent-Type: text/plain\n\nhi\n--s\nContent-Type: application/x-pkcs7-signature\n\nAAAA\n--s--\n")->message_class,
                     "IPM.Note.SMIME.MultipartSigned");
    ck_assert_str_eq(parse_str("Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=s\n\n"
                               "--s\nContent-Type: text/plain\n\nhi\n--s\nContent-Type: application/pgp-signature\n\nsig\n--s--\n")->message_class,
                     "IPM.Note");
}
END_TEST

START_TEST(test_smime_encrypted)
{
    zx_mime_message *m = parse_fixture("smime_encrypted.eml");
    ck_assert_str_eq(m->subject, "Encrypted");
    ck_assert_str_eq(m->message_class, "IPM.Note.SMIME");
    ck_assert_ptr_null(m->text_plain);
    ck_assert_ptr_null(m->text_html);
    ck_assert_int_eq(m->native_body_type, 1);
    ck_assert_int_eq(m->attachments->nelts, 1);
    const zx_mime_attachment *a = att(m, 0);
    ck_assert_str_eq(a->name, "smime.p7m");
    ck_assert_str_eq(a->content_type, "application/pkcs7-mime");
    ck_assert_uint_eq(a->size, 500);
    ck_assert_int_eq(a->part, 0);
    ck_assert_int_eq(m->malformed, 0);
    ck_assert_str_eq(parse_str("Content-Type: application/x-pkcs7-mime; smime-type=signed-data\n"
                               "Content-Transfer-Encoding: base64\n\nAAAA\n")->message_class,
                     "IPM.Note.SMIME");
}
END_TEST

START_TEST(test_invitation)
{
    zx_mime_message *m = parse_fixture("invitation.eml");
    ck_assert_str_eq(m->message_class, "IPM.Schedule.Meeting.Request");
    ck_assert_str_eq(m->content_class, "urn:content-classes:calendarmessage");
    ck_assert_str_eq(m->from, "Olga <olga@example.com>");
    ck_assert_str_eq(m->text_plain, "You are invited to Project review.");
    ck_assert_str_eq(m->text_html, "<p>You are invited to <b>Project review</b>.</p>");
    ck_assert_int_eq(m->native_body_type, 2);
    /* the text/calendar alternative is the invitation, not an attachment; invite.ics is */
    ck_assert_int_eq(m->attachments->nelts, 1);
    const zx_mime_attachment *a = att(m, 0);
    ck_assert_str_eq(a->name, "invite.ics");
    ck_assert_str_eq(a->content_type, "application/ics");
    ck_assert_int_eq(a->part, 3);
    ck_assert_uint_eq(a->size, 359);
    ck_assert_int_eq(m->malformed, 0);
}
END_TEST

static const char *cal_class(const char *method_param, const char *method, const char *partstat)
{
    const char *ics = apr_psprintf(g_pool,
        "BEGIN:VCALENDAR\r\n%s%s%sBEGIN:VEVENT\r\nUID:1\r\n%s%s%sEND:VEVENT\r\nEND:VCALENDAR\r\n",
        method ? "METHOD:" : "", method ? method : "", method ? "\r\n" : "",
        partstat ? "ATTENDEE;CN=Bob;PARTSTAT=" : "", partstat ? partstat : "",
        partstat ? ";RSVP=FALSE:mailto:bob@example.com\r\n" : "");
    const char *msg = apr_psprintf(g_pool, "Subject: cal\nContent-Type: text/calendar%s%s\n\n%s",
                                   method_param ? "; method=" : "",
                                   method_param ? method_param : "", ics);
    return parse_str(msg)->message_class;
}

START_TEST(test_meeting_classes)
{
    ck_assert_str_eq(cal_class(NULL, "REQUEST", NULL), "IPM.Schedule.Meeting.Request");
    ck_assert_str_eq(cal_class(NULL, "CANCEL", NULL), "IPM.Schedule.Meeting.Canceled");
    ck_assert_str_eq(cal_class(NULL, "REPLY", "ACCEPTED"), "IPM.Schedule.Meeting.Resp.Pos");
    ck_assert_str_eq(cal_class(NULL, "REPLY", "DECLINED"), "IPM.Schedule.Meeting.Resp.Neg");
    ck_assert_str_eq(cal_class(NULL, "REPLY", "TENTATIVE"), "IPM.Schedule.Meeting.Resp.Tent");
    ck_assert_str_eq(cal_class(NULL, "PUBLISH", NULL), "IPM.Note");
    ck_assert_str_eq(cal_class("REQUEST", NULL, NULL), "IPM.Schedule.Meeting.Request");
    ck_assert_str_eq(cal_class(NULL, NULL, NULL), "IPM.Note");
    /* a folded attendee line */
    const char *msg = "Content-Type: text/calendar\n\nBEGIN:VCALENDAR\nMETHOD:REPLY\nBEGIN:VEVENT\n"
                      "ATTENDEE;CN=Bob;PART\n STAT=DECLINED:mailto:bob@example.com\nEND:VEVENT\n"
                      "END:VCALENDAR\n";
    zx_mime_message *m = parse_str(msg);
    ck_assert_str_eq(m->message_class, "IPM.Schedule.Meeting.Resp.Neg");
    ck_assert_str_eq(m->content_class, "urn:content-classes:calendarmessage");
    ck_assert_int_eq(m->attachments->nelts, 0);
}
END_TEST

START_TEST(test_broken_message)
{
    zx_mime_message *m = parse_fixture("broken.eml");
    ck_assert_int_eq(m->malformed, 1);
    ck_assert_str_eq(m->subject, "Broken message");
    ck_assert_str_eq(m->from, "broken@example.com");
    ck_assert_str_eq(m->to, "alice@example.com");
    ck_assert_ptr_null(m->message_id);
    ck_assert_int_eq(m->date, 0);                   /* "not a date at all" */
    ck_assert_int_eq(m->importance, 1);
    ck_assert_str_eq(m->message_class, "IPM.Note");
    ck_assert_str_eq(m->text_plain, "Readable part of a broken message.");
    ck_assert_ptr_null(m->text_html);
    ck_assert_int_eq(m->attachments->nelts, 1);
    const zx_mime_attachment *a = att(m, 0);
    ck_assert_str_eq(a->name, "bad.jpg");
    ck_assert_str_eq(a->content_type, "image/jpeg");
    ck_assert_int_eq(a->part, 1);
    ck_assert_uint_gt(a->size, 0);                  /* what decodes of the bad base64 */
    apr_size_t len;
    const char *data = fixture("broken.eml", &len);
    const char *content, *err;
    apr_size_t clen;
    ck_assert_int_eq(zx_mime_attachment_data(g_pool, data, len, 1, &content, &clen, &err), 0);
    ck_assert_uint_eq(clen, a->size);
    ck_assert_int_eq((unsigned char)content[0], 0xFF);   /* /9j/ = FF D8 FF */
}
END_TEST

START_TEST(test_empty_and_headerless)
{
    zx_mime_message *m = parse_fixture("empty.eml");
    ck_assert_int_eq(m->malformed, 1);
    ck_assert_ptr_null(m->subject);
    ck_assert_ptr_null(m->from);
    ck_assert_ptr_null(m->to);
    ck_assert_ptr_null(m->message_id);
    ck_assert_int_eq(m->date, 0);
    ck_assert_ptr_null(m->text_plain);
    ck_assert_ptr_null(m->text_html);
    ck_assert_int_eq(m->attachments->nelts, 0);
    ck_assert_str_eq(m->message_class, "IPM.Note");
    ck_assert_str_eq(m->content_class, "urn:content-classes:message");
    ck_assert_int_eq(m->native_body_type, 1);
    ck_assert_int_eq(m->importance, 1);
    /* NULL data is an empty message too */
    const char *err;
    ck_assert_int_eq(zx_mime_parse(g_pool, NULL, 0, &m, &err), 0);
    ck_assert_int_eq(m->malformed, 1);
    /* white space only */
    ck_assert_int_eq(parse_str("\r\n\r\n  \n")->malformed, 1);
    /* no header at all: the text is the body */
    m = parse_str("just some text\nsecond line\n");
    ck_assert_ptr_null(m->subject);
    ck_assert_str_eq(m->text_plain, "just some text\nsecond line\n");
    ck_assert_int_eq(m->malformed, 1);
    /* headers and no body, cut in the middle of a line */
    m = parse_str("Subject: only a header");
    ck_assert_str_eq(m->subject, "only a header");
    ck_assert_int_eq(m->attachments->nelts, 0);
    /* CRLF line ends */
    m = parse_str("Subject: crlf\r\nContent-Type: multipart/alternative; boundary=x\r\n\r\n--x\r\n"
                  "Content-Type: text/plain\r\n\r\nplain\r\n--x\r\nContent-Type: text/html\r\n\r\n"
                  "<b>html</b>\r\n--x--\r\n");
    ck_assert_str_eq(m->subject, "crlf");
    ck_assert_str_eq(m->text_plain, "plain");
    ck_assert_str_eq(m->text_html, "<b>html</b>");
    ck_assert_int_eq(m->malformed, 0);
}
END_TEST

START_TEST(test_huge_header_line)
{
    zx_mime_message *m = parse_fixture("huge_header.eml");
    ck_assert_uint_eq(strlen(m->subject), 200000);
    ck_assert_int_eq(strspn(m->subject, "A"), 200000);
    ck_assert_str_eq(m->from, "huge@example.com");
    ck_assert_int_eq(strncmp(m->to, "user0@example.com, user1@example.com, ", 38), 0);
    ck_assert_ptr_nonnull(strstr(m->to, ", user1999@example.com"));
    ck_assert_str_eq(m->message_id, "huge@example.com");
    ck_assert_int_eq(SECONDS(m), 1700902800LL);
    ck_assert_str_eq(m->text_plain, "Small body.\n");
    ck_assert_int_eq(m->malformed, 0);
}
END_TEST

START_TEST(test_multipart_edge_cases)
{
    /* a multipart without boundary: its content becomes the text body */
    zx_mime_message *m = parse_str("Content-Type: multipart/mixed\n\nsome text\n");
    ck_assert_int_eq(m->malformed, 1);
    ck_assert_ptr_nonnull(m->text_plain);
    ck_assert_ptr_nonnull(strstr(m->text_plain, "some text"));
    /* mixed: the first text is the body; a later unnamed text/plain part (a mailing list
     * footer) is appended to it, a named one stays an attachment */
    m = parse_str("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\none\n"
                  "--b\nContent-Type: image/gif\nContent-Disposition: inline\n\nGIF89a\n"
                  "--b\nContent-Type: text/plain\n\nfooter\n"
                  "--b\nContent-Type: text/plain; name=notes.txt\n\nnotes\n--b--\n");
    ck_assert_str_eq(m->text_plain, "one\r\nfooter");
    ck_assert_int_eq(m->attachments->nelts, 2);
    ck_assert_int_eq(att(m, 0)->is_inline, 1);      /* Content-Disposition: inline */
    ck_assert_int_eq(att(m, 0)->part, 1);
    ck_assert_ptr_null(att(m, 0)->name);
    ck_assert_str_eq(att(m, 1)->content_type, "text/plain");
    ck_assert_str_eq(att(m, 1)->name, "notes.txt");
    ck_assert_int_eq(att(m, 1)->part, 3);
    /* after an alternative body the footer goes to both texts, in the HTML one escaped and
     * before </body> */
    m = parse_str("Content-Type: multipart/mixed; boundary=b\n\n--b\n"
                  "Content-Type: multipart/alternative; boundary=a\n\n"
                  "--a\nContent-Type: text/plain\n\nhello\n"
                  "--a\nContent-Type: text/html\n\n<html><body><p>hello</p></body></html>\n--a--\n"
                  "--b\nContent-Type: text/plain\n\n-- \nlist <list@example.org>\n--b--\n");
    ck_assert_str_eq(m->text_plain, "hello\r\n-- \nlist <list@example.org>");
    ck_assert_str_eq(m->text_html, "<html><body><p>hello</p><pre>-- \nlist &lt;list@example.org&gt;"
                                   "</pre></body></html>");
    ck_assert_int_eq(m->attachments->nelts, 0);
    /* a text part sent as an attachment is not the body */
    m = parse_str("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n"
                  "Content-Disposition: attachment; filename=a.txt\n\nfile\n--b\n"
                  "Content-Type: text/html\n\n<i>body</i>\n--b--\n");
    ck_assert_ptr_null(m->text_plain);
    ck_assert_str_eq(m->text_html, "<i>body</i>");
    ck_assert_str_eq(att(m, 0)->name, "a.txt");
    /* related with start=: the root is the part it names; Content-Location references */
    m = parse_str("Content-Type: multipart/related; boundary=r; start=\"<root@x>\"\n\n"
                  "--r\nContent-Type: image/png\nContent-Location: pic.png\n\nPNG\n"
                  "--r\nContent-Type: text/html\nContent-ID: <root@x>\n\n<img src=\"pic.png\">\n--r--\n");
    ck_assert_str_eq(m->text_html, "<img src=\"pic.png\">");
    ck_assert_int_eq(m->attachments->nelts, 1);
    ck_assert_str_eq(att(m, 0)->content_location, "pic.png");
    ck_assert_int_eq(att(m, 0)->is_inline, 1);
    ck_assert_int_eq(att(m, 0)->part, 0);
    /* an alternative that prefers plain over enriched text (no HTML) */
    m = parse_str("Content-Type: multipart/alternative; boundary=a\n\n--a\nContent-Type: text/plain\n\n"
                  "plain one\n--a\nContent-Type: text/enriched\n\n<bold>rich</bold>\n--a--\n");
    ck_assert_str_eq(m->text_plain, "plain one");
    ck_assert_ptr_null(m->text_html);
    ck_assert_int_eq(m->attachments->nelts, 0);
    /* another kind of text as the only part is the plain body */
    m = parse_str("Content-Type: text/x-log; charset=utf-8\n\nline 1\nline 2\n");
    ck_assert_str_eq(m->text_plain, "line 1\nline 2\n");
    ck_assert_int_eq(m->attachments->nelts, 0);
    /* deep nesting beyond the limit does not recurse without bound */
    int depth = 300;
    size_t cap = 100000, used = 0;
    char *deep = apr_palloc(g_pool, cap);
    used += (size_t)snprintf(deep, cap, "Subject: deep\nContent-Type: multipart/mixed; boundary=b0\n\n");
    for (int i = 0; i < depth; i++)
        used += (size_t)snprintf(deep + used, cap - used,
                                 "--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n", i, i + 1);
    snprintf(deep + used, cap - used, "--b%d\nContent-Type: text/plain\n\ndeep body\n", depth);
    m = parse_str(deep);
    ck_assert_str_eq(m->subject, "deep");
    ck_assert_int_eq(m->malformed, 1);
}
END_TEST

START_TEST(test_truncated_prefixes)
{
    /* every prefix of a structured message parses (nothing crashes, valgrind stays clean) */
    static const char *const names[] = {"nested.eml", "invitation.eml", "smime_signed.eml",
                                        "rfc822_attachment.eml"};
    for (size_t f = 0; f < sizeof names / sizeof names[0]; f++) {
        apr_size_t len;
        const char *data = fixture(names[f], &len);
        for (apr_size_t n = 0; n <= len; n += 13) {
            apr_pool_t *p;
            apr_pool_create(&p, g_pool);
            zx_mime_message *m;
            const char *err, *content;
            apr_size_t clen;
            ck_assert_int_eq(zx_mime_parse(p, data, n, &m, &err), 0);
            for (int i = 0; i < m->attachments->nelts; i++) {
                const zx_mime_attachment *a = att(m, i);
                ck_assert_int_eq(zx_mime_attachment_data(p, data, n, a->part, &content, &clen, &err), 0);
                ck_assert_uint_eq(clen, a->size);
            }
            if (m->text_html)
                ck_assert_ptr_nonnull(zx_mime_html_to_text(p, m->text_html));
            apr_pool_destroy(p);
        }
    }
}
END_TEST

/* A range of an attachment is the same bytes as that slice of the whole, for every attachment
 * of the fixtures (base64, quoted-printable, attached messages, TNEF files) and for a base64
 * attachment spanning many decoding chunks. */
static void check_ranges(const char *data, apr_size_t len, int part, apr_size_t size)
{
    const char *whole, *r, *err;
    apr_size_t wlen, rlen;
    ck_assert_int_eq(zx_mime_attachment_data(g_pool, data, len, part, &whole, &wlen, &err), 0);
    ck_assert_uint_eq(wlen, size);
    apr_size_t cuts[][2] = {{0, 1}, {0, 10}, {1, 10}, {0, size}, {0, (apr_size_t)-1},
                            {size / 2, 7}, {size / 3, size}, {size ? size - 1 : 0, 100},
                            {size, 5}, {size + 10, 5}, {65535, 3}, {65530, 70000}, {0, 0}};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        apr_size_t from = cuts[i][0], max = cuts[i][1];
        ck_assert_int_eq(zx_mime_attachment_range(g_pool, data, len, part, from, max, &r, &rlen,
                                                  &err), 0);
        apr_size_t a = from < wlen ? from : wlen;
        apr_size_t want = wlen - a < max ? wlen - a : max;
        ck_assert_msg(rlen == want, "part %d [%zu, +%zu): %zu bytes, want %zu", part,
                      (size_t)from, (size_t)max, (size_t)rlen, (size_t)want);
        ck_assert_msg(memcmp(r, whole + a, want) == 0, "part %d [%zu, +%zu) differs", part,
                      (size_t)from, (size_t)max);
    }
}

START_TEST(test_attachment_ranges)
{
    static const char *const names[] = {"nested.eml", "rfc822_attachment.eml",
                                        "invitation.eml", "smime_signed.eml"};
    int checked = 0;
    for (size_t f = 0; f < sizeof names / sizeof names[0]; f++) {
        apr_size_t len;
        const char *data = fixture(names[f], &len);
        zx_mime_message *m;
        const char *err;
        ck_assert_int_eq(zx_mime_parse(g_pool, data, len, &m, &err), 0);
        for (int i = 0; i < m->attachments->nelts; i++, checked++)
            check_ranges(data, len, att(m, i)->part, att(m, i)->size);
    }
    ck_assert_int_gt(checked, 3);
    /* 300,000 bytes of every byte value, base64 in 76-character lines, and the same as
     * quoted-printable-encoded text */
    apr_size_t n = 300000;
    unsigned char *bin = apr_palloc(g_pool, n);
    for (apr_size_t i = 0; i < n; i++)
        bin[i] = (unsigned char)((i * 7 + i / 256) & 0xFF);
    char *b64 = apr_palloc(g_pool, (apr_size_t)apr_base64_encode_len((int)n));
    int b64len = apr_base64_encode(b64, (const char *)bin, (int)n);
    char *lines = apr_palloc(g_pool, (apr_size_t)b64len * 2);
    apr_size_t o = 0;
    for (int i = 0; i < b64len - 1; i += 76) {
        int k = b64len - 1 - i < 76 ? b64len - 1 - i : 76;
        memcpy(lines + o, b64 + i, (size_t)k);
        o += (apr_size_t)k;
        lines[o++] = '\n';
    }
    lines[o] = '\0';
    const char *msg = apr_pstrcat(g_pool, "Subject: big\nMIME-Version: 1.0\nContent-Type: "
                                  "multipart/mixed; boundary=zz\n\n--zz\nContent-Type: text/plain"
                                  "\n\nhello\n--zz\nContent-Type: application/octet-stream; "
                                  "name=a.bin\nContent-Disposition: attachment; filename=a.bin\n"
                                  "Content-Transfer-Encoding: base64\n\n", lines,
                                  "--zz\nContent-Type: text/plain; name=q.txt\nContent-Disposition: "
                                  "attachment; filename=q.txt\nContent-Transfer-Encoding: "
                                  "quoted-printable\n\n", NULL);
    zx_buf qp;
    zx_buf_init(&qp, g_pool, 4 * 70000);
    for (int i = 0; i < 70000; i++) {
        zx_buf_printf(&qp, i % 5 ? "%c" : "=%02X", i % 5 ? 'a' + i % 26 : 0xC3);
        if (i % 60 == 59)
            zx_buf_puts(&qp, "=\n");
    }
    msg = apr_pstrcat(g_pool, msg, qp.data, "\n--zz--\n", NULL);
    zx_mime_message *m;
    const char *err;
    ck_assert_int_eq(zx_mime_parse(g_pool, msg, strlen(msg), &m, &err), 0);
    ck_assert_int_eq(m->attachments->nelts, 2);
    ck_assert_uint_eq(att(m, 0)->size, n);
    check_ranges(msg, strlen(msg), att(m, 0)->part, n);
    check_ranges(msg, strlen(msg), att(m, 1)->part, att(m, 1)->size);
    const char *r;
    apr_size_t rlen;
    ck_assert_int_eq(zx_mime_attachment_range(g_pool, msg, strlen(msg), att(m, 0)->part, 250000,
                                              1000, &r, &rlen, &err), 0);
    ck_assert_uint_eq(rlen, 1000);
    ck_assert_mem_eq(r, bin + 250000, 1000);
    /* one parse, several reads, in any order; the text given to zx_mime_open may go */
    apr_pool_t *hp;
    apr_pool_create(&hp, g_pool);
    char *copy = apr_pstrdup(g_pool, msg);
    zx_mime_handle *h = zx_mime_open(hp, copy, strlen(copy));
    memset(copy, 'x', strlen(copy));
    for (int k = 9; k >= 0; k--) {
        ck_assert_int_eq(zx_mime_handle_range(h, g_pool, att(m, 0)->part, (apr_size_t)k * 29000,
                                              777, &r, &rlen, &err), 0);
        ck_assert_uint_eq(rlen, 777);
        ck_assert_mem_eq(r, bin + k * 29000, 777);
    }
    ck_assert_int_eq(zx_mime_handle_range(h, g_pool, 9, 0, 1, &r, &rlen, &err), -1);
    ck_assert_int_eq(zx_mime_handle_range(NULL, g_pool, 0, 0, 1, &r, &rlen, &err), -1);
    ck_assert_ptr_null(zx_mime_open(hp, "", 0));
    apr_pool_destroy(hp);
}
END_TEST

START_TEST(test_attachment_data_errors)
{
    apr_size_t len;
    const char *data = fixture("nested.eml", &len);
    const char *content = "x", *err = NULL;
    apr_size_t clen = 7;
    ck_assert_int_eq(zx_mime_attachment_data(g_pool, data, len, 4, &content, &clen, &err), -1);
    ck_assert_ptr_null(content);
    ck_assert_uint_eq(clen, 0);
    ck_assert_str_eq(err, "no attachment 4 in this message");
    ck_assert_int_eq(zx_mime_attachment_data(g_pool, data, len, -1, &content, &clen, &err), -1);
    ck_assert_int_eq(zx_mime_attachment_data(g_pool, "", 0, 0, &content, &clen, &err), -1);
}
END_TEST

START_TEST(test_text_to_html_and_preview)
{
    apr_pool_t *p = g_pool;
    /* a body: a <pre> document, every special character escaped */
    ck_assert_str_eq(zx_mime_text_to_html(p, "a <b> & \"c\"\n  d", ZX_HTML_DOCUMENT),
                     "<html><body><pre>a &lt;b&gt; &amp; &quot;c&quot;\n  d</pre></body></html>");
    /* an Oof reply: lines joined by <br>, CRs dropped */
    ck_assert_str_eq(zx_mime_text_to_html(p, "Away & back\r\nsee <you>", ZX_HTML_LINES),
                     "Away &amp; back<br>see &lt;you&gt;");
    ck_assert_str_eq(zx_mime_text_to_html(p, "", ZX_HTML_LINES), "");
    /* preview: white space folded and trimmed at the start, 255 characters, whole sequences */
    ck_assert_str_eq(zx_mime_preview(p, "  one\r\n\ttwo   three "), "one two three");
    ck_assert_str_eq(zx_mime_preview(p, NULL), "");
    char long_text[601];
    for (int i = 0; i < 300; i++)
        memcpy(long_text + 2 * i, "\xC3\xA9", 2);    /* 300 x U+00E9, 2 bytes each */
    long_text[600] = '\0';
    const char *pv = zx_mime_preview(p, long_text);
    ck_assert_uint_eq(strlen(pv), 255 * 2);
    ck_assert_int_eq(zx_utf8_text(pv, strlen(pv)), 1);
}
END_TEST

/* ---- HTML to text ---------------------------------------------------------------------------- */

START_TEST(test_html_to_text)
{
    apr_pool_t *p = g_pool;
    ck_assert_ptr_null(zx_mime_html_to_text(p, NULL));
    ck_assert_str_eq(zx_mime_html_to_text(p, ""), "");
    ck_assert_str_eq(zx_mime_html_to_text(p, "plain   text\n here"), "plain text here");
    ck_assert_str_eq(zx_mime_html_to_text(p, "<p>one</p><p>two</p>"), "one\n\ntwo");
    ck_assert_str_eq(zx_mime_html_to_text(p, "a<br>b<BR/>c<br />d"), "a\nb\nc\nd");
    ck_assert_str_eq(zx_mime_html_to_text(p, "<div>x</div><div>y</div>"), "x\ny");
    ck_assert_str_eq(zx_mime_html_to_text(p, "<head><title>T</title><style>b{}</style></head>"
                                             "<script type=\"text/javascript\">var a = '</p>';</script>"
                                             "<SCRIPT>x()</SCRIPT>body<!-- <p>comment</p> -->!"),
                     "body!");
    ck_assert_str_eq(zx_mime_html_to_text(p, "&lt;tag&gt; &amp;amp; &quot;q&quot; &#39;s&#39; "
                                             "&euro;&#8364;&#x20AC; &copy; &hellip;"),
                     "<tag> &amp; \"q\" 's' \u20ac\u20ac\u20ac \u00a9 \u2026");
    /* unknown or broken entities stay as written; C1 numeric references as Windows-1252 */
    ck_assert_str_eq(zx_mime_html_to_text(p, "&bogus; &#; & x &#150; &#0; &#x110000;"),
                     "&bogus; &#; & x \u2013 \ufffd \ufffd");
    ck_assert_str_eq(zx_mime_html_to_text(p, "a&nbsp;&nbsp;b"), "a  b");
    ck_assert_str_eq(zx_mime_html_to_text(p, "x<pre>  keep\n    this</pre>after"),
                     "x\n\n  keep\n    this\n\nafter");
    ck_assert_str_eq(zx_mime_html_to_text(p, "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td>"
                                             "<td>d</td></tr></table>"),
                     "a\tb\nc\td");
    ck_assert_str_eq(zx_mime_html_to_text(p, "<ol><li>x<li>y</ol>z"), "* x\n* y\n\nz");
    ck_assert_str_eq(zx_mime_html_to_text(p, "<h1>Title</h1>text<hr>end"), "Title\n\ntext\n\n----------\n\nend");
    ck_assert_str_eq(zx_mime_html_to_text(p, "<a href=\"https://x.example/\">https://x.example/</a> "
                                             "<a href='http://y.example'>Y</a> <a href=\"#top\">top</a> "
                                             "<a href=\"mailto:a@b.c\">mail</a>"),
                     "https://x.example/ Y <http://y.example> top mail");
    ck_assert_str_eq(zx_mime_html_to_text(p, "1 < 2 and <3 <img alt=\"x>y\" src=\"a.png\">ok"),
                     "1 < 2 and <3 ok");
    ck_assert_str_eq(zx_mime_html_to_text(p, "<p>unterminated <b"), "unterminated");
    ck_assert_str_eq(zx_mime_html_to_text(p, "<script>never closed"), "");
    ck_assert_str_eq(zx_mime_html_to_text(p, "\n\n<p>\n\n</p>\n<p>x</p>\n\n\n<p></p>"), "x");
    ck_assert_str_eq(zx_mime_html_to_text(p, "bad \xff utf8"), "bad \ufffd utf8");
}
END_TEST

/* ---- threads ---------------------------------------------------------------------------------- */

static const char *g_thread_data;
static apr_size_t g_thread_len;

static void *parse_thread(void *arg)
{
    apr_pool_t *p;
    apr_pool_create_unmanaged(&p);
    int ok = 1;
    for (int i = 0; i < 20 && ok; i++) {
        zx_mime_message *m;
        const char *err;
        ok = zx_mime_parse(p, g_thread_data, g_thread_len, &m, &err) == 0 &&
             m->attachments->nelts == 2 && m->text_html && strcmp(m->subject, "Nested") == 0;
        apr_pool_clear(p);
    }
    apr_pool_destroy(p);
    return ok ? arg : NULL;
}

START_TEST(test_threads)
{
    /* the first parses of the process happen in several threads at once (pthread_once) */
    g_thread_data = fixture("nested.eml", &g_thread_len);
    pthread_t t[4];
    int ids[4];
    for (int i = 0; i < 4; i++) {
        ids[i] = i;
        ck_assert_int_eq(pthread_create(&t[i], NULL, parse_thread, &ids[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *r;
        ck_assert_int_eq(pthread_join(t[i], &r), 0);
        ck_assert_ptr_eq(r, &ids[i]);
    }
}
END_TEST

/* ---- composing (zxsync/mime_compose.h) ---------------------------------------------------- */

static const char *draft_text(zx_mime_draft *d)
{
    apr_size_t len = 0;
    const char *t = zx_mime_draft_write(d, &len);
    ck_assert_uint_eq(strlen(t), len);
    return t;
}

START_TEST(test_compose_headers)
{
    const char *msg = "From: Boss <boss@elsewhere.test>\n"
                      "To: a@x.test, Group: b@y.test, -opt@x.test;\n"
                      "Cc: A@X.TEST\n"
                      "Bcc: hidden@z.test\n"
                      "Subject: hi\n\nbody\n";
    zx_mime_draft *d = zx_mime_draft_parse(g_pool, msg, strlen(msg));
    ck_assert_ptr_nonnull(d);
    /* another From is replaced by the account, keeping the display name */
    const char *was = zx_mime_draft_set_from(d, "me@acct.test");
    ck_assert_ptr_nonnull(was);
    ck_assert_ptr_nonnull(strstr(was, "boss@elsewhere.test"));
    ck_assert_ptr_null(zx_mime_draft_set_from(d, "me@acct.test"));     /* now it is */
    zx_mime_draft_complete(d, "me@acct.test");
    zx_mime_draft_reply_headers(d, "orig@x.test", "<older@x.test>");
    const char *t = draft_text(d);
    ck_assert_ptr_nonnull(strstr(t, "From: Boss <me@acct.test>\n"));
    ck_assert_ptr_nonnull(strstr(t, "\nDate: "));
    ck_assert_ptr_nonnull(strstr(t, "@acct.test>\n"));                  /* Message-ID */
    ck_assert_ptr_nonnull(strstr(t, "In-Reply-To: <orig@x.test>\n"));
    ck_assert_ptr_nonnull(strstr(t, "References: <older@x.test> <orig@x.test>\n"));
    /* recipients: groups flattened, duplicates once, never an option; Bcc too */
    apr_array_header_t *r = zx_mime_draft_recipients(d);
    ck_assert_int_eq(r->nelts, 3);
    ck_assert_str_eq(APR_ARRAY_IDX(r, 0, const char *), "a@x.test");
    ck_assert_str_eq(APR_ARRAY_IDX(r, 1, const char *), "b@y.test");
    ck_assert_str_eq(APR_ARRAY_IDX(r, 2, const char *), "hidden@z.test");
    ck_assert_int_eq(zx_mime_draft_remove_bcc(d), 1);
    ck_assert_int_eq(zx_mime_draft_remove_bcc(d), 0);
    ck_assert_ptr_null(strstr(draft_text(d), "hidden@z.test"));
    /* a missing From is added; no reply headers without a Message-ID */
    const char *bare = "To: a@x.test\n\nbody\n";
    d = zx_mime_draft_parse(g_pool, bare, strlen(bare));
    ck_assert_ptr_null(zx_mime_draft_set_from(d, "me@acct.test"));
    zx_mime_draft_reply_headers(d, "", NULL);
    t = draft_text(d);
    ck_assert_ptr_nonnull(strstr(t, "From: me@acct.test\n"));
    ck_assert_ptr_null(strstr(t, "In-Reply-To"));
    ck_assert_int_eq(zx_mime_draft_is_protected(d), 0);
    const char *sig = "To: a@x.test\nContent-Type: multipart/signed; boundary=b; "
                      "protocol=\"application/pkcs7-signature\"\n\n--b\n\nx\n--b--\n";
    ck_assert_int_eq(zx_mime_draft_is_protected(zx_mime_draft_parse(g_pool, sig, strlen(sig))),
                     1);
}
END_TEST

START_TEST(test_compose_reply_and_forward)
{
    const char *orig = "From: Ann <ann@x.test>\nTo: me@acct.test\nSubject: plan\n"
                       "Message-ID: <o1@x.test>\n"
                       "Content-Type: multipart/mixed; boundary=B\n\n"
                       "--B\nContent-Type: text/plain\n\nline one\nline two\n"
                       "--B\nContent-Type: application/pdf\n"
                       "Content-Disposition: attachment; filename=plan.pdf\n"
                       "Content-Transfer-Encoding: base64\n\nJVBERg==\n--B--\n";
    zx_mime_message *om = NULL;
    const char *err = NULL;
    ck_assert_int_eq(zx_mime_parse(g_pool, orig, strlen(orig), &om, &err), 0);
    const char *reply = "To: ann@x.test\nSubject: RE: plan\n\nfine\n";
    zx_mime_draft *d = zx_mime_draft_parse(g_pool, reply, strlen(reply));
    zx_mime_draft_merge_original(d, orig, strlen(orig), om, 0);
    const char *t = draft_text(d);
    ck_assert_ptr_nonnull(strstr(t, "fine\n"));
    ck_assert_ptr_nonnull(strstr(t, "-----Original Message-----"));
    ck_assert_ptr_nonnull(strstr(t, "> line one\n> line two"));
    ck_assert_ptr_null(strstr(t, "plan.pdf"));                 /* a reply has no attachments */
    const char *fwd = "To: bob@y.test\nSubject: FW: plan\n\nsee below\n";
    d = zx_mime_draft_parse(g_pool, fwd, strlen(fwd));
    zx_mime_draft_merge_original(d, orig, strlen(orig), om, 1);
    t = draft_text(d);
    ck_assert_ptr_nonnull(strstr(t, "line one\nline two"));
    ck_assert_ptr_null(strstr(t, "> line one"));
    ck_assert_ptr_nonnull(strstr(t, "multipart/mixed"));
    ck_assert_ptr_nonnull(strstr(t, "plan.pdf"));
    /* a forward made from Forwardees and Body */
    apr_array_header_t *to = apr_array_make(g_pool, 2, sizeof(zx_mime_mailbox));
    zx_mime_mailbox *mb = apr_array_push(to);
    mb->name = "Bob";
    mb->email = "bob@y.test";
    mb = apr_array_push(to);
    mb->name = "nobody";
    mb->email = "";
    apr_size_t len = 0;
    t = zx_mime_compose_forward(g_pool, to, om->subject, "<p>hi</p>", 1, &len);
    ck_assert_uint_eq(strlen(t), len);
    ck_assert_ptr_nonnull(strstr(t, "To: Bob <bob@y.test>\n"));
    ck_assert_ptr_null(strstr(t, "nobody"));
    ck_assert_ptr_nonnull(strstr(t, "Subject: FW: plan\n"));
    ck_assert_ptr_nonnull(strstr(t, "text/html"));
    ck_assert_ptr_null(zx_mime_draft_parse(g_pool, "", 0));
}
END_TEST

static Suite *mime_suite(void)
{
    Suite *s = suite_create("mime");
    TCase *tc = tcase_create("threads");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_threads);
    suite_add_tcase(s, tc);
    tc = tcase_create("headers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_latin1);
    tcase_add_test(tc, test_windows1252);
    tcase_add_test(tc, test_koi8r);
    tcase_add_test(tc, test_shiftjis);
    tcase_add_test(tc, test_utf8_encoded_words);
    tcase_add_test(tc, test_importance_headers);
    tcase_add_test(tc, test_thread_topic_from_subject);
    tcase_add_test(tc, test_charset_fallbacks);
    tcase_add_test(tc, test_html_meta_charset);
    suite_add_tcase(s, tc);
    tc = tcase_create("structure");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_rfc2231_names);
    tcase_add_test(tc, test_nested_alternative_related);
    tcase_add_test(tc, test_rfc822_attachment);
    tcase_add_test(tc, test_smime_signed);
    tcase_add_test(tc, test_smime_encrypted);
    tcase_add_test(tc, test_invitation);
    tcase_add_test(tc, test_meeting_classes);
    tcase_add_test(tc, test_broken_message);
    tcase_add_test(tc, test_empty_and_headerless);
    tcase_add_test(tc, test_huge_header_line);
    tcase_add_test(tc, test_multipart_edge_cases);
    tcase_add_test(tc, test_truncated_prefixes);
    tcase_add_test(tc, test_attachment_data_errors);
    tcase_add_test(tc, test_attachment_ranges);
    suite_add_tcase(s, tc);
    tc = tcase_create("html");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_html_to_text);
    tcase_add_test(tc, test_text_to_html_and_preview);
    suite_add_tcase(s, tc);
    tc = tcase_create("compose");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_compose_headers);
    tcase_add_test(tc, test_compose_reply_and_forward);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    apr_initialize();
    return zx_run_tap(mime_suite());
}
