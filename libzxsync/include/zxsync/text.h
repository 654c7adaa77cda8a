/* zxmobile - small text helpers (the one copy of each): UTF-8 validation, repair and cutting
 * of text from an untrusted peer, base64 white space, ASCII case folding. */
#ifndef ZXSYNC_TEXT_H
#define ZXSYNC_TEXT_H

#include <apr_pools.h>
#include <apr_time.h>

/* Length of the valid UTF-8 sequence at s (at most n bytes, n >= 1), 0 when invalid: no
 * overlongs, no surrogates, nothing above U+10FFFF. */
apr_size_t zx_utf8_seq(const unsigned char *s, apr_size_t n);
/* 1 when s[0..n) is valid UTF-8 without a NUL byte. */
int zx_utf8_text(const char *s, apr_size_t n);
/* 1 when s[0..n) is valid UTF-8 (NUL bytes allowed). */
int zx_utf8_valid(const char *s, apr_size_t n);
/* A pool copy of s[0..n) that is valid UTF-8: invalid bytes become U+FFFD, NULs are dropped. */
char *zx_utf8_clean(apr_pool_t *p, const char *s, apr_size_t n);
/* A header or query value from the peer as one line of clean text (README, "Limits and
 * hardening"): every byte that is not part of valid UTF-8 and every control character
 * (U+0000-U+001F, U+007F-U+009F) becomes U+FFFD.  s itself when it is clean already; NULL
 * stays NULL. */
const char *zx_text_from_peer(apr_pool_t *p, const char *s);

/* Text on one line (a header value, a database message for the log): invalid UTF-8 repaired
 * (zx_utf8_clean), control characters become spaces, runs of spaces collapse, ends trimmed.
 * NULL, or text that comes to nothing, gives NULL. */
const char *zx_text_one_line(apr_pool_t *p, const char *s);

/* The length of s[0..len) cut to at most max bytes on a UTF-8 character boundary. */
apr_size_t zx_utf8_cut(const char *s, apr_size_t len, apr_size_t max);

/* Base64 text without its white space (blanks, line breaks) when it uses the base64 alphabet
 * with '=' padding (at most two) only at the end; NULL otherwise.  The caller checks the
 * length rule it needs. */
const char *zx_base64_strip(apr_pool_t *p, const char *in);

/* The instant of a UTC date and time of the proleptic Gregorian calendar (years before 1970
 * too: apr_time_exp_gmt_get refuses them, and birthdays are older), checked: the day exists,
 * hour 0-23, minute 0-59, second 0-60 (a leap second is :59), ms 0-999.  0, or -1. */
int zx_utc_time(int y, int mo, int d, int h, int mi, int sec, int ms, apr_time_t *t);

/* The value of a hexadecimal digit (either case), -1 for any other character. */
int zx_hexval(int c);

/* A pool copy of s with ASCII letters in lower case (names, keys); NULL gives "". */
char *zx_str_lower(apr_pool_t *p, const char *s);

#endif
