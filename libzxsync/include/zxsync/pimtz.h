/* zxmobile - time zones of calendar items (libzxsync/pim/tz.c): the ActiveSync TimeZone blob
 * ([MS-ASDTYPE] 2.7.6, [MS-ASCAL] Timezone) of an IANA zone and back, the Windows zone id of
 * an IANA zone and back (ICU's copy of CLDR windowsZones), wall time <-> UTC (libical, built
 * on the system tzdata).
 *
 * The blob: 172 bytes, little endian: Bias (int32, minutes, UTC = local + Bias), StandardName
 * (32 UTF-16 units, NUL padded), StandardDate (SYSTEMTIME: wYear wMonth wDayOfWeek wDay wHour
 * wMinute wSecond wMilliseconds), StandardBias (int32), DaylightName, DaylightDate,
 * DaylightBias.  A date with wYear 0 is a yearly rule: the wDay-th (5 = last) wDayOfWeek
 * (0 = Sunday) of wMonth at wHour:wMinute of the local time in force before the change
 * (DaylightDate in standard time, StandardDate in daylight time).  wMonth 0: no daylight time.
 *
 * The rules written for a zone are its rules "as they stand in a year": the two changes of
 * that year, each turned into the nth (or last, when it is the last of the month) weekday of
 * its month at its local time.  Daylight time is the half of the year with the larger UTC
 * offset (tzdata's negative DST of Europe/Dublin is written as Windows writes it: standard
 * time in winter).  A zone with no change that year, or with changes a pair of yearly rules
 * cannot express (a permanent change of offset), is written as the offset it has at the end
 * of the year with no daylight time.
 *
 * Names written: StandardName is the zone's Windows zone id ("Eastern Standard Time"),
 * DaylightName its daylight name as Exchange writes it ("Eastern Daylight Time": the id with
 * "Standard Time" turned into "Daylight Time"); a zone without a Windows id gets its IANA id
 * in both.  "UTC" (and Etc/UTC) is written as Bias 0, no dates, both names "UTC".
 *
 * A blob read (zx_tz_zone_of_blob) is the IANA zone, in this order:
 *   1. an all-zero blob means UTC: "UTC" (servers that send it mean "no zone", and the item's
 *      times are UTC);
 *   2. the zone StandardName names - a Windows zone id (its "001" zone first, then the other
 *      zones of that Windows zone) or an IANA id - when its rules in the year are the blob's;
 *   3. else a zone whose rules in the year are exactly the blob's (bias, both dates, both
 *      biases); among equals the "001" zone of a Windows zone, the Windows zone with the most
 *      IANA zones first (America/New_York before America/Indiana/Indianapolis), then by name;
 *      a blob without daylight time and with Bias 0 is "UTC";
 *   4. else a zone whose rules differ from the blob's only in the hours of the two changes
 *      (same bias, biases, months and weeks: a client's wrong hour does not lose the DST), chosen
 *      as in 3;
 *   5. else "Etc/GMT+5"-style for the blob's standard bias (whole hours), else any zone with
 *      that standard offset and no daylight time; NULL when there is none.
 * The blob's dates are compared as the instants they stand for in the year, so that the
 * Windows forms of the same rule agree ("Saturday 23:59:59.999" is "Sunday 0:00", week 4 is
 * "last" when it is the last, a wYear date of that year is a yearly rule); a blob with
 * wDayOfWeek and wDay swapped (a known client bug) is read swapped when it is not valid or
 * matches nothing as it is.  StandardBias is folded into Bias.  Client names are looked up in
 * tables only, never passed to the tz database loader.
 *
 * Zones are libical's builtin list (the zones of the system zone.tab), taken at first use.
 * The rules of a zone in a year are computed once per process and cached.  Costs (2 loaded
 * cores): the tables at first use 10 ms; the first use of a zone 1.5-2 ms (libical loads and
 * expands it from the tzdata), a further year of it 40 us; a cached blob 2 us; a blob read
 * 20-50 us once the zones it needs are loaded.  A blob no name identifies makes the first
 * read in a process load the "001" zones (0.3 s), one matching none of them every zone
 * (0.7 s): zx_tz_preload() at process start moves that out of the requests.  Every function is
 * safe to call from several threads (one mutex). */
#ifndef ZXSYNC_PIMTZ_H
#define ZXSYNC_PIMTZ_H

#include <apr_pools.h>
#include <apr_time.h>

#define ZX_TZ_BLOB_BYTES 172
#define ZX_TZ_BLOB_B64_CHARS 232

/* The blob (base64, 232 chars, from p) of zone tzid as its rules stand in year; NULL when
 * tzid is not a zone.  Years of blobs (here and below) are taken into 1970..2169. */
const char *zx_tz_blob(apr_pool_t *p, const char *tzid, int year);
/* The same, raw: fills out[ZX_TZ_BLOB_BYTES]; 0, or -1 when tzid is not a zone. */
int zx_tz_blob_raw(const char *tzid, int year, unsigned char *out);

/* The IANA zone (a static string) a blob stands for, for events in year (the rules above);
 * NULL when b64 is not base64 of 172 bytes, or no zone has the blob's standard offset. */
const char *zx_tz_zone_of_blob(apr_pool_t *p, const char *b64, int year);
/* The same from the raw 172 bytes. */
const char *zx_tz_zone_of_blob_raw(const unsigned char *blob, int year);

/* Windows zone id <-> IANA ("Eastern Standard Time" <-> "America/New_York", the Windows
 * zone's "001" territory zone, named as the tz database names it now: "Asia/Kolkata", not
 * CLDR's "Asia/Calcutta"); static strings, NULL if unknown. */
const char *zx_tz_from_windows(const char *windows_id);
const char *zx_tz_to_windows(const char *tzid);

/* Wall time y-mon-d h:mi:s (mon 1-12) of tzid -> UTC instant; 0, or -1 for an unknown zone.
 * A wall time in the gap of a spring change is read with the offset before the change (02:30
 * on a 02:00 -> 03:00 day is 03:30 after); one repeated in the autumn is the first (daylight). */
int zx_tz_local_to_utc(const char *tzid, int y, int mon, int d, int h, int mi, int s,
                       apr_time_t *out);
/* UTC instant -> wall time of tzid (tm_gmtoff filled; tm_isdst as the blob has it: the larger
 * offset of the year, so Europe/Dublin's winter is not daylight time); 0, or -1.
 * Both: instants after 2169 use the rules of 2169 (libical would expand the zone up to the
 * year asked - 20 s for 9999); before, the tz database's history. */
int zx_tz_utc_to_local(const char *tzid, apr_time_t t, apr_time_exp_t *out);

/* Compute (and cache) the rules of every zone in year: call at process start (httpd child
 * init) for the current year so that no request pays for it. */
void zx_tz_preload(int year);

/* The zones known (libical's builtin list, sorted by name): for tests and zxsuite. */
int zx_tz_zone_count(void);
const char *zx_tz_zone_name(int i);

#endif
