/* zxmobile - what the ABQ files share (libzxsync/abq/). */
#ifndef ZX_ABQ_INT_H
#define ZX_ABQ_INT_H

#include <zxsync/abq.h>

#include <regex.h>

/* Compile a rule's regex as zx_abq_regex_match uses it (regfree it after); 0 or -1 and *err. */
int zx_abq_regex_compile(apr_pool_t *p, const char *regex, regex_t *re, const char **err);

/* The administrators' addresses (ZxMobile_NotificationRecipients). */
int zx_abq_admin_recipients(apr_pool_t *p, zx_db *db, apr_array_header_t **out,
                            const char **err);

#endif
