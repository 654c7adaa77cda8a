/* zxmobile - the ActiveSync TimeZone blob of an IANA zone and back, Windows zone ids, wall
 * time <-> UTC (zxsync/pimtz.h, which has the rules).
 *
 * How: a zone's rules in a year come from libical's offsets (built on the system tzdata):
 * the offset is sampled every day of the year (UTC) and each change found is narrowed to its
 * minute; the two changes of the year become nth-weekday rules.  A rule is kept in a
 * canonical form (the weekday, week and minute of the instant it stands for in the year), so
 * that two blobs are the same rules exactly when their canonical forms are equal.  Windows ids
 * come from ICU (CLDR windowsZones): zone -> Windows id, Windows id -> "001" zone.
 *
 * Threads: the tables are built once (pthread_once); the per-year rule cache and every
 * libical call are under one mutex (libical's builtin zones grow and expand lazily). */
#include <zxsync/pimtz.h>

#include <apr_base64.h>
#include <apr_strings.h>
#include <libical/ical.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/ucal.h>

/* ---- rules ------------------------------------------------------------------------------ */

enum { ST_YEAR, ST_MONTH, ST_DOW, ST_DAY, ST_HOUR, ST_MIN, ST_SEC, ST_MS, ST_N };

typedef struct {
    int32_t bias, sbias, dbias;     /* minutes; sbias 0 once canonical */
    uint16_t sd[ST_N], dd[ST_N];    /* StandardDate, DaylightDate; all 0 without DST */
} tzrules;

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
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

static int weekday(int64_t days)    /* 0 = Sunday; 1970-01-01 was a Thursday */
{
    int64_t w = (days + 4) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

static int month_days(int y, int m)
{
    return (int)(days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) -
                 days_from_civil(y, m, 1));
}

/* A local instant (seconds since 1970 of the wall clock) -> the canonical yearly rule. */
static void rule_of_instant(int64_t local, uint16_t st[ST_N])
{
    int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    int64_t sec = local - days * 86400;
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    memset(st, 0, ST_N * sizeof st[0]);
    st[ST_MONTH] = (uint16_t)m;
    st[ST_DOW] = (uint16_t)weekday(days);
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
        days = days_from_civil(year, m, st[ST_DAY]);
    } else {
        if (st[ST_DOW] > 6 || st[ST_DAY] < 1 || st[ST_DAY] > 5)
            return -1;
        int64_t first = days_from_civil(year, m, 1);
        int off = (st[ST_DOW] - weekday(first) + 7) % 7;
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
static int canonical(tzrules *r, int year)
{
    if (r->sd[ST_MONTH] == 0 || r->dd[ST_MONTH] == 0 || r->sbias == r->dbias) {
        r->bias += r->sbias;
        set_no_dst(r);
        return 0;
    }
    int64_t s, d;
    if (instant_of_rule(r->sd, year, &s) < 0 || instant_of_rule(r->dd, year, &d) < 0)
        return -1;
    rule_of_instant(s, r->sd);
    rule_of_instant(d, r->dd);
    r->bias += r->sbias;
    r->dbias -= r->sbias;
    r->sbias = 0;
    return 0;
}

/* ---- libical: offsets and a zone's rules in a year --------------------------------------- */

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

static int offset_at(icaltimezone *z, int64_t t)   /* seconds east of UTC; under g_mu */
{
    icaltimezone *utc = icaltimezone_get_utc_timezone();
    if (z == utc)
        return 0;
    icaltimetype tt = icaltime_from_timet_with_zone((time_t)t, 0, utc);
    int is_dst = 0;
    return icaltimezone_get_utc_offset_of_utc_time(z, &tt, &is_dst);
}

typedef struct {
    int64_t at;             /* UTC second of the change */
    int before, after;      /* offsets */
} change;

/* The rules of z in year; under g_mu. */
static void compute_rules(icaltimezone *z, int year, tzrules *r)
{
    memset(r, 0, sizeof *r);
    int64_t t0 = days_from_civil(year, 1, 1) * 86400;
    int ndays = (int)(days_from_civil(year + 1, 1, 1) - days_from_civil(year, 1, 1));
    change ch[3];
    int n = 0;
    int prev = offset_at(z, t0);
    for (int i = 1; i <= ndays; i++) {
        int64_t t = t0 + (int64_t)i * 86400 - (i == ndays);
        int o = offset_at(z, t);
        if (o == prev)
            continue;
        int64_t lo = t0 + (int64_t)(i - 1) * 86400, hi = t;  /* offset(lo) = prev */
        while (hi - lo > 1) {
            int64_t mid = lo + (hi - lo) / 2;
            if (offset_at(z, mid) == prev)
                lo = mid;
            else
                hi = mid;
        }
        if (n < 3)
            ch[n] = (change){hi, prev, o};
        n++;
        prev = o;
    }
    int d0 = n == 2 ? ch[0].after - ch[0].before : 0;
    int d1 = n == 2 ? ch[1].after - ch[1].before : 0;
    if (n != 2 || d0 != -d1 || d0 == 0) {
        r->bias = -prev / 60;
        return;
    }
    const change *to_dst = d0 > 0 ? &ch[0] : &ch[1];
    const change *to_std = d0 > 0 ? &ch[1] : &ch[0];
    r->bias = -to_dst->before / 60;
    r->dbias = -(to_dst->after - to_dst->before) / 60;
    rule_of_instant(to_dst->at + to_dst->before, r->dd);
    rule_of_instant(to_std->at + to_std->before, r->sd);
}

/* ---- the zone tables --------------------------------------------------------------------- */

typedef struct {
    char *name;             /* IANA id as libical names it (its location) */
    icaltimezone *z;
    char *canon;            /* ICU's canonical id (CLDR: "Asia/Calcutta"), or NULL */
    int win;                /* index in g_win, or -1 */
    int is001;              /* the "001" zone of its Windows zone */
} tzent;

typedef struct {
    char *id;               /* Windows zone id */
    char *zone001;          /* its "001" zone, as libical names it when it has it */
    char *dlt;              /* its daylight name */
    int nzones;             /* zones of g_z mapped to it */
} winent;

static tzent *g_z;
static int g_nz;
static winent *g_win;
static int g_nwin;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

enum { CACHE_Y0 = 1970, CACHE_YN = 200 };   /* = the years of blobs (clamp_year) */

static int clamp_year(int year)
{
    return year < CACHE_Y0 ? CACHE_Y0 : year >= CACHE_Y0 + CACHE_YN ? CACHE_Y0 + CACHE_YN - 1 : year;
}
typedef struct {
    tzrules r;
    int done;
} cached;
static cached *g_cache[CACHE_YN];   /* per year, g_nz entries; under g_mu */

/* ASCII <-> UChar (zone ids are ASCII); 0 when it does not fit or is not ASCII. */
static int to_uchar(const char *s, UChar *u, int cap)
{
    int n = 0;
    for (; s[n]; n++) {
        if (n + 1 >= cap || (unsigned char)s[n] > 127)
            return 0;
        u[n] = (UChar)s[n];
    }
    u[n] = 0;
    return n;
}

static char *from_uchar(const UChar *u, int n)
{
    if (n <= 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s)
        return NULL;
    for (int i = 0; i < n; i++) {
        if (u[i] > 127) {
            free(s);
            return NULL;
        }
        s[i] = (char)u[i];
    }
    s[n] = '\0';
    return s;
}

static char *icu_canonical(const char *id)
{
    UChar u[128], out[128];
    UErrorCode st = U_ZERO_ERROR;
    UBool sys = 0;
    int n = to_uchar(id, u, 128);
    if (!n)
        return NULL;
    int m = ucal_getCanonicalTimeZoneID(u, n, out, 128, &sys, &st);
    return U_FAILURE(st) || !sys ? NULL : from_uchar(out, m);
}

static char *icu_windows_id(const char *id)
{
    UChar u[128], out[128];
    UErrorCode st = U_ZERO_ERROR;
    int n = to_uchar(id, u, 128);
    if (!n)
        return NULL;
    int m = ucal_getWindowsTimeZoneID(u, n, out, 128, &st);
    return U_FAILURE(st) ? NULL : from_uchar(out, m);
}

static char *icu_zone_of_windows(const char *win)
{
    UChar u[128], out[128];
    UErrorCode st = U_ZERO_ERROR;
    int n = to_uchar(win, u, 128);
    if (!n)
        return NULL;
    int m = ucal_getTimeZoneIDForWindowsID(u, n, NULL, out, 128, &st);
    return U_FAILURE(st) ? NULL : from_uchar(out, m);
}

static int cmp_ent(const void *a, const void *b)
{
    return strcmp(((const tzent *)a)->name, ((const tzent *)b)->name);
}

static int cmp_win(const void *a, const void *b)
{
    return strcmp(((const winent *)a)->id, ((const winent *)b)->id);
}

static int find_ent(const char *name)
{
    tzent key = {.name = (char *)name};
    tzent *e = g_nz ? bsearch(&key, g_z, (size_t)g_nz, sizeof *g_z, cmp_ent) : NULL;
    return e ? (int)(e - g_z) : -1;
}

static int find_win(const char *id)
{
    winent key = {.id = (char *)id};
    winent *w = g_nwin ? bsearch(&key, g_win, (size_t)g_nwin, sizeof *g_win, cmp_win) : NULL;
    return w ? (int)(w - g_win) : -1;
}

/* The zone of g_z an IANA id (any alias ICU knows) stands for; -1. */
static int find_zone_any(const char *id)
{
    int i = find_ent(id);
    if (i >= 0)
        return i;
    char *c = icu_canonical(id);
    if (!c)
        return -1;
    for (i = 0; i < g_nz; i++)
        if (g_z[i].canon && strcmp(g_z[i].canon, c) == 0)
            break;
    free(c);
    return i < g_nz ? i : -1;
}

static char *xdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    return d ? memcpy(d, s, n) : NULL;
}

static char *daylight_name(const char *win)
{
    const char *s = strstr(win, "Standard Time");
    if (!s)
        return xdup(win);
    size_t pre = (size_t)(s - win);
    char *d = malloc(strlen(win) + 1);
    if (!d)
        return NULL;
    memcpy(d, win, pre);
    strcpy(d + pre, "Daylight Time");
    strcat(d, s + strlen("Standard Time"));
    return d;
}

static void add_win(char *id)
{
    if (find_win(id) >= 0) {
        free(id);
        return;
    }
    winent *w = realloc(g_win, ((size_t)g_nwin + 1) * sizeof *g_win);
    if (!w) {
        free(id);
        return;
    }
    g_win = w;
    g_win[g_nwin] = (winent){.id = id};
    g_nwin++;
    qsort(g_win, (size_t)g_nwin, sizeof *g_win, cmp_win);
}

static void init_once(void)
{
    pthread_mutex_lock(&g_mu);
    icalerror_set_errors_are_fatal(0);
    icalarray *a = icaltimezone_get_builtin_timezones();
    size_t n = a ? a->num_elements : 0;
    g_z = calloc(n ? n : 1, sizeof *g_z);
    for (size_t i = 0; g_z && i < n; i++) {
        icaltimezone *z = icalarray_element_at(a, i);
        const char *loc = z ? icaltimezone_get_location(z) : NULL;
        if (!loc || strchr(loc, '/') == NULL)
            continue;
        /* a copy: libical replaces the location when it loads the zone */
        char *name = xdup(loc);
        if (name)
            g_z[g_nz++] = (tzent){.name = name, .z = z, .win = -1};
    }
    pthread_mutex_unlock(&g_mu);
    qsort(g_z, (size_t)g_nz, sizeof *g_z, cmp_ent);

    /* Windows ids: of every zone ICU knows (Etc/GMT+5 too), then each one's 001 zone. */
    UErrorCode st = U_ZERO_ERROR;
    UEnumeration *en = ucal_openTimeZones(&st);
    const char *id;
    int32_t len;
    while (U_SUCCESS(st) && en && (id = uenum_next(en, &len, &st)) != NULL) {
        char *w = icu_windows_id(id);
        if (w)
            add_win(w);
    }
    if (en)
        uenum_close(en);
    for (int i = 0; i < g_nz; i++)
        g_z[i].canon = icu_canonical(g_z[i].name);
    for (int i = 0; i < g_nwin; i++) {
        winent *w = &g_win[i];
        w->dlt = daylight_name(w->id);
        char *z = icu_zone_of_windows(w->id);
        if (!z)
            continue;
        int e = find_zone_any(z);
        if (e >= 0) {
            w->zone001 = xdup(g_z[e].name);
            free(z);
        } else {
            w->zone001 = z;
        }
    }
    for (int i = 0; i < g_nz; i++) {
        char *w = icu_windows_id(g_z[i].name);
        if (!w)
            continue;
        int k = find_win(w);
        free(w);
        if (k < 0)
            continue;
        g_z[i].win = k;
        g_win[k].nzones++;
        g_z[i].is001 = g_win[k].zone001 && strcmp(g_win[k].zone001, g_z[i].name) == 0;
    }
}

static void init(void)
{
    pthread_once(&g_once, init_once);
}

/* The rules of entry i in year, cached; under g_mu. */
static const tzrules *ent_rules(int i, int year, tzrules *tmp)
{
    int k = year - CACHE_Y0;
    if (k < 0 || k >= CACHE_YN) {
        compute_rules(g_z[i].z, year, tmp);
        return tmp;
    }
    if (!g_cache[k] && !(g_cache[k] = calloc((size_t)g_nz, sizeof(cached)))) {
        compute_rules(g_z[i].z, year, tmp);
        return tmp;
    }
    cached *c = &g_cache[k][i];
    if (!c->done) {
        compute_rules(g_z[i].z, year, &c->r);
        c->done = 1;
    }
    return &c->r;
}

static int is_utc_name(const char *s)
{
    return strcmp(s, "UTC") == 0 || strcmp(s, "Etc/UTC") == 0 || strcmp(s, "Etc/GMT") == 0 ||
           strcmp(s, "GMT") == 0 || strcmp(s, "Etc/Zulu") == 0 || strcmp(s, "Zulu") == 0 ||
           strcmp(s, "Etc/Universal") == 0 || strcmp(s, "Universal") == 0 ||
           strcmp(s, "UCT") == 0 || strcmp(s, "Etc/UCT") == 0;
}

/* The rules of any zone id (trusted: our own ids, or one ICU knows); -1 unknown. */
static int rules_of_id(const char *tzid, int year, tzrules *r)
{
    if (is_utc_name(tzid)) {
        memset(r, 0, sizeof *r);
        return 0;
    }
    int i = find_ent(tzid);
    pthread_mutex_lock(&g_mu);
    if (i >= 0) {
        *r = *ent_rules(i, year, r);
    } else {
        /* Not in zone.tab (Etc/GMT+5, US/Eastern): ask libical only for ids ICU knows, so
         * that no stranger's string reaches the tz database loader. */
        char *c = icu_canonical(tzid);
        icaltimezone *z = c ? icaltimezone_get_builtin_timezone(tzid) : NULL;
        free(c);
        if (z)
            compute_rules(z, year, r);
        else
            i = -2;
    }
    pthread_mutex_unlock(&g_mu);
    return i == -2 ? -1 : 0;
}

/* ---- the blob ---------------------------------------------------------------------------- */

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

static void write_blob(unsigned char *b, const tzrules *r, const char *std, const char *dlt)
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

int zx_tz_blob_raw(const char *tzid, int year, unsigned char *out)
{
    if (!tzid || !*tzid)
        return -1;
    year = clamp_year(year);
    init();
    tzrules r;
    if (rules_of_id(tzid, year, &r) < 0)
        return -1;
    if (is_utc_name(tzid)) {
        write_blob(out, &r, "UTC", "UTC");
        return 0;
    }
    const char *win = zx_tz_to_windows(tzid);
    int w = win ? find_win(win) : -1;
    if (w >= 0)
        write_blob(out, &r, g_win[w].id, g_win[w].dlt ? g_win[w].dlt : g_win[w].id);
    else
        write_blob(out, &r, tzid, tzid);
    return 0;
}

const char *zx_tz_blob(apr_pool_t *p, const char *tzid, int year)
{
    unsigned char b[ZX_TZ_BLOB_BYTES];
    if (zx_tz_blob_raw(tzid, year, b) < 0)
        return NULL;
    char *s = apr_palloc(p, (apr_size_t)apr_base64_encode_len(ZX_TZ_BLOB_BYTES));
    apr_base64_encode_binary(s, b, ZX_TZ_BLOB_BYTES);
    return s;
}

static int rules_eq(const tzrules *a, const tzrules *b)
{
    return a->bias == b->bias && a->sbias == b->sbias && a->dbias == b->dbias &&
           memcmp(a->sd, b->sd, sizeof a->sd) == 0 && memcmp(a->dd, b->dd, sizeof a->dd) == 0;
}

/* Better of two matching entries: a Windows zone's 001 zone, the Windows zone with the most
 * zones, then the name. */
static int better(int a, int b)
{
    if (b < 0)
        return 1;
    if (g_z[a].is001 != g_z[b].is001)
        return g_z[a].is001;
    int na = g_z[a].win >= 0 ? g_win[g_z[a].win].nzones : 0;
    int nb = g_z[b].win >= 0 ? g_win[g_z[b].win].nzones : 0;
    if (na != nb)
        return na > nb;
    return strcmp(g_z[a].name, g_z[b].name) < 0;
}

/* Step 2: the zone a name names, when its rules are r; NULL. */
static const char *zone_of_name(const char *name, int year, const tzrules *r)
{
    tzrules zr;
    if (!*name)
        return NULL;
    int w = find_win(name);
    if (w >= 0) {
        if (g_win[w].zone001 && rules_of_id(g_win[w].zone001, year, &zr) == 0 &&
            rules_eq(&zr, r)) {
            int e = find_ent(g_win[w].zone001);
            if (e >= 0)
                return g_z[e].name;
            return is_utc_name(g_win[w].zone001) ? "UTC" : g_win[w].zone001;
        }
        int best = -1;
        pthread_mutex_lock(&g_mu);
        for (int i = 0; i < g_nz; i++)
            if (g_z[i].win == w && rules_eq(ent_rules(i, year, &zr), r) && better(i, best))
                best = i;
        pthread_mutex_unlock(&g_mu);
        if (best >= 0)
            return g_z[best].name;
    }
    int e = find_zone_any(name);
    if (e >= 0 && rules_of_id(g_z[e].name, year, &zr) == 0 && rules_eq(&zr, r))
        return g_z[e].name;
    return NULL;
}

static int same_days(const tzrules *a, const tzrules *b)
{
    return a->bias == b->bias && a->dbias == b->dbias && a->sd[ST_MONTH] != 0 &&
           a->sd[ST_MONTH] == b->sd[ST_MONTH] && a->sd[ST_DOW] == b->sd[ST_DOW] &&
           a->sd[ST_DAY] == b->sd[ST_DAY] && a->dd[ST_MONTH] == b->dd[ST_MONTH] &&
           a->dd[ST_DOW] == b->dd[ST_DOW] && a->dd[ST_DAY] == b->dd[ST_DAY];
}

enum { M_EXACT, M_DAYS, M_STD };

/* Steps 3 and 4: the best zone whose rules are r (M_EXACT), differ only in the hours of the
 * changes (M_DAYS), have r's bias and no DST (M_STD); NULL. */
static const char *zone_of_rules(int year, const tzrules *r, int mode)
{
    tzrules tmp;
    int best = -1;
    pthread_mutex_lock(&g_mu);
    for (int i = 0; i < g_nz; i++) {
        const tzrules *zr = ent_rules(i, year, &tmp);
        int ok = mode == M_EXACT ? rules_eq(zr, r)
                 : mode == M_DAYS ? same_days(zr, r)
                                  : zr->bias == r->bias && zr->sd[ST_MONTH] == 0;
        if (ok && better(i, best))
            best = i;
    }
    pthread_mutex_unlock(&g_mu);
    return best >= 0 ? g_z[best].name : NULL;
}

static const char *etc_zone(int32_t bias)
{
    static const char *const etc[] = {
        "Etc/GMT-14", "Etc/GMT-13", "Etc/GMT-12", "Etc/GMT-11", "Etc/GMT-10", "Etc/GMT-9",
        "Etc/GMT-8", "Etc/GMT-7", "Etc/GMT-6", "Etc/GMT-5", "Etc/GMT-4", "Etc/GMT-3",
        "Etc/GMT-2", "Etc/GMT-1", "UTC", "Etc/GMT+1", "Etc/GMT+2", "Etc/GMT+3", "Etc/GMT+4",
        "Etc/GMT+5", "Etc/GMT+6", "Etc/GMT+7", "Etc/GMT+8", "Etc/GMT+9", "Etc/GMT+10",
        "Etc/GMT+11", "Etc/GMT+12"};
    if (bias % 60 != 0 || bias < -14 * 60 || bias > 12 * 60)
        return NULL;
    return etc[bias / 60 + 14];
}

static const char *match(const char *name, int year, const tzrules *r)
{
    if (r->sd[ST_MONTH] == 0 && r->bias == 0) {
        const char *z = zone_of_name(name, year, r);
        return z ? z : "UTC";
    }
    const char *z = zone_of_name(name, year, r);
    return z ? z : zone_of_rules(year, r, M_EXACT);
}

const char *zx_tz_zone_of_blob_raw(const unsigned char *b, int year)
{
    static const unsigned char zero[ZX_TZ_BLOB_BYTES];
    if (memcmp(b, zero, sizeof zero) == 0)
        return "UTC";
    year = clamp_year(year);
    init();
    char name[33];
    get_name(b + 4, name);
    tzrules in, r;
    memset(&in, 0, sizeof in);
    in.bias = get32(b);
    get_st(b + 68, in.sd);
    in.sbias = get32(b + 84);
    get_st(b + 152, in.dd);
    in.dbias = get32(b + 168);

    r = in;
    int ok = canonical(&r, year) == 0;
    const char *z = ok ? match(name, year, &r) : NULL;
    if (z)
        return z;
    /* wDayOfWeek and wDay swapped */
    tzrules sw = in;
    uint16_t t = sw.sd[ST_DOW];
    sw.sd[ST_DOW] = sw.sd[ST_DAY];
    sw.sd[ST_DAY] = t;
    t = sw.dd[ST_DOW];
    sw.dd[ST_DOW] = sw.dd[ST_DAY];
    sw.dd[ST_DAY] = t;
    int sw_ok = sw.sd[ST_YEAR] == 0 && sw.dd[ST_YEAR] == 0 && canonical(&sw, year) == 0;
    if (sw_ok && (z = match(name, year, &sw)) != NULL)
        return z;
    /* the same days with other hours (a client's idea of the hour of the change) */
    if (ok && r.sd[ST_MONTH] && (z = zone_of_rules(year, &r, M_DAYS)) != NULL)
        return z;
    if (sw_ok && sw.sd[ST_MONTH] && (z = zone_of_rules(year, &sw, M_DAYS)) != NULL)
        return z;
    /* Step 5: the standard offset alone */
    int32_t bias = ok ? r.bias : in.bias + in.sbias;
    if ((z = etc_zone(bias)) != NULL)
        return z;
    tzrules fixed = {.bias = bias};
    return zone_of_rules(year, &fixed, M_STD);
}

/* Strict base64 (padding optional, ASCII whitespace ignored) of exactly 172 bytes. */
static int b64_decode(const char *s, unsigned char out[ZX_TZ_BLOB_BYTES])
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

const char *zx_tz_zone_of_blob(apr_pool_t *p, const char *b64, int year)
{
    unsigned char b[ZX_TZ_BLOB_BYTES];
    if (!b64 || b64_decode(b64, b) < 0)
        return NULL;
    return zx_tz_zone_of_blob_raw(b, year);
}

/* ---- Windows ids ------------------------------------------------------------------------- */

const char *zx_tz_from_windows(const char *windows_id)
{
    if (!windows_id)
        return NULL;
    init();
    int w = find_win(windows_id);
    return w >= 0 ? g_win[w].zone001 : NULL;
}

const char *zx_tz_to_windows(const char *tzid)
{
    if (!tzid)
        return NULL;
    init();
    int e = find_ent(tzid);
    if (e >= 0)
        return g_z[e].win >= 0 ? g_win[g_z[e].win].id : NULL;
    char *w = icu_windows_id(tzid);
    int k = w ? find_win(w) : -1;
    free(w);
    return k >= 0 ? g_win[k].id : NULL;
}

/* ---- wall time <-> UTC ------------------------------------------------------------------- */

static int year_of(int64_t t)
{
    int y, m, d;
    civil_from_days(t >= 0 ? t / 86400 : -((-t + 86399) / 86400), &y, &m, &d);
    return y;
}

/* The offset of z at t; after the last cached year, from the rules of that year (libical
 * expands a zone up to the year asked: year 9999 takes 20 s).  Under g_mu. */
/* The rules of z in a cache year (cached when z is one of g_z); under g_mu. */
static const tzrules *zone_rules(icaltimezone *z, int year, tzrules *tmp)
{
    for (int i = 0; i < g_nz; i++)
        if (g_z[i].z == z)
            return ent_rules(i, year, tmp);
    if (z == icaltimezone_get_utc_timezone())
        memset(tmp, 0, sizeof *tmp);
    else
        compute_rules(z, year, tmp);
    return tmp;
}

static int offset_any(icaltimezone *z, int64_t t)
{
    int y = year_of(t), last = CACHE_Y0 + CACHE_YN - 1;
    if (y <= last)
        return offset_at(z, t);
    tzrules r;
    const tzrules *rp = zone_rules(z, last, &r);
    int64_t s, d;
    if (rp->sd[ST_MONTH] == 0 || instant_of_rule(rp->sd, y, &s) < 0 ||
        instant_of_rule(rp->dd, y, &d) < 0)
        return -rp->bias * 60;
    d += (int64_t)rp->bias * 60;                  /* to UTC: DaylightDate is standard time */
    s += (int64_t)(rp->bias + rp->dbias) * 60;    /* StandardDate is daylight time */
    int dst = d < s ? t >= d && t < s : t >= d || t < s;
    return -(rp->bias + (dst ? rp->dbias : 0)) * 60;
}

/* The libical zone of tzid (only ids of g_z or known to ICU); NULL.  Under g_mu. */
static icaltimezone *zone_of_id(const char *tzid)
{
    if (is_utc_name(tzid))
        return icaltimezone_get_utc_timezone();
    int e = find_ent(tzid);
    if (e >= 0)
        return g_z[e].z;
    char *c = icu_canonical(tzid);
    icaltimezone *z = c ? icaltimezone_get_builtin_timezone(tzid) : NULL;
    free(c);
    return z;
}

int zx_tz_local_to_utc(const char *tzid, int y, int mon, int d, int h, int mi, int s,
                       apr_time_t *out)
{
    if (!tzid || mon < 1 || mon > 12)
        return -1;
    init();
    pthread_mutex_lock(&g_mu);
    icaltimezone *z = zone_of_id(tzid);
    int oa = 0, ob = 0, va = 0, vb = 0;
    int64_t w = days_from_civil(y, mon, d) * 86400 + (int64_t)h * 3600 + mi * 60 + s;
    if (z) {
        oa = offset_any(z, w - 86400);
        ob = offset_any(z, w + 86400);
        va = offset_any(z, w - oa) == oa;
        vb = offset_any(z, w - ob) == ob;
    }
    pthread_mutex_unlock(&g_mu);
    if (!z)
        return -1;
    int64_t t;
    if (va && vb)
        t = w - oa < w - ob ? w - oa : w - ob;   /* repeated hour: the first */
    else if (vb && !va)
        t = w - ob;
    else
        t = w - oa;                              /* valid before, or in the gap */
    *out = (apr_time_t)t * APR_USEC_PER_SEC;
    return 0;
}

int zx_tz_utc_to_local(const char *tzid, apr_time_t t, apr_time_exp_t *out)
{
    if (!tzid)
        return -1;
    init();
    int64_t sec = t / APR_USEC_PER_SEC, usec = t % APR_USEC_PER_SEC;
    if (usec < 0) {
        usec += APR_USEC_PER_SEC;
        sec--;
    }
    pthread_mutex_lock(&g_mu);
    icaltimezone *z = zone_of_id(tzid);
    int off = z ? offset_any(z, sec) : 0;
    int dst = 0;
    if (z) {    /* daylight time as in the blob: the larger offset of the year */
        tzrules r;
        const tzrules *rp = zone_rules(z, clamp_year(year_of(sec)), &r);
        dst = rp->sd[ST_MONTH] != 0 && off == -(rp->bias + rp->dbias) * 60;
    }
    pthread_mutex_unlock(&g_mu);
    if (!z)
        return -1;
    int64_t l = sec + off;
    int64_t days = l >= 0 ? l / 86400 : -((-l + 86399) / 86400);
    int64_t rem = l - days * 86400;
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    memset(out, 0, sizeof *out);
    out->tm_usec = (apr_int32_t)usec;
    out->tm_sec = (apr_int32_t)(rem % 60);
    out->tm_min = (apr_int32_t)(rem / 60 % 60);
    out->tm_hour = (apr_int32_t)(rem / 3600);
    out->tm_mday = d;
    out->tm_mon = m - 1;
    out->tm_year = y - 1900;
    out->tm_wday = weekday(days);
    out->tm_yday = (apr_int32_t)(days - days_from_civil(y, 1, 1));
    out->tm_isdst = dst ? 1 : 0;
    out->tm_gmtoff = off;
    return 0;
}

void zx_tz_preload(int year)
{
    year = clamp_year(year);
    init();
    tzrules tmp;
    pthread_mutex_lock(&g_mu);
    for (int i = 0; i < g_nz; i++)
        ent_rules(i, year, &tmp);
    pthread_mutex_unlock(&g_mu);
}

int zx_tz_zone_count(void)
{
    init();
    return g_nz;
}

const char *zx_tz_zone_name(int i)
{
    init();
    return i >= 0 && i < g_nz ? g_z[i].name : NULL;
}
