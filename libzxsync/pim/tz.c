/* zxmobile - the ActiveSync TimeZone blob of an IANA zone and back, Windows zone ids, wall
 * time <-> UTC (zxsync/pimtz.h, which has the rules).
 *
 * How: a zone's rules in a year come from libical's offsets (built on the system tzdata):
 * the offset is sampled every day of the year (UTC) and each change found is narrowed to its
 * second; the two changes of the year become nth-weekday rules.  A rule is kept in a
 * canonical form (the weekday, week and minute of the instant it stands for in the year), so
 * that two blobs are the same rules exactly when their canonical forms are equal; that
 * arithmetic and the blob's bytes are in tz_rules.c.  Windows ids come from ICU (CLDR
 * windowsZones): zone -> Windows id, Windows id -> "001" zone.
 *
 * Threads: the tables are built once (pthread_once); the per-year rule cache and every
 * libical call are under one mutex (libical's builtin zones grow and expand lazily). */
#include "tz_int.h"

#include <apr_base64.h>
#include <apr_strings.h>
#include <libical/ical.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/ucal.h>
#include <unicode/ures.h>

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
    int64_t t0 = zx_tzr_days_from_civil(year, 1, 1) * 86400;
    int ndays = (int)(zx_tzr_days_from_civil(year + 1, 1, 1) - zx_tzr_days_from_civil(year, 1, 1));
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
    zx_tzr_rule_of_instant(to_dst->at + to_dst->before, r->dd);
    zx_tzr_rule_of_instant(to_std->at + to_std->before, r->sd);
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
    if (!id || find_win(id) >= 0) {
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

/* CLDR's windowsZones as ICU holds it: Windows id -> territory -> IANA ids (CLDR's names,
 * space separated).  One pass over it instead of a ucal_getWindowsTimeZoneID() per zone
 * (100 us each: 60 ms at process start).  g_pair: IANA id -> Windows id, sorted. */
typedef struct {
    char *id;
    const char *win;    /* a g_win id */
} pairent;
static pairent *g_pair;
static int g_npair;

static int cmp_pair(const void *a, const void *b)
{
    return strcmp(((const pairent *)a)->id, ((const pairent *)b)->id);
}

static const char *pair_win(const char *id)
{
    pairent key = {.id = (char *)id};
    pairent *e = g_npair ? bsearch(&key, g_pair, (size_t)g_npair, sizeof *g_pair, cmp_pair) : NULL;
    return e ? e->win : NULL;
}

/* The territories of one Windows zone: its 001 zone (CLDR's id) into *z001, its ids to g_pair. */
static void read_territories(UResourceBundle *w, const char *win, char **z001)
{
    UErrorCode st = U_ZERO_ERROR;
    while (ures_hasNext(w)) {
        UResourceBundle *t = ures_getNextResource(w, NULL, &st);
        int32_t len = 0;
        const UChar *ids = U_SUCCESS(st) ? ures_getString(t, &len, &st) : NULL;
        const char *terr = t ? ures_getKey(t) : NULL;
        for (int i = 0; ids && U_SUCCESS(st) && i < len;) {
            int j = i;
            while (j < len && ids[j] != ' ')
                j++;
            char *id = from_uchar(ids + i, j - i);
            pairent *np = id ? realloc(g_pair, ((size_t)g_npair + 1) * sizeof *g_pair) : NULL;
            if (np) {
                g_pair = np;
                g_pair[g_npair++] = (pairent){.id = id, .win = win};
                if (!*z001 && terr && strcmp(terr, "001") == 0)
                    *z001 = xdup(id);
            } else {
                free(id);
            }
            i = j + 1;
        }
        if (t)
            ures_close(t);
        if (U_FAILURE(st))
            break;
    }
}

static int load_windows_zones(void)
{
    UErrorCode st = U_ZERO_ERROR;
    UResourceBundle *top = ures_openDirect(NULL, "windowsZones", &st);
    UResourceBundle *map = U_SUCCESS(st) ? ures_getByKey(top, "mapTimezones", NULL, &st) : NULL;
    while (U_SUCCESS(st) && map && ures_hasNext(map)) {
        UResourceBundle *w = ures_getNextResource(map, NULL, &st);
        const char *key = U_SUCCESS(st) ? ures_getKey(w) : NULL;
        if (key) {
            add_win(xdup(key));
            int k = find_win(key);
            char *z001 = NULL;
            if (k >= 0)
                read_territories(w, g_win[k].id, &z001);
            if (k >= 0 && !g_win[k].zone001)
                g_win[k].zone001 = z001;
            else
                free(z001);
        }
        if (w)
            ures_close(w);
    }
    if (map)
        ures_close(map);
    if (top)
        ures_close(top);
    if (g_npair)
        qsort(g_pair, (size_t)g_npair, sizeof *g_pair, cmp_pair);
    return U_SUCCESS(st) && g_nwin > 0 ? 0 : -1;
}

/* The same through the public calls, if that resource is not there. */
static void load_windows_zones_slowly(void)
{
    UErrorCode st = U_ZERO_ERROR;
    UEnumeration *en = ucal_openTimeZones(&st);
    const char *id;
    int32_t len;
    while (U_SUCCESS(st) && en && (id = uenum_next(en, &len, &st)) != NULL)
        add_win(icu_windows_id(id));
    if (en)
        uenum_close(en);
    for (int i = 0; i < g_nwin; i++)
        g_win[i].zone001 = icu_zone_of_windows(g_win[i].id);
}

/* The Windows id of an IANA id (any alias: CLDR keeps old names, "Asia/Calcutta"). */
static const char *windows_of(const char *id, const char *canon)
{
    const char *w = NULL;
    if (g_npair) {
        w = pair_win(id);
        if (!w && canon)
            w = pair_win(canon);
        return w;
    }
    char *x = icu_windows_id(id);   /* the slow way */
    int k = x ? find_win(x) : -1;
    free(x);
    return k >= 0 ? g_win[k].id : NULL;
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

    /* Windows ids, each one's 001 zone named as libical names it */
    if (load_windows_zones() < 0)
        load_windows_zones_slowly();
    for (int i = 0; i < g_nz; i++)
        g_z[i].canon = icu_canonical(g_z[i].name);
    for (int i = 0; i < g_nwin; i++) {
        winent *w = &g_win[i];
        w->dlt = daylight_name(w->id);
        int e = w->zone001 ? find_zone_any(w->zone001) : -1;
        if (e >= 0) {
            free(w->zone001);
            w->zone001 = xdup(g_z[e].name);
        }
    }
    for (int i = 0; i < g_nz; i++) {
        const char *w = windows_of(g_z[i].name, g_z[i].canon);
        int k = w ? find_win(w) : -1;
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
        zx_tzr_write(out, &r, "UTC", "UTC");
        return 0;
    }
    const char *win = zx_tz_to_windows(tzid);
    int w = win ? find_win(win) : -1;
    if (w >= 0)
        zx_tzr_write(out, &r, g_win[w].id, g_win[w].dlt ? g_win[w].dlt : g_win[w].id);
    else
        zx_tzr_write(out, &r, tzid, tzid);
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
            zx_tzr_eq(&zr, r)) {
            int e = find_ent(g_win[w].zone001);
            if (e >= 0)
                return g_z[e].name;
            return is_utc_name(g_win[w].zone001) ? "UTC" : g_win[w].zone001;
        }
        int best = -1;
        pthread_mutex_lock(&g_mu);
        for (int i = 0; i < g_nz; i++)
            if (g_z[i].win == w && zx_tzr_eq(ent_rules(i, year, &zr), r) && better(i, best))
                best = i;
        pthread_mutex_unlock(&g_mu);
        if (best >= 0)
            return g_z[best].name;
    }
    int e = find_zone_any(name);
    if (e >= 0 && rules_of_id(g_z[e].name, year, &zr) == 0 && zx_tzr_eq(&zr, r))
        return g_z[e].name;
    return NULL;
}


enum { M_EXACT, M_DAYS, M_STD };

/* Steps 3 and 4: the best zone whose rules are r (M_EXACT), differ only in the hours of the
 * changes (M_DAYS), have r's bias and no DST (M_STD); NULL. */
static const char *zone_of_rules(int year, const tzrules *r, int mode)
{
    tzrules tmp;
    int best = -1;
    pthread_mutex_lock(&g_mu);
    /* the "001" zones first: better() puts them before the others, and a process that has
     * not loaded every zone yet loads a third of them (libical: 1.7 ms a zone) */
    for (int pass = 0; pass < 2 && best < 0; pass++) {
        for (int i = 0; i < g_nz; i++) {
            if (g_z[i].is001 != (pass == 0))
                continue;
            const tzrules *zr = ent_rules(i, year, &tmp);
            int ok = mode == M_EXACT ? zx_tzr_eq(zr, r)
                     : mode == M_DAYS ? zx_tzr_same_days(zr, r)
                                      : zr->bias == r->bias && zr->sd[ST_MONTH] == 0;
            if (ok && better(i, best))
                best = i;
        }
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
    tzrules in, r;
    zx_tzr_read(b, &in, name);

    r = in;
    int ok = zx_tzr_canonical(&r, year) == 0;
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
    int sw_ok = sw.sd[ST_YEAR] == 0 && sw.dd[ST_YEAR] == 0 && zx_tzr_canonical(&sw, year) == 0;
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


const char *zx_tz_zone_of_blob(apr_pool_t *p, const char *b64, int year)
{
    unsigned char b[ZX_TZ_BLOB_BYTES];
    if (!b64 || zx_tzr_b64_decode(b64, b) < 0)
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
    char *c = icu_canonical(tzid);
    const char *w = c ? windows_of(tzid, c) : NULL;
    free(c);
    return w;
}

/* ---- wall time <-> UTC ------------------------------------------------------------------- */


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
    int y = zx_tzr_year_of(t), last = CACHE_Y0 + CACHE_YN - 1;
    if (y <= last)
        return offset_at(z, t);
    tzrules r;
    return zx_tzr_offset(zone_rules(z, last, &r), t);
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
    int64_t w = zx_tzr_days_from_civil(y, mon, d) * 86400 + (int64_t)h * 3600 + mi * 60 + s;
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
        const tzrules *rp = zone_rules(z, clamp_year(zx_tzr_year_of(sec)), &r);
        dst = rp->sd[ST_MONTH] != 0 && off == -(rp->bias + rp->dbias) * 60;
    }
    pthread_mutex_unlock(&g_mu);
    if (!z)
        return -1;
    int64_t l = sec + off;
    int64_t days = l >= 0 ? l / 86400 : -((-l + 86399) / 86400);
    int64_t rem = l - days * 86400;
    int y, m, d;
    zx_tzr_civil_from_days(days, &y, &m, &d);
    memset(out, 0, sizeof *out);
    out->tm_usec = (apr_int32_t)usec;
    out->tm_sec = (apr_int32_t)(rem % 60);
    out->tm_min = (apr_int32_t)(rem / 60 % 60);
    out->tm_hour = (apr_int32_t)(rem / 3600);
    out->tm_mday = d;
    out->tm_mon = m - 1;
    out->tm_year = y - 1900;
    out->tm_wday = zx_tzr_weekday(days);
    out->tm_yday = (apr_int32_t)(days - zx_tzr_days_from_civil(y, 1, 1));
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
