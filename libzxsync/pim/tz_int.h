/* zxmobile - the private side of the calendar time zones (libzxsync/pim/tz.c, tz_rules.c):
 * a zone's rules in a year as the blob holds them, the calendar arithmetic, the blob's bytes.
 * No libical, no ICU, no state: tz_rules.c is plain computation. */
#ifndef ZX_TZ_INT_H
#define ZX_TZ_INT_H

#include <zxsync/pimtz.h>

#include <stdint.h>

enum { ST_YEAR, ST_MONTH, ST_DOW, ST_DAY, ST_HOUR, ST_MIN, ST_SEC, ST_MS, ST_N };

/* A zone's rules in a year, canonical: sbias 0; both dates 0 without DST; a date is the
 * weekday, week (5 = last of the month) and minute of the instant it stands for. */
typedef struct {
    int32_t bias, sbias, dbias;     /* minutes */
    uint16_t sd[ST_N], dd[ST_N];    /* StandardDate, DaylightDate (SYSTEMTIME fields) */
} tzrules;

/* Days since 1970-01-01 of a proleptic Gregorian date, and back; its weekday (0 = Sunday). */
int64_t zx_tzr_days_from_civil(int64_t y, int m, int d);
void zx_tzr_civil_from_days(int64_t days, int *y, int *m, int *d);
int zx_tzr_weekday(int64_t days);
/* The year of a second since 1970. */
int zx_tzr_year_of(int64_t t);

/* A local instant (seconds since 1970 of the wall clock) -> the canonical yearly rule. */
void zx_tzr_rule_of_instant(int64_t local, uint16_t st[ST_N]);
/* Rules read from a blob -> their canonical form in year; -1 when the dates are not dates. */
int zx_tzr_canonical(tzrules *r, int year);
/* Equal rules; rules equal but for the hours of the changes. */
int zx_tzr_eq(const tzrules *a, const tzrules *b);
int zx_tzr_same_days(const tzrules *a, const tzrules *b);
/* The UTC offset (seconds) at UTC second t of a zone whose rules (of some year) are r,
 * applied to t's year. */
int zx_tzr_offset(const tzrules *r, int64_t t);

/* The blob's bytes: write rules and names (ASCII, cut at 31); read rules (as they are, not
 * canonical) and StandardName (non-ASCII as '?'). */
void zx_tzr_write(unsigned char *b, const tzrules *r, const char *std, const char *dlt);
void zx_tzr_read(const unsigned char *b, tzrules *r, char std_name[33]);
/* Strict base64 (padding optional, ASCII blanks ignored) of exactly 172 bytes; 0 or -1. */
int zx_tzr_b64_decode(const char *s, unsigned char out[ZX_TZ_BLOB_BYTES]);

#endif
