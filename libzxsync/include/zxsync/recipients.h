/* zxmobile - lists of recipient addresses written by an administrator (libzxsync/mta/).
 *
 * The format, decided here because the spec leaves it open (spec 5: "a warning is sent via
 * email to admin"; attrs.def: ZxMobile_NotificationRecipients is multi-valued, its values
 * stored one per line): every value (line) is a list of addresses separated by commas,
 * semicolons or white space, so `a@x`, `a@x,b@y`, `a@x; b@y` and two lines `a@x` / `b@y` all
 * mean what an administrator means by them.  An address is a bare addr-spec, optionally in
 * angle brackets (`<a@x>`): printable ASCII, exactly one '@' with text on both sides, none of
 * `<>"(),;:\[]`, not starting with '-' (it becomes a sendmail argument).  Anything else - a
 * display name, a word without '@' - is skipped and reported as invalid; a repeated address
 * (compared without case) counts once; the order is kept (the first is the sender of the
 * administrators' mail). */
#ifndef ZXSYNC_RECIPIENTS_H
#define ZXSYNC_RECIPIENTS_H

#include <apr_pools.h>
#include <apr_tables.h>

/* The addresses of value (NULL = none) as const char * in a new array (never NULL, maybe
 * empty).  invalid (optional): a new array of the pieces skipped as not an address. */
apr_array_header_t *zx_recipients_parse(apr_pool_t *p, const char *value,
                                        apr_array_header_t **invalid);

/* 1 when a is one address as zx_recipients_parse accepts it (without angle brackets). */
int zx_recipient_valid(const char *a);

#endif
