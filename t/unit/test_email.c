/* zxmobile - unit tests of the e-mail renderer (eas/class/email.c) and of the sync engine's pure
 * parts (eas/syncstate.c): dates, body preferences and the body chosen for them, truncation on
 * UTF-8 boundaries, the version-dependent elements, client changes, the classification of a
 * change for a device, FilterType windows and SyncKeys.  Check, TAP; run under valgrind by
 * `./zx test`. */
#include "../../libzxsync/eas/class/email.h"
#include "../../libzxsync/eas/syncstate.h"

#include <zxsync/mime.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <check.h>
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

static zx_wb_node *xml(const char *s)
{
    zx_wb_node *root = NULL;
    const char *msg = NULL;
    ck_assert_int_eq(zx_wbxml_from_xml(g_pool, s, strlen(s), &root, &msg), ZX_WBXML_OK);
    return root;
}

/* text of the first element at a path of tags under n (0-terminated list) */
static const char *text_at(const zx_wb_node *n, const unsigned *path)
{
    for (; *path; path++) {
        n = zx_wb_child(n, *path);
        if (!n)
            return NULL;
    }
    return zx_wb_text(g_pool, n);
}

#define AT(n, ...) text_at((n), (const unsigned[]){__VA_ARGS__, 0})

/* ---- dates ------------------------------------------------------------------------------ */

START_TEST(test_dates)
{
    ck_assert_str_eq(zx_eas_date(g_pool, 0), "1970-01-01T00:00:00.000Z");
    apr_time_t t;
    ck_assert_int_eq(zx_eas_parse_date("2030-01-08T12:34:56.789Z", &t), 0);
    ck_assert_str_eq(zx_eas_date(g_pool, t), "2030-01-08T12:34:56.789Z");
    ck_assert_int_eq(zx_eas_parse_date("2030-01-08T12:34:56Z", &t), 0);
    ck_assert_str_eq(zx_eas_date(g_pool, t), "2030-01-08T12:34:56.000Z");
    ck_assert_int_eq(zx_eas_parse_date("20300108T123456Z", &t), 0);
    ck_assert_str_eq(zx_eas_date(g_pool, t), "2030-01-08T12:34:56.000Z");
    ck_assert_int_eq(zx_eas_parse_date("2030-01-08T12:34:56.5", &t), 0);
    ck_assert_str_eq(zx_eas_date(g_pool, t), "2030-01-08T12:34:56.500Z");
    static const char *const bad[] = {"", "garbage", "2030-01-08", "2030-13-01T00:00:00Z",
                                      "2030-01-08T25:00:00Z", "2030-01-08T12:34:56.Z",
                                      "2030-01-08T12:34:56Zx", "2030/01/08T12:34:56Z"};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(zx_eas_parse_date(bad[i], &t), -1);
    ck_assert_int_eq(zx_eas_parse_date(NULL, &t), -1);
}
END_TEST

/* ---- options ---------------------------------------------------------------------------- */

START_TEST(test_options)
{
    zx_class_opts o;
    ck_assert_int_eq(zx_email_render_opts_from_wbxml(g_pool, NULL, ZX_V141, &o), 0);
    ck_assert_int_eq(o.nbody, 0);
    ck_assert_int_eq(o.mime_support, -1);
    ck_assert_int_eq(zx_email_render_opts_from_wbxml(g_pool, xml(
        "<Options xmlns=\"AirSync\"><MIMESupport>2</MIMESupport><MIMETruncation>4</MIMETruncation>"
        "<BodyPreference xmlns=\"AirSyncBase\"><Type>2</Type><TruncationSize>500</TruncationSize>"
        "<AllOrNone/><Preview>100</Preview></BodyPreference>"
        "<BodyPreference xmlns=\"AirSyncBase\"><Type>1</Type></BodyPreference>"
        "<BodyPartPreference xmlns=\"AirSyncBase\"><Type>2</Type></BodyPartPreference>"
        "<FilterType>3</FilterType></Options>"), ZX_V141, &o), 0);
    ck_assert_int_eq(o.version, ZX_V141);
    ck_assert_int_eq(o.mime_support, 2);
    ck_assert_int_eq(o.mime_truncation, 10240);
    ck_assert_int_eq(o.nbody, 2);
    ck_assert_int_eq(o.body[0].type, 2);
    ck_assert_int_eq(o.body[0].truncation, 500);
    ck_assert_int_eq(o.body[0].all_or_none, 1);
    ck_assert_int_eq(o.body[0].preview, 100);
    ck_assert_int_eq(o.body[1].type, 1);
    ck_assert_int_eq(o.body[1].truncation, -1);
    ck_assert_int_eq(o.npart, 1);
    static const char *const bad[] = {
        "<Options xmlns=\"AirSync\"><BodyPreference xmlns=\"AirSyncBase\"><Type>5</Type>"
        "</BodyPreference></Options>",
        "<Options xmlns=\"AirSync\"><BodyPreference xmlns=\"AirSyncBase\"><Type>1</Type>"
        "<TruncationSize>x</TruncationSize></BodyPreference></Options>",
        "<Options xmlns=\"AirSync\"><BodyPreference xmlns=\"AirSyncBase\"><Type>1</Type>"
        "<Preview>256</Preview></BodyPreference></Options>",
        "<Options xmlns=\"AirSync\"><BodyPreference xmlns=\"AirSyncBase\"><Type>1</Type>"
        "<AllOrNone>2</AllOrNone></BodyPreference></Options>",
        "<Options xmlns=\"AirSync\"><MIMESupport>3</MIMESupport></Options>",
        "<Options xmlns=\"AirSync\"><MIMETruncation>9</MIMETruncation></Options>",
        "<Options xmlns=\"AirSync\"><BodyPreference xmlns=\"AirSyncBase\"></BodyPreference>"
        "</Options>"};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(zx_email_render_opts_from_wbxml(g_pool, xml(bad[i]), ZX_V141, &o), -1);
    /* what the store must load */
    zx_content_want want;
    zx_email_render_opts_from_wbxml(g_pool, xml(
        "<Options xmlns=\"AirSync\"><BodyPreference xmlns=\"AirSyncBase\"><Type>2</Type>"
        "<TruncationSize>500</TruncationSize></BodyPreference></Options>"), ZX_V141, &o);
    zx_email_content_want(&o, &want);
    ck_assert_int_eq(want.plain, 500);
    ck_assert_int_eq(want.html, 500);
    ck_assert_int_eq(want.mime, 0);
    zx_email_render_opts_from_wbxml(g_pool, NULL, ZX_V121, &o);
    zx_email_content_want(&o, &want);
    ck_assert_int_eq(want.plain, -1);
    zx_email_render_opts_from_wbxml(g_pool, xml(
        "<Options xmlns=\"AirSync\"><MIMETruncation>1</MIMETruncation><BodyPreference "
        "xmlns=\"AirSyncBase\"><Type>4</Type></BodyPreference></Options>"), ZX_V121, &o);
    zx_email_content_want(&o, &want);
    ck_assert_int_eq(want.mime, 4096);
}
END_TEST

/* ---- rendering ---------------------------------------------------------------------------- */

#define PLAIN "h\xc3\xa9llo w\xc3\xb6rld, this is the text"     /* héllo wörld, ... */
#define HTML "<p>Hello <b>world</b></p>"

static zx_item *sample_item(void)
{
    zx_item *it = apr_pcalloc(g_pool, sizeof *it);
    it->id = "7";
    it->folder_id = "1";
    it->subject = "Subject";
    it->from = "Ann <ann@example.com>";
    it->to = "A <a@x.org>, \"B, C\" <b@x.org>, c@x.org";
    it->received = apr_time_from_sec(86400);
    it->importance = 2;
    it->message_class = "IPM.Note";
    it->native_body_type = 2;
    it->read = 1;
    it->last_verb = 3;
    it->last_verb_time = apr_time_from_sec(90000);
    it->categories = apr_array_make(g_pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(it->categories, const char *) = "Work";
    static const unsigned char cid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    it->conversation_id = cid;
    zx_item_content *c = apr_pcalloc(g_pool, sizeof *c);
    c->text_plain = PLAIN;
    c->plain_size = strlen(PLAIN);
    c->text_html = HTML;
    c->html_size = strlen(HTML);
    c->preview = "h\xc3\xa9llo w\xc3\xb6rld";
    c->mime = "Subject: Subject\r\n\r\nbody\r\n";
    c->mime_len = c->mime_size = strlen(c->mime);
    c->attachments = apr_array_make(g_pool, 1, sizeof(zx_mime_attachment));
    zx_mime_attachment *a = apr_array_push(c->attachments);
    a->name = "report.pdf";
    a->content_type = "application/pdf";
    a->size = 1234;
    a->part = 2;
    it->content = c;
    return it;
}

static zx_wb_node *render(zx_item *it, const char *options, zx_version v)
{
    zx_class_opts o;
    ck_assert_int_eq(zx_email_render_opts_from_wbxml(g_pool, options ? xml(options) : NULL, v,
                                                     &o), 0);
    zx_wb_node *ad = zx_wb_new(g_pool, ZX_AirSync_ApplicationData);
    const char *err = NULL;
    ck_assert_int_eq(zx_email_render(g_pool, NULL, it, &o, ad, NULL, &err), 0);
    /* and it encodes */
    unsigned char *out;
    apr_size_t len;
    ck_assert_int_eq(zx_wbxml_encode(g_pool, ad, &out, &len), ZX_WBXML_OK);
    return ad;
}

#define PREF(t, extra) "<BodyPreference xmlns=\"AirSyncBase\"><Type>" #t "</Type>" extra \
    "</BodyPreference>"
#define OPTS(x) "<Options xmlns=\"AirSync\">" x "</Options>"

START_TEST(test_render_envelope_and_versions)
{
    zx_item *it = sample_item();
    zx_wb_node *ad = render(it, OPTS(PREF(1, "")), ZX_V141);
    ck_assert_str_eq(AT(ad, ZX_Email_Subject), "Subject");
    ck_assert_str_eq(AT(ad, ZX_Email_DisplayTo), "A; B, C; c@x.org");
    ck_assert_str_eq(AT(ad, ZX_Email_DateReceived), "1970-01-02T00:00:00.000Z");
    ck_assert_str_eq(AT(ad, ZX_Email_Importance), "2");
    ck_assert_str_eq(AT(ad, ZX_Email_Read), "1");
    ck_assert_str_eq(AT(ad, ZX_Email_InternetCPID), "65001");
    ck_assert_str_eq(AT(ad, ZX_AirSyncBase_NativeBodyType), "2");
    ck_assert_str_eq(AT(ad, ZX_AirSyncBase_Attachments, ZX_AirSyncBase_Attachment,
                        ZX_AirSyncBase_FileReference), "7:2");
    ck_assert_str_eq(AT(ad, ZX_AirSyncBase_Attachments, ZX_AirSyncBase_Attachment,
                        ZX_AirSyncBase_EstimatedDataSize), "1234");
    ck_assert_ptr_null(zx_wb_child(ad, ZX_Email_Flag)->first);      /* <Flag/> */
    ck_assert_str_eq(AT(ad, ZX_Email_Categories, ZX_Email_Category), "Work");
    ck_assert_str_eq(AT(ad, ZX_Email2_LastVerbExecuted), "3");
    ck_assert_uint_eq(zx_wb_child(ad, ZX_Email2_ConversationId)->first->len, 16);
    ck_assert_uint_eq(zx_wb_child(ad, ZX_Email2_ConversationIndex)->first->len, 5);
    /* 12.1: no 14.0 elements */
    ad = render(it, OPTS(PREF(1, "<Preview>5</Preview>")), ZX_V121);
    ck_assert_ptr_null(zx_wb_child(ad, ZX_Email_Categories));
    ck_assert_ptr_null(zx_wb_child(ad, ZX_Email2_ConversationId));
    ck_assert_ptr_null(zx_wb_child(ad, ZX_Email2_LastVerbExecuted));
    ck_assert_ptr_null(AT(ad, ZX_AirSyncBase_Body, ZX_AirSyncBase_Preview));
    ck_assert_ptr_nonnull(zx_wb_child(ad, ZX_Email_Flag));
    /* 14.1: Preview in characters, BodyPart */
    ad = render(it, OPTS(PREF(1, "<Preview>5</Preview>")
                         "<BodyPartPreference xmlns=\"AirSyncBase\"><Type>2</Type>"
                         "<TruncationSize>8</TruncationSize></BodyPartPreference>"), ZX_V141);
    ck_assert_str_eq(AT(ad, ZX_AirSyncBase_Body, ZX_AirSyncBase_Preview), "h\xc3\xa9llo");
    ck_assert_str_eq(AT(ad, ZX_AirSyncBase_BodyPart, ZX_AirSyncBase_Status), "1");
    ck_assert_str_eq(AT(ad, ZX_AirSyncBase_BodyPart, ZX_AirSyncBase_Data), "<p>Hello");
    ck_assert_str_eq(AT(ad, ZX_AirSyncBase_BodyPart, ZX_AirSyncBase_Truncated), "1");
    /* a flag */
    it->flag.status = 2;
    it->flag.flag_type = "for Follow Up";
    it->flag.due = apr_time_from_sec(3600);
    ad = render(it, NULL, ZX_V141);
    ck_assert_str_eq(AT(ad, ZX_Email_Flag, ZX_Email_Status), "2");
    ck_assert_str_eq(AT(ad, ZX_Email_Flag, ZX_Tasks_DueDate), "1970-01-01T01:00:00.000Z");
    /* the flags of a Change */
    zx_wb_node *ch = zx_wb_new(g_pool, ZX_AirSync_ApplicationData);
    zx_email_render_flags(g_pool, it, ZX_V121, ch);
    ck_assert_str_eq(AT(ch, ZX_Email_Read), "1");
    ck_assert_ptr_nonnull(zx_wb_child(ch, ZX_Email_Flag));
    ck_assert_ptr_null(zx_wb_child(ch, ZX_Email_Categories));
    ck_assert_ptr_null(zx_wb_child(ch, ZX_Email_Subject));
}
END_TEST

/* 2.5: airsync:Truncation cuts email:Body to [MS-ASCMD] 2.2.3.185's character counts, with
 * BodySize (characters of the whole body) and BodyTruncated 1; 12.x clients' Truncation and
 * RTFTruncation are accepted and change nothing. */
START_TEST(test_legacy_truncation)
{
    zx_item *it = sample_item();
    /* a body of 600 characters: 300 two-byte ones then 300 ASCII */
    char *body = apr_palloc(g_pool, 901);
    for (int i = 0; i < 300; i++) {
        body[2 * i] = '\xc3';
        body[2 * i + 1] = '\xa9';
    }
    memset(body + 600, 'a', 300);
    body[900] = 0;
    zx_item_content *c = (zx_item_content *)it->content;
    c->text_plain = body;
    c->plain_size = 900;

    zx_class_opts o;
    ck_assert_int_eq(zx_email_render_opts_from_wbxml(g_pool, xml(OPTS(
        "<Truncation>1</Truncation><RTFTruncation>4</RTFTruncation><Conflict>1</Conflict>"
        "<MIMESupport>0</MIMESupport><MIMETruncation>8</MIMETruncation>"
        "<FilterType>0</FilterType>")), ZX_V25, &o), 0);
    ck_assert_int_eq(o.truncation, 512);

    /* 1: 512 characters (300 + 212), 812 bytes */
    zx_wb_node *ad = render(it, OPTS("<Truncation>1</Truncation><RTFTruncation>4</RTFTruncation>"),
                            ZX_V25);
    const char *b = AT(ad, ZX_Email_Body);
    ck_assert_uint_eq(strlen(b), 812);
    ck_assert_int_eq(memcmp(b, body, 812), 0);
    ck_assert_str_eq(AT(ad, ZX_Email_BodyTruncated), "1");
    ck_assert_str_eq(AT(ad, ZX_Email_BodySize), "600");
    /* 0: nothing of the text */
    ad = render(it, OPTS("<Truncation>0</Truncation>"), ZX_V25);
    ck_assert_str_eq(AT(ad, ZX_Email_Body), "");
    ck_assert_str_eq(AT(ad, ZX_Email_BodyTruncated), "1");
    ck_assert_str_eq(AT(ad, ZX_Email_BodySize), "600");
    /* 2 (1024) and 9 (none) and no Truncation: the whole body, no BodySize */
    static const char *const whole[] = {OPTS("<Truncation>2</Truncation>"),
                                        OPTS("<Truncation>9</Truncation>"),
                                        OPTS("<RTFTruncation>9</RTFTruncation>"), NULL};
    for (int i = 0; i < 4; i++) {
        ad = render(it, whole[i], ZX_V25);
        ck_assert_str_eq(AT(ad, ZX_Email_Body), body);
        ck_assert_str_eq(AT(ad, ZX_Email_BodyTruncated), "0");
        ck_assert_ptr_null(zx_wb_child(ad, ZX_Email_BodySize));
    }
    /* exactly 600 characters with 7 (51200): not truncated; a 5-character body with 0 is */
    ad = render(it, OPTS("<Truncation>7</Truncation>"), ZX_V25);
    ck_assert_str_eq(AT(ad, ZX_Email_BodyTruncated), "0");
    c->text_plain = "abcde";
    ad = render(it, OPTS("<Truncation>0</Truncation>"), ZX_V25);
    ck_assert_str_eq(AT(ad, ZX_Email_BodySize), "5");
    /* 2.5: a value the table does not have is a protocol error */
    ck_assert_int_eq(zx_email_render_opts_from_wbxml(g_pool, xml(OPTS(
        "<Truncation>10</Truncation>")), ZX_V25, &o), -1);
    ck_assert_int_eq(zx_email_render_opts_from_wbxml(g_pool, xml(OPTS(
        "<Truncation>x</Truncation>")), ZX_V25, &o), -1);

    /* 12.1: Truncation and RTFTruncation next to a BodyPreference change nothing, whatever
     * their values */
    c->text_plain = body;
    ck_assert_int_eq(zx_email_render_opts_from_wbxml(g_pool, xml(OPTS(
        "<Truncation>77</Truncation><RTFTruncation>x</RTFTruncation>" PREF(1, ""))),
        ZX_V121, &o), 0);
    ck_assert_int_eq(o.truncation, -1);
    ad = render(it, OPTS("<Truncation>0</Truncation><RTFTruncation>0</RTFTruncation>"
                         PREF(1, "")), ZX_V121);
    ck_assert_str_eq(AT(ad, ZX_AirSyncBase_Body, ZX_AirSyncBase_Data), body);
    ck_assert_ptr_null(zx_wb_child(ad, ZX_Email_Body));
    ck_assert_ptr_null(zx_wb_child(ad, ZX_Email_BodyTruncated));
}
END_TEST

START_TEST(test_render_bodies)
{
    zx_item *it = sample_item();
    /* text, cut on a character boundary: "hé" is 3 bytes, 2 give "h" */
    zx_wb_node *ad = render(it, OPTS(PREF(1, "<TruncationSize>2</TruncationSize>")), ZX_V141);
    ck_assert_str_eq(AT(ad, ZX_AirSyncBase_Body, ZX_AirSyncBase_Type), "1");
    ck_assert_str_eq(AT(ad, ZX_AirSyncBase_Body, ZX_AirSyncBase_Data), "h");
    ck_assert_str_eq(AT(ad, ZX_AirSyncBase_Body, ZX_AirSyncBase_Truncated), "1");
    ck_assert_str_eq(AT(ad, ZX_AirSyncBase_Body, ZX_AirSyncBase_EstimatedDataSize),
                     apr_psprintf(g_pool, "%d", (int)strlen(PLAIN)));
    ad = render(it, OPTS(PREF(1, "<TruncationSize>3</TruncationSize>")), ZX_V141);
    ck_assert_str_eq(AT(ad, ZX_AirSyncBase_Body, ZX_AirSyncBase_Data), "h\xc3\xa9");
    /* the native type first */
    ad = render(it, OPTS(PREF(1, "") PREF(2, "")), ZX_V141);
    ck_assert_str_eq(AT(ad, ZX_AirSyncBase_Body, ZX_AirSyncBase_Type), "2");
    ck_assert_str_eq(AT(ad, ZX_AirSyncBase_Body, ZX_AirSyncBase_Data), HTML);
    ck_assert_str_eq(AT(ad, ZX_AirSyncBase_Body, ZX_AirSyncBase_Truncated), "0");
    /* AllOrNone: HTML would be cut, so the next one */
    ad = render(it, OPTS(PREF(2, "<TruncationSize>4</TruncationSize><AllOrNone>1</AllOrNone>")
                         PREF(1, "")), ZX_V141);
    ck_assert_str_eq(AT(ad, ZX_AirSyncBase_Body, ZX_AirSyncBase_Type), "1");
    ck_assert_str_eq(AT(ad, ZX_AirSyncBase_Body, ZX_AirSyncBase_Data), PLAIN);
    /* AllOrNone on every type: no data */
    ad = render(it, OPTS(PREF(2, "<TruncationSize>4</TruncationSize><AllOrNone>1</AllOrNone>")),
                ZX_V141);
    ck_assert_ptr_null(AT(ad, ZX_AirSyncBase_Body, ZX_AirSyncBase_Data));
    ck_assert_str_eq(AT(ad, ZX_AirSyncBase_Body, ZX_AirSyncBase_Truncated), "1");
    /* MIME, and MIMESupport 0 or 1 refusing it */
    ad = render(it, OPTS("<MIMESupport>2</MIMESupport>" PREF(4, "")), ZX_V141);
    ck_assert_str_eq(AT(ad, ZX_AirSyncBase_Body, ZX_AirSyncBase_Type), "4");
    ck_assert_str_eq(AT(ad, ZX_AirSyncBase_Body, ZX_AirSyncBase_Data),
                     "Subject: Subject\r\n\r\nbody\r\n");
    ad = render(it, OPTS("<MIMESupport>0</MIMESupport>" PREF(4, "")), ZX_V141);
    ck_assert_str_eq(AT(ad, ZX_AirSyncBase_Body, ZX_AirSyncBase_Type), "1");
    ad = render(it, OPTS("<MIMESupport>1</MIMESupport>" PREF(4, "")), ZX_V141);
    ck_assert_str_eq(AT(ad, ZX_AirSyncBase_Body, ZX_AirSyncBase_Type), "1");
    it->message_class = "IPM.Note.SMIME";
    ad = render(it, OPTS("<MIMESupport>1</MIMESupport>" PREF(4, "")), ZX_V141);
    ck_assert_str_eq(AT(ad, ZX_AirSyncBase_Body, ZX_AirSyncBase_Type), "4");
    /* MIME that is not UTF-8 goes as opaque data */
    ((zx_item_content *)it->content)->mime = "Subject: \xe9t\xe9\r\n\r\n";
    ((zx_item_content *)it->content)->mime_len = 17;
    ad = render(it, OPTS("<MIMESupport>2</MIMESupport>" PREF(4, "")), ZX_V141);
    ck_assert_int_eq(zx_wb_child(zx_wb_child(ad, ZX_AirSyncBase_Body), ZX_AirSyncBase_Data)->first->kind,
                     ZX_WB_OPAQUE);
    /* HTML asked for, only text there: converted */
    ((zx_item_content *)it->content)->text_html = NULL;
    ((zx_item_content *)it->content)->html_size = 0;
    it->native_body_type = 1;
    ad = render(it, OPTS(PREF(2, "")), ZX_V141);
    ck_assert_str_eq(AT(ad, ZX_AirSyncBase_Body, ZX_AirSyncBase_Type), "2");
    ck_assert_ptr_nonnull(strstr(AT(ad, ZX_AirSyncBase_Body, ZX_AirSyncBase_Data),
                                 "<pre>h\xc3\xa9llo"));
    /* RTF only: the text */
    ad = render(it, OPTS(PREF(3, "")), ZX_V141);
    ck_assert_str_eq(AT(ad, ZX_AirSyncBase_Body, ZX_AirSyncBase_Type), "1");
    /* a multipart response: the data in its own part */
    zx_class_opts o;
    zx_email_render_opts_from_wbxml(g_pool, xml(OPTS(PREF(1, ""))), ZX_V141, &o);
    o.multipart = 1;
    apr_array_header_t *blobs = NULL;
    const char *err = NULL;
    ad = zx_wb_new(g_pool, ZX_ItemOperations_Properties);
    ck_assert_int_eq(zx_email_render(g_pool, NULL, it, &o, ad, &blobs, &err), 0);
    ck_assert_str_eq(AT(ad, ZX_AirSyncBase_Body, ZX_ItemOperations_Part), "1");
    ck_assert_ptr_null(AT(ad, ZX_AirSyncBase_Body, ZX_AirSyncBase_Data));
    ck_assert_int_eq(blobs->nelts, 1);
    ck_assert_uint_eq(APR_ARRAY_IDX(blobs, 0, zx_class_blob).len, strlen(PLAIN));
}
END_TEST

START_TEST(test_parse_changes)
{
    zx_item_changes ch;
    const char *err = NULL;
    ck_assert_int_eq(zx_email_parse_changes(g_pool, xml(
        "<ApplicationData xmlns=\"AirSync\"><Read xmlns=\"Email\">1</Read>"
        "<Flag xmlns=\"Email\"><Status>2</Status><FlagType>for Follow Up</FlagType>"
        "<DueDate xmlns=\"Tasks\">2030-01-08T00:00:00.000Z</DueDate>"
        "<ReminderSet xmlns=\"Tasks\">1</ReminderSet></Flag>"
        "<Categories xmlns=\"Email\"><Category>A</Category><Category>B</Category></Categories>"
        "</ApplicationData>"), ZX_V141, &ch, &err), 0);
    ck_assert_int_eq(ch.read, 1);
    ck_assert_int_eq(ch.answered, -1);
    ck_assert_ptr_nonnull(ch.flag);
    ck_assert_int_eq(ch.flag->status, 2);
    ck_assert_str_eq(ch.flag->flag_type, "for Follow Up");
    ck_assert_int_eq(ch.flag->reminder_set, 1);
    ck_assert_str_eq(zx_eas_date(g_pool, ch.flag->due), "2030-01-08T00:00:00.000Z");
    ck_assert_int_eq(ch.categories->nelts, 2);
    /* 12.1: no categories; an empty Flag clears */
    ck_assert_int_eq(zx_email_parse_changes(g_pool, xml(
        "<ApplicationData xmlns=\"AirSync\"><Flag xmlns=\"Email\"/>"
        "<Categories xmlns=\"Email\"><Category>A</Category></Categories></ApplicationData>"),
        ZX_V121, &ch, &err), 0);
    ck_assert_int_eq(ch.read, -1);
    ck_assert_int_eq(ch.flag->status, 0);
    ck_assert_ptr_null(ch.categories);
    /* an empty Categories clears them */
    ck_assert_int_eq(zx_email_parse_changes(g_pool, xml(
        "<ApplicationData xmlns=\"AirSync\"><Categories xmlns=\"Email\"/></ApplicationData>"),
        ZX_V160, &ch, &err), 0);
    ck_assert_int_eq(ch.categories->nelts, 0);
    static const char *const bad[] = {
        "<ApplicationData xmlns=\"AirSync\"><Read xmlns=\"Email\">2</Read></ApplicationData>",
        "<ApplicationData xmlns=\"AirSync\"><Flag xmlns=\"Email\"><Status>4</Status></Flag>"
        "</ApplicationData>",
        "<ApplicationData xmlns=\"AirSync\"><Flag xmlns=\"Email\"><DueDate xmlns=\"Tasks\">soon"
        "</DueDate></Flag></ApplicationData>"};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(zx_email_parse_changes(g_pool, xml(bad[i]), ZX_V141, &ch, &err), -1);
}
END_TEST

/* ---- the sync engine's rules ---------------------------------------------------------------- */

static zx_item *row(long long created, const char *created_by, const char *changed_by,
                    int deleted, apr_time_t received)
{
    zx_item *it = apr_pcalloc(g_pool, sizeof *it);
    it->id = "1";
    it->created_modseq = created;
    it->modseq = 100;
    it->created_by = created_by;
    it->changed_by = changed_by;
    it->deleted = deleted;
    it->received = received;
    return it;
}

START_TEST(test_classify)
{
    apr_time_t t = apr_time_from_sec(1000);
    /* a new item: Add, whoever changed it since */
    ck_assert_int_eq(zx_sync_classify(row(60, NULL, NULL, 0, t), 50, "9", 0), ZX_SYNC_ADD);
    ck_assert_int_eq(zx_sync_classify(row(60, NULL, "9", 0, t), 50, "9", 0), ZX_SYNC_ADD);
    /* one the device has: Change, unless it made that change */
    ck_assert_int_eq(zx_sync_classify(row(40, NULL, NULL, 0, t), 50, "9", 0), ZX_SYNC_CHANGE);
    ck_assert_int_eq(zx_sync_classify(row(40, NULL, "8", 0, t), 50, "9", 0), ZX_SYNC_CHANGE);
    ck_assert_int_eq(zx_sync_classify(row(40, NULL, "9", 0, t), 50, "9", 0), ZX_SYNC_SKIP);
    /* created by the device (a move it made): it has it */
    ck_assert_int_eq(zx_sync_classify(row(60, "9", "9", 0, t), 50, "9", 0), ZX_SYNC_SKIP);
    ck_assert_int_eq(zx_sync_classify(row(60, "9", "8", 0, t), 50, "9", 0), ZX_SYNC_CHANGE);
    /* deleted: Delete if it has it and did not delete it */
    ck_assert_int_eq(zx_sync_classify(row(40, NULL, NULL, 1, t), 50, "9", 0), ZX_SYNC_DELETE);
    ck_assert_int_eq(zx_sync_classify(row(40, NULL, "9", 1, t), 50, "9", 0), ZX_SYNC_SKIP);
    ck_assert_int_eq(zx_sync_classify(row(60, NULL, NULL, 1, t), 50, "9", 0), ZX_SYNC_SKIP);
    /* outside the FilterType window: nothing (deletes still go) */
    ck_assert_int_eq(zx_sync_classify(row(60, NULL, NULL, 0, t), 50, "9", t + 1), ZX_SYNC_SKIP);
    ck_assert_int_eq(zx_sync_classify(row(40, NULL, NULL, 0, t), 50, "9", t + 1), ZX_SYNC_SKIP);
    ck_assert_int_eq(zx_sync_classify(row(40, NULL, NULL, 1, t), 50, "9", t + 1),
                     ZX_SYNC_DELETE);
    ck_assert_int_eq(zx_sync_classify(row(60, NULL, NULL, 0, t), 50, "9", t), ZX_SYNC_ADD);
}
END_TEST

START_TEST(test_walk_and_ahead)
{
    apr_time_t t = apr_time_from_sec(1000);
    /* created after the position: met at its creation, however often it changed since */
    zx_item *fresh = row(60, NULL, "8", 0, t);
    ck_assert_int_eq(zx_sync_walk_key(fresh, 50), 60);
    /* created before: met at its last change */
    ck_assert_int_eq(zx_sync_walk_key(row(40, NULL, NULL, 0, t), 50), 100);
    ck_assert_int_eq(zx_sync_walk_key(row(50, NULL, NULL, 0, t), 50), 100);

    /* an item sent in version 100 while the position is 70: held in that version only */
    zx_sync_pos pos = {.modseq = 70};
    ck_assert(!zx_sync_pos_holds(&pos, fresh));
    pos.ahead = apr_array_make(g_pool, 2, sizeof(zx_sync_ahead));
    zx_sync_ahead *a = apr_array_push(pos.ahead);
    a->id = 7;
    a->modseq = 100;
    ck_assert(!zx_sync_pos_holds(&pos, fresh));     /* item 1: another id */
    a = apr_array_push(pos.ahead);
    a->id = 1;
    a->modseq = 100;
    ck_assert(zx_sync_pos_holds(&pos, fresh));
    fresh->modseq = 101;                             /* changed again since */
    ck_assert(!zx_sync_pos_holds(&pos, fresh));
}
END_TEST

START_TEST(test_filters_and_keys)
{
    apr_time_t now = apr_time_from_sec(100 * 86400);
    ck_assert_int_eq(zx_sync_filter_cutoff(0, now), 0);
    ck_assert_int_eq(zx_sync_filter_cutoff(1, now), now - apr_time_from_sec(86400));
    ck_assert_int_eq(zx_sync_filter_cutoff(5, now), now - apr_time_from_sec(30 * 86400));
    ck_assert_int_eq(zx_sync_filter_cutoff(8, now), 0);
    ck_assert(zx_sync_filter_valid(0) && zx_sync_filter_valid(8));
    ck_assert(!zx_sync_filter_valid(9) && !zx_sync_filter_valid(-1));
    ck_assert(zx_sync_filter_wider(3, 0));      /* one week -> everything */
    ck_assert(zx_sync_filter_wider(1, 5));
    ck_assert(!zx_sync_filter_wider(5, 1));
    ck_assert(!zx_sync_filter_wider(0, 3));
    ck_assert(!zx_sync_filter_wider(3, 3));
    long long k;
    ck_assert_int_eq(zx_sync_key_parse("0", &k), 0);
    ck_assert_int_eq(k, 0);
    ck_assert_int_eq(zx_sync_key_parse("123", &k), 0);
    ck_assert_int_eq(k, 123);
    ck_assert_str_eq(zx_sync_key_str(g_pool, 123456789012LL), "123456789012");
    static const char *const bad[] = {"", "01", "-1", "1a", "1234567890123456789", " 1"};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(zx_sync_key_parse(bad[i], &k), -1);
    ck_assert_int_eq(zx_sync_key_parse(NULL, &k), -1);
    /* quiet: nothing after the position */
    zx_folder f = {0};
    zx_sync_pos pos = {0};
    f.modseq = 10;
    pos.modseq = 10;
    ck_assert(zx_sync_quiet(&f, &pos, 0));
    f.modseq = 11;
    ck_assert(!zx_sync_quiet(&f, &pos, 0));
    f.modseq = 10;
    pos.enumerating = 1;
    ck_assert(!zx_sync_quiet(&f, &pos, 0));
    pos.enumerating = 0;
    pos.aged_id = "0";
    pos.aged_received = now - apr_time_from_sec(86400);
    ck_assert(zx_sync_quiet(&f, &pos, pos.aged_received + apr_time_from_sec(60)));
    ck_assert(!zx_sync_quiet(&f, &pos, pos.aged_received + apr_time_from_sec(3600)));
}
END_TEST

int main(void)
{
    apr_initialize();
    Suite *s = suite_create("email");
    TCase *tc = tcase_create("email");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_dates);
    tcase_add_test(tc, test_options);
    tcase_add_test(tc, test_render_envelope_and_versions);
    tcase_add_test(tc, test_render_bodies);
    tcase_add_test(tc, test_legacy_truncation);
    tcase_add_test(tc, test_parse_changes);
    tcase_add_test(tc, test_classify);
    tcase_add_test(tc, test_walk_and_ahead);
    tcase_add_test(tc, test_filters_and_keys);
    suite_add_tcase(s, tc);
    return zx_run_tap(s);
}
