/* zxmobile - unit tests of the calendar time zones (libzxsync/pim/tz.c): the EAS TimeZone
 * blob of every zone round trips (zone -> blob -> zone -> the same blob) in two years, a
 * Windows "001" zone comes back as itself; the bytes of New York, Berlin, Sydney, Kolkata;
 * blobs as clients send them (all zero, iOS names, no names, bias only, swapped wDay and
 * wDayOfWeek, Windows' 23:59:59.999); wall time <-> UTC across the changes; four threads; a
 * benchmark line (a TAP comment; ZX_TZ_BENCH=1 for a cold process and the whole zone list).
 * Check, TAP; run under valgrind by `./zx test`. */
#include <zxsync/pimtz.h>

#include <apr_base64.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* ---- the blob, field by field ------------------------------------------------------------ */

typedef struct {
    int32_t bias, sbias, dbias;
    char sname[33], dname[33];
    int sd[8], dd[8];   /* wYear wMonth wDayOfWeek wDay wHour wMinute wSecond wMilliseconds */
} blob;

static int32_t rd32(const unsigned char *b)
{
    return (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                     (uint32_t)b[3] << 24);
}

static void rdname(const unsigned char *b, char *out)
{
    int i;
    for (i = 0; i < 32 && (b[2 * i] | b[2 * i + 1]); i++)
        out[i] = (char)b[2 * i];
    out[i] = '\0';
    for (; i < 32; i++)     /* unused units are 0 ([MS-ASDTYPE] 2.7.6) */
        ck_assert(b[2 * i] == 0 && b[2 * i + 1] == 0);
}

static blob decode(const char *b64)
{
    ck_assert_ptr_nonnull(b64);
    ck_assert_int_eq((int)strlen(b64), ZX_TZ_BLOB_B64_CHARS);
    unsigned char b[ZX_TZ_BLOB_BYTES + 4];
    ck_assert_int_eq(apr_base64_decode_len(b64) >= ZX_TZ_BLOB_BYTES, 1);
    ck_assert_int_eq(apr_base64_decode_binary(b, b64), ZX_TZ_BLOB_BYTES);
    blob r;
    r.bias = rd32(b);
    rdname(b + 4, r.sname);
    for (int i = 0; i < 8; i++) {
        r.sd[i] = b[68 + 2 * i] | b[69 + 2 * i] << 8;
        r.dd[i] = b[152 + 2 * i] | b[153 + 2 * i] << 8;
    }
    r.sbias = rd32(b + 84);
    rdname(b + 88, r.dname);
    r.dbias = rd32(b + 168);
    return r;
}

static void ck_date(const int *st, int month, int dow, int week, int h, int mi)
{
    ck_assert_int_eq(st[0], 0);
    ck_assert_int_eq(st[1], month);
    ck_assert_int_eq(st[2], dow);
    ck_assert_int_eq(st[3], week);
    ck_assert_int_eq(st[4], h);
    ck_assert_int_eq(st[5], mi);
    ck_assert_int_eq(st[6], 0);
    ck_assert_int_eq(st[7], 0);
}

START_TEST(new_york_2026)
{
    blob b = decode(zx_tz_blob(g_pool, "America/New_York", 2026));
    ck_assert_int_eq(b.bias, 300);
    ck_assert_str_eq(b.sname, "Eastern Standard Time");
    ck_assert_str_eq(b.dname, "Eastern Daylight Time");
    ck_date(b.sd, 11, 0, 1, 2, 0);      /* first Sunday of November, 02:00 EDT */
    ck_date(b.dd, 3, 0, 2, 2, 0);       /* second Sunday of March, 02:00 EST */
    ck_assert_int_eq(b.sbias, 0);
    ck_assert_int_eq(b.dbias, -60);
}
END_TEST

START_TEST(berlin_last_sunday)
{
    for (int y = 2024; y <= 2030; y++) {
        blob b = decode(zx_tz_blob(g_pool, "Europe/Berlin", y));
        ck_assert_int_eq(b.bias, -60);
        ck_assert_str_eq(b.sname, "W. Europe Standard Time");
        ck_assert_str_eq(b.dname, "W. Europe Daylight Time");
        ck_date(b.sd, 10, 0, 5, 3, 0);  /* last Sunday of October, 03:00 CEST */
        ck_date(b.dd, 3, 0, 5, 2, 0);   /* last Sunday of March, 02:00 CET */
        ck_assert_int_eq(b.dbias, -60);
    }
    blob l = decode(zx_tz_blob(g_pool, "Europe/London", 2026));
    ck_assert_int_eq(l.bias, 0);
    ck_assert_str_eq(l.sname, "GMT Standard Time");
    ck_date(l.sd, 10, 0, 5, 2, 0);
    ck_date(l.dd, 3, 0, 5, 1, 0);
    /* tzdata's negative DST (winter is "daylight" in Europe/Dublin): written the Windows way */
    blob d = decode(zx_tz_blob(g_pool, "Europe/Dublin", 2026));
    ck_assert_int_eq(d.bias, 0);
    ck_assert_int_eq(d.dbias, -60);
    ck_date(d.sd, 10, 0, 5, 2, 0);
    ck_date(d.dd, 3, 0, 5, 1, 0);
}
END_TEST

START_TEST(sydney_southern)
{
    blob b = decode(zx_tz_blob(g_pool, "Australia/Sydney", 2026));
    ck_assert_int_eq(b.bias, -600);
    ck_assert_str_eq(b.sname, "AUS Eastern Standard Time");
    ck_assert_str_eq(b.dname, "AUS Eastern Daylight Time");
    ck_date(b.sd, 4, 0, 1, 3, 0);       /* first Sunday of April, 03:00 AEDT */
    ck_date(b.dd, 10, 0, 1, 2, 0);      /* first Sunday of October, 02:00 AEST */
    ck_assert_int_eq(b.dbias, -60);
    blob lh = decode(zx_tz_blob(g_pool, "Australia/Lord_Howe", 2026));
    ck_assert_int_eq(lh.bias, -630);
    ck_assert_int_eq(lh.dbias, -30);    /* half an hour of daylight time */
}
END_TEST

START_TEST(kolkata_no_dst)
{
    blob b = decode(zx_tz_blob(g_pool, "Asia/Kolkata", 2026));
    ck_assert_int_eq(b.bias, -330);
    ck_assert_str_eq(b.sname, "India Standard Time");
    ck_assert_str_eq(b.dname, "India Daylight Time");
    for (int i = 0; i < 8; i++)
        ck_assert(b.sd[i] == 0 && b.dd[i] == 0);
    ck_assert_int_eq(b.sbias, 0);
    ck_assert_int_eq(b.dbias, 0);
    ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, zx_tz_blob(g_pool, "Asia/Kolkata", 2026), 2026),
                     "Asia/Kolkata");
}
END_TEST

START_TEST(utc_and_unknown)
{
    blob b = decode(zx_tz_blob(g_pool, "UTC", 2026));
    ck_assert_int_eq(b.bias, 0);
    ck_assert_str_eq(b.sname, "UTC");
    ck_assert_str_eq(b.dname, "UTC");
    ck_assert_int_eq(b.sd[1], 0);
    ck_assert_int_eq(b.dd[1], 0);
    ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, zx_tz_blob(g_pool, "UTC", 2026), 2026), "UTC");
    ck_assert_ptr_null(zx_tz_blob(g_pool, "Mars/Olympus_Mons", 2026));
    ck_assert_ptr_null(zx_tz_blob(g_pool, "../../../etc/passwd", 2026));
    ck_assert_ptr_null(zx_tz_blob(g_pool, "", 2026));
    /* aliases ICU and the tz database know */
    blob e = decode(zx_tz_blob(g_pool, "US/Eastern", 2026));
    ck_assert_int_eq(e.bias, 300);
    ck_assert_str_eq(e.sname, "Eastern Standard Time");
}
END_TEST

START_TEST(windows_ids)
{
    ck_assert_str_eq(zx_tz_from_windows("Eastern Standard Time"), "America/New_York");
    ck_assert_str_eq(zx_tz_from_windows("W. Europe Standard Time"), "Europe/Berlin");
    ck_assert_str_eq(zx_tz_from_windows("India Standard Time"), "Asia/Kolkata");
    ck_assert_str_eq(zx_tz_from_windows("AUS Eastern Standard Time"), "Australia/Sydney");
    ck_assert_ptr_null(zx_tz_from_windows("Nowhere Standard Time"));
    ck_assert_ptr_null(zx_tz_from_windows(NULL));
    ck_assert_str_eq(zx_tz_to_windows("America/New_York"), "Eastern Standard Time");
    ck_assert_str_eq(zx_tz_to_windows("America/Detroit"), "Eastern Standard Time");
    ck_assert_str_eq(zx_tz_to_windows("Asia/Kolkata"), "India Standard Time");
    ck_assert_str_eq(zx_tz_to_windows("Asia/Calcutta"), "India Standard Time");
    ck_assert_str_eq(zx_tz_to_windows("Europe/Berlin"), "W. Europe Standard Time");
    ck_assert_ptr_null(zx_tz_to_windows("Mars/Olympus_Mons"));
}
END_TEST

/* ---- every zone --------------------------------------------------------------------------- */

START_TEST(every_zone_round_trip)
{
    int n = zx_tz_zone_count(), n001 = 0;
    ck_assert_int_gt(n, 300);
    for (int y = 2024; y <= 2027; y += 3) {
        for (int i = 0; i < n; i++) {
            const char *z = zx_tz_zone_name(i);
            const char *b = zx_tz_blob(g_pool, z, y);
            ck_assert_msg(b != NULL, "%s %d: no blob", z, y);
            const char *z2 = zx_tz_zone_of_blob(g_pool, b, y);
            ck_assert_msg(z2 != NULL, "%s %d: no zone of its blob", z, y);
            const char *b2 = zx_tz_blob(g_pool, z2, y);
            ck_assert_msg(b2 && strcmp(b, b2) == 0, "%s %d -> %s: another blob", z, y, z2);
            const char *w = zx_tz_to_windows(z);
            if (w && zx_tz_from_windows(w) && strcmp(zx_tz_from_windows(w), z) == 0) {
                ck_assert_msg(strcmp(z2, z) == 0, "%s %d (001 of %s) -> %s", z, y, w, z2);
                n001++;
            }
            if (!w) {   /* no Windows zone: its IANA id is the name, and the way back */
                blob d = decode(b);
                ck_assert_str_eq(d.sname, z);
                ck_assert_msg(strcmp(z2, z) == 0, "%s %d -> %s", z, y, z2);
            }
        }
    }
    ck_assert_int_gt(n001, 2 * 100);
}
END_TEST

/* ---- blobs as clients send them ----------------------------------------------------------- */

static void wr32(unsigned char *b, int32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)((uint32_t)v >> (8 * i));
}

static void wrname(unsigned char *b, const char *s)
{
    memset(b, 0, 64);
    for (int i = 0; s[i] && i < 31; i++)
        b[2 * i] = (unsigned char)s[i];
}

static void wrdate(unsigned char *b, int year, int month, int dow, int day, int h, int mi,
                   int s, int ms)
{
    int v[8] = {year, month, dow, day, h, mi, s, ms};
    for (int i = 0; i < 8; i++) {
        b[2 * i] = (unsigned char)(v[i] & 0xff);
        b[2 * i + 1] = (unsigned char)(v[i] >> 8);
    }
}

static const char *b64(const unsigned char *b, int n)
{
    char *s = apr_palloc(g_pool, (apr_size_t)apr_base64_encode_len(n));
    apr_base64_encode_binary(s, b, n);
    return s;
}

/* The US Eastern rules as a client writes them, with the names given. */
static void eastern(unsigned char *b, const char *sname, const char *dname)
{
    memset(b, 0, ZX_TZ_BLOB_BYTES);
    wr32(b, 300);
    wrname(b + 4, sname);
    wrdate(b + 68, 0, 11, 0, 1, 2, 0, 0, 0);
    wrname(b + 88, dname);
    wrdate(b + 152, 0, 3, 0, 2, 2, 0, 0, 0);
    wr32(b + 168, -60);
}

START_TEST(client_blobs)
{
    unsigned char b[ZX_TZ_BLOB_BYTES];
    memset(b, 0, sizeof b);
    ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, b64(b, sizeof b), 2026), "UTC");
    /* the all-zero blob as the string some servers send: 228 'A' and "AA==" */
    char zs[ZX_TZ_BLOB_B64_CHARS + 1];
    memset(zs, 'A', ZX_TZ_BLOB_B64_CHARS);
    strcpy(zs + ZX_TZ_BLOB_B64_CHARS - 2, "==");
    ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, zs, 2026), "UTC");
    ck_assert_str_eq(zs, b64(b, sizeof b));

    eastern(b, "(UTC-05:00) Eastern Time (US & Canada)", "(UTC-05:00) Eastern Time (US & C");
    ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, b64(b, sizeof b), 2026), "America/New_York");
    eastern(b, "", "");
    ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, b64(b, sizeof b), 2026), "America/New_York");
    ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, b64(b, sizeof b), 2024), "America/New_York");
    eastern(b, "EST", "EDT");
    ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, b64(b, sizeof b), 2026), "America/New_York");
    /* Android: a wrong name (another zone's) - the rules decide */
    eastern(b, "GMT+00:00", "GMT+00:00");
    ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, b64(b, sizeof b), 2026), "America/New_York");
    eastern(b, "Central Standard Time", "Central Daylight Time");
    ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, b64(b, sizeof b), 2026), "America/New_York");
    /* a name that is a Windows zone of the same rules: that zone, not New York */
    eastern(b, "US Eastern Standard Time", "US Eastern Daylight Time");
    ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, b64(b, sizeof b), 2026),
                     zx_tz_from_windows("US Eastern Standard Time"));
    ck_assert_str_ne(zx_tz_from_windows("US Eastern Standard Time"), "America/New_York");
    /* an IANA id as the name */
    eastern(b, "America/Toronto", "America/Toronto");
    ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, b64(b, sizeof b), 2026), "America/Toronto");
    /* ... but not when its rules are not the blob's */
    eastern(b, "Europe/Paris", "Europe/Paris");
    ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, b64(b, sizeof b), 2026), "America/New_York");

    /* wDayOfWeek and wDay swapped */
    eastern(b, "", "");
    wrdate(b + 68, 0, 11, 1, 0, 2, 0, 0, 0);
    wrdate(b + 152, 0, 3, 2, 0, 2, 0, 0, 0);
    ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, b64(b, sizeof b), 2026), "America/New_York");
    /* the rule as a date of the year (wYear set) */
    eastern(b, "", "");
    wrdate(b + 68, 2026, 11, 0, 1, 2, 0, 0, 0);
    wrdate(b + 152, 2026, 3, 0, 8, 2, 0, 0, 0);
    ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, b64(b, sizeof b), 2026), "America/New_York");
    /* week 4 for the last Sunday of October 2026 (the 25th): the same instant */
    memset(b, 0, sizeof b);
    wr32(b, -60);
    wrdate(b + 68, 0, 10, 0, 4, 3, 0, 0, 0);
    wrdate(b + 152, 0, 3, 0, 5, 2, 0, 0, 0);
    wr32(b + 168, -60);
    ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, b64(b, sizeof b), 2026), "Europe/Berlin");
    /* a localized Outlook name (UTF-16, not ASCII): the rules decide */
    wrname(b + 4, "Mitteleurop\xe4ische Zeit");
    wrname(b + 88, "Mitteleurop\xe4ische Sommerzeit");
    ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, b64(b, sizeof b), 2026), "Europe/Berlin");
    /* base64 broken into lines */
    const char *nl = b64(b, sizeof b);
    nl = apr_pstrcat(g_pool, apr_pstrndup(g_pool, nl, 76), "\r\n", nl + 76, NULL);
    ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, nl, 2026), "Europe/Berlin");
    /* Windows' "Saturday 23:59:59.999" for a change at midnight (Chile: Sunday 0:00 local) */
    blob cl = decode(zx_tz_blob(g_pool, "America/Santiago", 2026));
    ck_assert_int_eq(cl.dd[4], 0);
    memset(b, 0, sizeof b);
    wr32(b, cl.bias);
    wrname(b + 4, "Pacific SA Standard Time");
    wrdate(b + 68, 0, cl.sd[1], 6, cl.sd[3], 23, 59, 59, 999);
    wrdate(b + 152, 0, cl.dd[1], 6, cl.dd[3], 23, 59, 59, 999);
    wr32(b + 168, cl.dbias);
    if (cl.sd[4] == 0 && cl.sd[3] < 5 && cl.dd[3] < 5)
        ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, b64(b, sizeof b), 2026), "America/Santiago");

    /* bias only, no DST: a zone of that offset without DST */
    memset(b, 0, sizeof b);
    wr32(b, -300);
    const char *z = zx_tz_zone_of_blob(g_pool, b64(b, sizeof b), 2026);
    ck_assert_ptr_nonnull(z);
    blob f = decode(zx_tz_blob(g_pool, z, 2026));
    ck_assert_int_eq(f.bias, -300);
    ck_assert_int_eq(f.sd[1], 0);
    ck_assert_int_eq(f.dd[1], 0);
    wr32(b, 300);
    ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, b64(b, sizeof b), 2026), "America/Bogota");
    /* the right days at another hour (03:00 for 02:00): still Eastern, not a fixed zone */
    eastern(b, "", "");
    wrdate(b + 152, 0, 3, 0, 2, 3, 0, 0, 0);
    ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, b64(b, sizeof b), 2026), "America/New_York");
    /* DST rules of no zone: the fixed zone of the standard offset */
    eastern(b, "", "");
    wrdate(b + 152, 0, 2, 0, 1, 2, 0, 0, 0);
    ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, b64(b, sizeof b), 2026), "Etc/GMT+5");
    memset(b, 0, sizeof b);
    wr32(b, -345);      /* Nepal, no name */
    ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, b64(b, sizeof b), 2026), "Asia/Kathmandu");
    /* bias 0, no DST, no name: UTC, not some African zone */
    memset(b, 0, sizeof b);
    wrname(b + 4, "GMT");
    ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, b64(b, sizeof b), 2026), "UTC");

    /* not a blob */
    ck_assert_ptr_null(zx_tz_zone_of_blob(g_pool, NULL, 2026));
    ck_assert_ptr_null(zx_tz_zone_of_blob(g_pool, "", 2026));
    ck_assert_ptr_null(zx_tz_zone_of_blob(g_pool, "LAEAAA==", 2026));
    ck_assert_ptr_null(zx_tz_zone_of_blob(g_pool, b64(b, sizeof b - 1), 2026));
    unsigned char big[ZX_TZ_BLOB_BYTES + 3] = {0};
    ck_assert_ptr_null(zx_tz_zone_of_blob(g_pool, b64(big, sizeof big), 2026));
    char *bad = apr_pstrdup(g_pool, zx_tz_blob(g_pool, "America/New_York", 2026));
    bad[10] = '*';
    ck_assert_ptr_null(zx_tz_zone_of_blob(g_pool, bad, 2026));
    ck_assert_ptr_null(zx_tz_zone_of_blob(g_pool, "not base64 at all!", 2026));
}
END_TEST

/* ---- wall time <-> UTC --------------------------------------------------------------------- */

static apr_time_t utc(int y, int mon, int d, int h, int mi)
{
    /* days since 1970 without timegm (not C11) */
    long days = 0;
    for (int yy = 1970; yy < y; yy++)
        days += (yy % 4 == 0 && (yy % 100 != 0 || yy % 400 == 0)) ? 366 : 365;
    static const int cum[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    days += cum[mon - 1] + d - 1;
    if (mon > 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
        days++;
    return ((apr_time_t)days * 86400 + h * 3600 + mi * 60) * APR_USEC_PER_SEC;
}

START_TEST(local_utc)
{
    apr_time_t t;
    const char *ny = "America/New_York";
    ck_assert_int_eq(zx_tz_local_to_utc(ny, 2026, 3, 2, 9, 0, 0, &t), 0);
    ck_assert(t == utc(2026, 3, 2, 14, 0));
    ck_assert_int_eq(zx_tz_local_to_utc(ny, 2026, 3, 9, 9, 0, 0, &t), 0);
    ck_assert(t == utc(2026, 3, 9, 13, 0));
    ck_assert_int_eq(zx_tz_local_to_utc(ny, 2026, 11, 2, 9, 0, 0, &t), 0);
    ck_assert(t == utc(2026, 11, 2, 14, 0));
    /* in the spring gap: read with the offset before the change */
    ck_assert_int_eq(zx_tz_local_to_utc(ny, 2026, 3, 8, 2, 30, 0, &t), 0);
    ck_assert(t == utc(2026, 3, 8, 7, 30));
    /* the repeated autumn hour: the first (daylight) one */
    ck_assert_int_eq(zx_tz_local_to_utc(ny, 2026, 11, 1, 1, 30, 0, &t), 0);
    ck_assert(t == utc(2026, 11, 1, 5, 30));
    ck_assert_int_eq(zx_tz_local_to_utc("UTC", 2026, 11, 1, 1, 30, 0, &t), 0);
    ck_assert(t == utc(2026, 11, 1, 1, 30));
    ck_assert_int_eq(zx_tz_local_to_utc("Australia/Sydney", 2026, 1, 15, 9, 0, 0, &t), 0);
    ck_assert(t == utc(2026, 1, 14, 22, 0));
    ck_assert_int_eq(zx_tz_local_to_utc("Mars/Olympus_Mons", 2026, 1, 1, 0, 0, 0, &t), -1);

    apr_time_exp_t e;
    ck_assert_int_eq(zx_tz_utc_to_local(ny, utc(2026, 3, 9, 13, 0) + 5, &e), 0);
    ck_assert_int_eq(e.tm_year, 126);
    ck_assert_int_eq(e.tm_mon, 2);
    ck_assert_int_eq(e.tm_mday, 9);
    ck_assert_int_eq(e.tm_hour, 9);
    ck_assert_int_eq(e.tm_min, 0);
    ck_assert_int_eq(e.tm_usec, 5);
    ck_assert_int_eq(e.tm_wday, 1);
    ck_assert_int_eq(e.tm_gmtoff, -4 * 3600);
    ck_assert_int_eq(e.tm_isdst, 1);
    ck_assert_int_eq(zx_tz_utc_to_local(ny, utc(2026, 3, 2, 14, 0), &e), 0);
    ck_assert_int_eq(e.tm_hour, 9);
    ck_assert_int_eq(e.tm_gmtoff, -5 * 3600);
    ck_assert_int_eq(e.tm_isdst, 0);
    ck_assert_int_eq(zx_tz_utc_to_local("Asia/Kolkata", utc(2026, 12, 31, 20, 0), &e), 0);
    ck_assert_int_eq(e.tm_year, 127);
    ck_assert_int_eq(e.tm_mon, 0);
    ck_assert_int_eq(e.tm_mday, 1);
    ck_assert_int_eq(e.tm_hour, 1);
    ck_assert_int_eq(e.tm_min, 30);
    ck_assert_int_eq(e.tm_yday, 0);
    ck_assert_int_eq(zx_tz_utc_to_local("Mars/Olympus_Mons", 0, &e), -1);
    /* Dublin: tzdata's winter "DST" is standard time here, as in the blob */
    ck_assert_int_eq(zx_tz_utc_to_local("Europe/Dublin", utc(2026, 1, 15, 12, 0), &e), 0);
    ck_assert_int_eq(e.tm_isdst, 0);
    ck_assert_int_eq(e.tm_gmtoff, 0);
    ck_assert_int_eq(zx_tz_utc_to_local("Europe/Dublin", utc(2026, 7, 15, 12, 0), &e), 0);
    ck_assert_int_eq(e.tm_isdst, 1);
    ck_assert_int_eq(e.tm_gmtoff, 3600);
    /* far future: the rules of 2169, at once (not libical expanding the zone to 9999) */
    ck_assert_int_eq(zx_tz_local_to_utc(ny, 9999, 7, 1, 9, 0, 0, &t), 0);
    ck_assert(t == utc(9999, 7, 1, 13, 0));
    ck_assert_int_eq(zx_tz_local_to_utc(ny, 9999, 12, 1, 9, 0, 0, &t), 0);
    ck_assert(t == utc(9999, 12, 1, 14, 0));
    ck_assert_int_eq(zx_tz_utc_to_local("Australia/Sydney", utc(3000, 1, 1, 0, 0), &e), 0);
    ck_assert_int_eq(e.tm_gmtoff, 11 * 3600);
    ck_assert_int_eq(e.tm_isdst, 1);
    ck_assert_int_eq(zx_tz_utc_to_local("Australia/Sydney", utc(3000, 7, 1, 0, 0), &e), 0);
    ck_assert_int_eq(e.tm_gmtoff, 10 * 3600);
    ck_assert_int_eq(zx_tz_utc_to_local(ny, utc(1960, 7, 1, 12, 0), &e), 0);
    ck_assert_int_eq(e.tm_gmtoff, -4 * 3600);
    /* and blobs: a year far away is read with the rules of 2169 */
    ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, zx_tz_blob(g_pool, ny, 9999), 9999), ny);
}
END_TEST

/* ---- threads (httpd's worker MPM): first use, cache and libical from several at once ------- */

typedef struct {
    int year;
    int bad;
    const char *why;
} thr_arg;

static void *APR_THREAD_FUNC thr_main(apr_thread_t *th, void *data)
{
    thr_arg *a = data;
    apr_pool_t *p;
    apr_pool_create(&p, NULL);
    apr_time_t t;
    int n = zx_tz_zone_count();
    for (int i = 0; i < n; i++) {
        const char *z = zx_tz_zone_name(i);
        int y = a->year;
        const char *b = zx_tz_blob(p, z, y);
        const char *z2 = b ? zx_tz_zone_of_blob(p, b, y) : NULL;
        const char *b2 = z2 ? zx_tz_blob(p, z2, y) : NULL;
        if (!b2 || strcmp(b, b2) != 0) {
            a->bad++;
            a->why = z;
        }
    }
    if (zx_tz_local_to_utc("America/New_York", 2026, 3, 9, 9, 0, 0, &t) != 0 ||
        t != (apr_time_t)1773061200 * APR_USEC_PER_SEC)
        a->bad++;
    apr_pool_destroy(p);
    apr_thread_exit(th, APR_SUCCESS);
    return NULL;
}

START_TEST(threads)
{
    enum { N = 4 };
    apr_thread_t *th[N];
    thr_arg args[N];
    for (int i = 0; i < N; i++) {
        args[i] = (thr_arg){.year = 2028};   /* not preloaded: all fill one year's cache */
        ck_assert_int_eq(apr_thread_create(&th[i], NULL, thr_main, &args[i], g_pool), APR_SUCCESS);
    }
    for (int i = 0; i < N; i++) {
        apr_status_t rv;
        apr_thread_join(&rv, th[i]);
        ck_assert_msg(args[i].bad == 0, "thread %d: %d wrong, %s", i, args[i].bad,
                      args[i].why ? args[i].why : "");
    }
}
END_TEST

/* ---- benchmark (a TAP comment, not an assertion) ------------------------------------------- */

static double now_us(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* The whole-list figures only with ZX_TZ_BENCH=1 (they load every zone: slow under valgrind). */
START_TEST(bench)
{
    int all = getenv("ZX_TZ_BENCH") != NULL;
    int year = 2031;    /* a year no other test touched: the first call computes */
    double t0 = now_us();
    const char *b = zx_tz_blob(g_pool, "Europe/Paris", year);
    double t1 = now_us();
    const char *b2 = zx_tz_blob(g_pool, "Europe/Paris", year);
    double t2 = now_us();
    ck_assert_str_eq(b, b2);
    const char *z = zx_tz_zone_of_blob(g_pool, b, year);
    double t3 = now_us();
    ck_assert_str_eq(z, "Europe/Paris");
    printf("# bench: blob of one zone %.0f us first (%s), %.1f us cached; zone of its blob"
           " %.1f us\n", t1 - t0, all ? "process start: the tables, libical loads the zone"
           : "the zone loaded, a new year", t2 - t1, t3 - t2);
    if (!all)
        return;
    unsigned char raw[ZX_TZ_BLOB_BYTES];
    eastern(raw, "", "");       /* an iOS blob: no name, the exact scan of a cold process */
    const char *ios = b64(raw, sizeof raw);
    double ta = now_us();
    ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, ios, 2026), "America/New_York");
    double tb = now_us();
    ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, ios, 2026), "America/New_York");
    double tc = now_us();
    printf("# bench: a nameless Eastern blob %.0f us in a cold process (the 001 zones loaded),"
           " %.1f us after\n", tb - ta, tc - tb);
    t3 = now_us();
    int n = zx_tz_zone_count();
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(zx_tz_blob_raw(zx_tz_zone_name(i), year + 1, raw), 0);
    double t4 = now_us();
    for (int i = 0; i < n; i++) {
        const char *bi = zx_tz_blob(g_pool, zx_tz_zone_name(i), year + 1);
        ck_assert_ptr_nonnull(zx_tz_zone_of_blob(g_pool, bi, year + 1));
    }
    double t5 = now_us();
    eastern(raw, "", "");
    wrdate(raw + 152, 0, 2, 0, 1, 2, 0, 0, 0);      /* rules of no zone: the full scan */
    const char *nb = b64(raw, sizeof raw);
    double t6 = now_us();
    ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, nb, year + 2), "Etc/GMT+5");
    double t7 = now_us();
    ck_assert_str_eq(zx_tz_zone_of_blob(g_pool, nb, year + 2), "Etc/GMT+5");
    double t8 = now_us();
    zx_tz_preload(year + 3);
    double t9 = now_us();
    printf("# bench: blobs of all %d zones %.0f us (first: libical loads each); zones of their"
           " blobs %.0f us (cached); a blob of no zone's rules %.0f us (a year's rules of every"
           " zone computed), %.0f us cached; preload of another year %.0f us\n",
           n, t4 - t3, t5 - t4, t7 - t6, t8 - t7, t9 - t8);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tz");
    TCase *tc = tcase_create("tz");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, new_york_2026);
    tcase_add_test(tc, berlin_last_sunday);
    tcase_add_test(tc, sydney_southern);
    tcase_add_test(tc, kolkata_no_dst);
    tcase_add_test(tc, utc_and_unknown);
    tcase_add_test(tc, windows_ids);
    tcase_add_test(tc, every_zone_round_trip);
    tcase_add_test(tc, client_blobs);
    tcase_add_test(tc, local_utc);
    tcase_add_test(tc, threads);
    tcase_add_test(tc, bench);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    apr_initialize();
    /* Every test runs in a child (Check forks): load the zones and the years the tests use
     * once, here, or each child loads all of them again (a minute under valgrind).  Without
     * it (ZX_TZ_BENCH=1) the benchmark measures a cold process. */
    if (!getenv("ZX_TZ_BENCH")) {
        zx_tz_preload(2024);
        zx_tz_preload(2026);
        zx_tz_preload(2027);
    }
    return zx_run_tap(suite());
}
