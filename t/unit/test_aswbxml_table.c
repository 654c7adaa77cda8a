/* zxmobile - unit test: the library's WBXML code pages (include/zxsync/wbxml_tags.def) against
 * the published [MS-ASWBXML] table written down in t/unit/aswbxml_codepages.txt (every tag of
 * code pages 0-25, including the tokens of revision 1.0 that later revisions no longer list:
 * AirSync Version, RTFTruncation, NotifyGUID, Email AttRemoved, the Rtf tags, ...).
 *
 * Every (page, token, name) of the file must be the library's, both ways (token -> name with
 * zx_wb_tag_name, name -> token with zx_wb_tag_lookup), and the library may have no tag the
 * file does not list.
 */
#include <zxsync/wbxml.h>

#include <apr_general.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap_run.h"

#ifndef ZX_SRCDIR
#define ZX_SRCDIR "."
#endif

#define TABLE ZX_SRCDIR "/t/unit/aswbxml_codepages.txt"

/* published[page][token]: the name the file gives, "" where it lists none */
static char published[ZX_PAGE_COUNT_][64][64];
static int published_lines;

static void load(void)
{
    FILE *f = fopen(TABLE, "r");
    ck_assert_msg(f != NULL, "cannot open %s", TABLE);
    char line[512];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        unsigned page, tok;
        char name[64];
        ck_assert_msg(sscanf(line, "%u 0x%x %63s", &page, &tok, name) == 3,
                      "%s:%d: not <page> <token> <name> ...", TABLE, lineno);
        ck_assert_msg(page < ZX_PAGE_COUNT_, "%s:%d: page %u beyond the library's pages",
                      TABLE, lineno, page);
        ck_assert_msg(tok >= 5 && tok < 64, "%s:%d: token 0x%02X", TABLE, lineno, tok);
        ck_assert_msg(published[page][tok][0] == '\0', "%s:%d: page %u token 0x%02X twice",
                      TABLE, lineno, page, tok);
        strcpy(published[page][tok], name);
        published_lines++;
    }
    fclose(f);
}

static void unload(void)
{
    memset(published, 0, sizeof published);
    published_lines = 0;
}

START_TEST(test_every_published_tag_is_the_librarys)
{
    load();
    /* the whole published table: 26 pages, more than 600 tags */
    ck_assert_int_ge(published_lines, 600);
    int checked = 0;
    for (unsigned p = 0; p < ZX_PAGE_COUNT_; p++)
        for (unsigned t = 5; t < 64; t++) {
            if (!published[p][t][0])
                continue;
            unsigned tag = (p << 8) | t;
            const char *lib = zx_wb_tag_name(tag);
            ck_assert_msg(lib != NULL, "page %u token 0x%02X (%s) missing from the library", p,
                          t, published[p][t]);
            ck_assert_msg(strcmp(lib, published[p][t]) == 0,
                          "page %u token 0x%02X: library \"%s\", published \"%s\"", p, t, lib,
                          published[p][t]);
            ck_assert_msg(zx_wb_tag_lookup(p, published[p][t]) == (int)tag,
                          "page %u: \"%s\" does not look up to token 0x%02X", p,
                          published[p][t], t);
            checked++;
        }
    ck_assert_int_eq(checked, published_lines);
    unload();
}
END_TEST

START_TEST(test_library_has_no_unpublished_tag)
{
    load();
    for (unsigned p = 0; p < ZX_PAGE_COUNT_; p++)
        for (unsigned t = 0; t < 64; t++) {
            const char *lib = zx_wb_tag_name((p << 8) | t);
            ck_assert_msg(!lib || published[p][t][0],
                          "library page %u token 0x%02X (%s) is not in the published table", p,
                          t, lib ? lib : "");
        }
    unload();
}
END_TEST

/* the tokens issue 18 names one by one: the ones later revisions mark as not used */
START_TEST(test_legacy_tokens)
{
    static const struct {
        unsigned tag;
        const char *name;
    } legacy[] = {
        {ZX_AirSync_Version, "Version"},             {ZX_AirSync_NotifyGUID, "NotifyGUID"},
        {ZX_AirSync_Truncation, "Truncation"},       {ZX_AirSync_RTFTruncation, "RTFTruncation"},
        {ZX_AirSync_MIMESupport, "MIMESupport"},     {ZX_AirSync_MIMETruncation, "MIMETruncation"},
        {ZX_Email_AttRemoved, "AttRemoved"},         {ZX_Email_Body, "Body"},
        {ZX_Email_BodySize, "BodySize"},             {ZX_Email_BodyTruncated, "BodyTruncated"},
        {ZX_Email_MIMEData, "MIMEData"},             {ZX_Email_MIMETruncated, "MIMETruncated"},
        {ZX_Email_MIMESize, "MIMESize"},             {ZX_Email_Attachments, "Attachments"},
        {ZX_Email_Attachment, "Attachment"},         {ZX_Email_AttName, "AttName"},
        {ZX_Email_AttSize, "AttSize"},               {ZX_Email_Att0id, "Att0id"},
        {ZX_Email_AttMethod, "AttMethod"},           {ZX_Email_DisplayName, "DisplayName"},
        {ZX_Contacts_Rtf, "Rtf"},                    {ZX_Calendar_Rtf, "Rtf"},
        {ZX_Tasks_Rtf, "Rtf"},
    };
    load();
    for (unsigned i = 0; i < sizeof legacy / sizeof legacy[0]; i++) {
        unsigned p = ZX_WB_PAGE(legacy[i].tag), t = ZX_WB_TOKEN(legacy[i].tag);
        ck_assert_msg(strcmp(published[p][t], legacy[i].name) == 0,
                      "%s: page %u token 0x%02X not published so", legacy[i].name, p, t);
        ck_assert_str_eq(zx_wb_tag_name(legacy[i].tag), legacy[i].name);
    }
    unload();
}
END_TEST

static Suite *table_suite(void)
{
    Suite *s = suite_create("aswbxml_table");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, test_every_published_tag_is_the_librarys);
    tcase_add_test(tc, test_library_has_no_unpublished_tag);
    tcase_add_test(tc, test_legacy_tokens);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    apr_initialize();
    return zx_run_tap(table_suite());
}
