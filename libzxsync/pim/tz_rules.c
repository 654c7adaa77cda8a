/* zxmobile - the calendar time zones' plain computation (tz_int.h): Gregorian calendar
 * arithmetic, a rule's instant in a year and back (the canonical form that makes two Windows
 * spellings of the same change equal), the offset a pair of yearly rules gives, the 172 bytes
 * of the blob and its base64. */
#include "tz_int.h"

#include <string.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
int64_t zx_tzr_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void zx_tzr_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

int zx_tzr_weekday(int64_t days)    /* 0 = Sunday; 1970-01-01 was a Thursday */
{
    int64_t w = (days + 4) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

static int month_days(int y, int m)
{
    return (int)(zx_tzr_days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) -
                 zx_tzr_days_from_civil(y, m, 1));
}

/* A local instant (seconds since 1970 of the wall clock) -> the canonical yearly rule. */
void zx_tzr_rule_of_instant(int64_t local, uint16_t st[ST_N])
{
    int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    int64_t sec = local - days * 86400;
    int y, m, d;
    zx_tzr_civil_from_days(days, &y, &m, &d);
    memset(st, 0, ST_N * sizeof st[0]);
    st[ST_MONTH] = (uint16_t)m;
    st[ST_DOW] = (uint16_t)zx_tzr_weekday(days);
    st[ST_DAY] = (uint16_t)(d + 7 > month_days(y, m) ? 5 : (d - 1) / 7 + 1);
    st[ST_HOUR] = (uint16_t)(sec / 3600);
    st[ST_MIN] = (uint16_t)(sec / 60 % 60);
}

/* The local instant a SYSTEMTIME stands for in year (rounded to the minute); -1 if invalid. */
static int instant_of_rule(const uint16_t st[ST_N], int year, int64_t *local)
{
    int m = st[ST_MONTH];
    if (m < 1 || m > 12 || st[ST_HOUR] > 23 || st[ST_MIN] > 59 || st[ST_SEC] > 59 ||
        st[ST_MS] > 999)
        return -1;
    int64_t days;
    if (st[ST_YEAR] != 0) {
        if (st[ST_YEAR] != year || st[ST_DAY] < 1 || st[ST_DAY] > month_days(year, m))
            return -1;
        days = zx_tzr_days_from_civil(year, m, st[ST_DAY]);
    } else {
        if (st[ST_DOW] > 6 || st[ST_DAY] < 1 || st[ST_DAY] > 5)
            return -1;
        int64_t first = zx_tzr_days_from_civil(year, m, 1);
        int off = (st[ST_DOW] - zx_tzr_weekday(first) + 7) % 7;
        int day = 1 + off + 7 * (st[ST_DAY] - 1);
        while (day > month_days(year, m))
            day -= 7;
        days = first + day - 1;
    }
    int64_t ms = (int64_t)st[ST_HOUR] * 3600000 + st[ST_MIN] * 60000 + st[ST_SEC] * 1000 +
                 st[ST_MS];
    *local = days * 86400 + (ms + 30000) / 60000 * 60;
    return 0;
}

static void set_no_dst(tzrules *r)
{
    r->sbias = r->dbias = 0;
    memset(r->sd, 0, sizeof r->sd);
    memset(r->dd, 0, sizeof r->dd);
}

/* The canonical form of rules read from a blob for year; -1 when its dates are not dates. */
int zx_tzr_canonical(tzrules *r, int year)
{
    if (r->sd[ST_MONTH] == 0 || r->dd[ST_MONTH] == 0 || r->sbias == r->dbias) {
        r->bias += r->sbias;
        set_no_dst(r);
        return 0;
    }
    int64_t s, d;
    if (instant_of_rule(r->sd, year, &s) < 0 || instant_of_rule(r->dd, year, &d) < 0)
        return -1;
    zx_tzr_rule_of_instant(s, r->sd);
    zx_tzr_rule_of_instant(d, r->dd);
    r->bias += r->sbias;
    r->dbias -= r->sbias;
    r->sbias = 0;
    return 0;
}

static void put32(unsigned char *b, int32_t v)
{
    uint32_t u = (uint32_t)v;
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(u >> (8 * i));
}

static int32_t get32(const unsigned char *b)
{
    uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                 (uint32_t)b[3] << 24;
    return (int32_t)u;
}

static void put_name(unsigned char *b, const char *s)     /* ASCII, at most 31 units + NUL */
{
    memset(b, 0, 64);
    for (int i = 0; s[i] && i < 31; i++)
        b[2 * i] = (unsigned char)s[i];
}

static void put_st(unsigned char *b, const uint16_t st[ST_N])
{
    for (int i = 0; i < ST_N; i++) {
        b[2 * i] = (unsigned char)(st[i] & 0xff);
        b[2 * i + 1] = (unsigned char)(st[i] >> 8);
    }
}

static void get_st(const unsigned char *b, uint16_t st[ST_N])
{
    for (int i = 0; i < ST_N; i++)
        st[i] = (uint16_t)(b[2 * i] | b[2 * i + 1] << 8);
}

/* A name from the blob as UTF-8 (non-ASCII units as '?': names are only compared to ids). */
static void get_name(const unsigned char *b, char out[33])
{
    int n = 0;
    for (int i = 0; i < 32; i++) {
        unsigned u = b[2 * i] | b[2 * i + 1] << 8;
        if (u == 0)
            break;
        out[n++] = u < 128 ? (char)u : '?';
    }
    out[n] = '\0';
}

void zx_tzr_write(unsigned char *b, const tzrules *r, const char *std, const char *dlt)
{
    memset(b, 0, ZX_TZ_BLOB_BYTES);
    put32(b, r->bias);
    put_name(b + 4, std);
    put_st(b + 68, r->sd);
    put32(b + 84, r->sbias);
    put_name(b + 88, dlt);
    put_st(b + 152, r->dd);
    put32(b + 168, r->dbias);
}

int zx_tzr_eq(const tzrules *a, const tzrules *b)
{
    return a->bias == b->bias && a->sbias == b->sbias && a->dbias == b->dbias &&
           memcmp(a->sd, b->sd, sizeof a->sd) == 0 && memcmp(a->dd, b->dd, sizeof a->dd) == 0;
}

int zx_tzr_same_days(const tzrules *a, const tzrules *b)
{
    return a->bias == b->bias && a->dbias == b->dbias && a->sd[ST_MONTH] != 0 &&
           a->sd[ST_MONTH] == b->sd[ST_MONTH] && a->sd[ST_DOW] == b->sd[ST_DOW] &&
           a->sd[ST_DAY] == b->sd[ST_DAY] && a->dd[ST_MONTH] == b->dd[ST_MONTH] &&
           a->dd[ST_DOW] == b->dd[ST_DOW] && a->dd[ST_DAY] == b->dd[ST_DAY];
}

/* Strict base64 (padding optional, ASCII whitespace ignored) of exactly 172 bytes. */
int zx_tzr_b64_decode(const char *s, unsigned char out[ZX_TZ_BLOB_BYTES])
{
    unsigned acc = 0;
    int bits = 0, n = 0, pad = 0;
    for (; *s; s++) {
        int c = (unsigned char)*s, v;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        if (pad)
            return -1;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+' || c == '-')
            v = 62;
        else if (c == '/' || c == '_')
            v = 63;
        else
            return -1;
        acc = (acc << 6 | (unsigned)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n >= ZX_TZ_BLOB_BYTES)
                return -1;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    return n == ZX_TZ_BLOB_BYTES && pad <= 2 ? 0 : -1;
}

int zx_tzr_year_of(int64_t t)
{
    int y, m, d;
    zx_tzr_civil_from_days(t >= 0 ? t / 86400 : -((-t + 86399) / 86400), &y, &m, &d);
    return y;
}

int zx_tzr_offset(const tzrules *r, int64_t t)
{
    int y = zx_tzr_year_of(t);
    int64_t s, d;
    if (r->sd[ST_MONTH] == 0 || instant_of_rule(r->sd, y, &s) < 0 ||
        instant_of_rule(r->dd, y, &d) < 0)
        return -r->bias * 60;
    d += (int64_t)r->bias * 60;                 /* to UTC: DaylightDate is standard time */
    s += (int64_t)(r->bias + r->dbias) * 60;    /* StandardDate is daylight time */
    int dst = d < s ? t >= d && t < s : t >= d || t < s;
    return -(r->bias + (dst ? r->dbias : 0)) * 60;
}

void zx_tzr_read(const unsigned char *b, tzrules *r, char std_name[33])
{
    memset(r, 0, sizeof *r);
    r->bias = get32(b);
    get_name(b + 4, std_name);
    get_st(b + 68, r->sd);
    r->sbias = get32(b + 84);
    get_st(b + 152, r->dd);
    r->dbias = get32(b + 168);
}
