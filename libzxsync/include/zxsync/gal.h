/* zxmobile - the Global Address List: the GAL attributes of an account (Zimbra names), and
 * the look-ups of Search Store=GAL and ResolveRecipients.
 *
 * Attributes (besides displayName, a column of accounts: zxsync/directory.h): givenName, sn,
 * initials, company, title, ou, physicalDeliveryOfficeName, telephoneNumber, homePhone,
 * mobile (text, at most 256 bytes, no control characters), zimbraMailAlias (multi-valued,
 * addresses, stored lower-case), thumbnailPhoto (base64 JPEG, at most 100 KB decoded),
 * userCertificate and userSMIMECertificate (multi-valued, base64 DER, at most 16 KB each
 * decoded), zimbraHideInGal (TRUE|FALSE).  The directory reads and writes them through this
 * file (zx_dir_modify_account with "+attr"/"-attr" for the multi-valued ones).
 *
 * The GAL of an account is its own domain's (Zimbra's zimbraGalInternalSearchBase DOMAIN):
 * active and locked accounts of the domain without zimbraHideInGal TRUE.  A query matches
 * the start of the display name or of one of its words, of the given name, of the surname,
 * of the address or of an alias, case- and accent-insensitive (sql/023_gal.sql). */
#ifndef ZXSYNC_GAL_H
#define ZXSYNC_GAL_H

#include <apr_hash.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <zxsync/config_values.h>
#include <zxsync/db.h>

typedef enum { ZX_GAL_TEXT, ZX_GAL_ADDRESS, ZX_GAL_BASE64, ZX_GAL_BOOL } zx_gal_kind;

typedef struct {
    const char *name;           /* canonical spelling (Zimbra's) */
    zx_gal_kind kind;
    int multi;
    apr_size_t max;             /* bytes (decoded for BASE64) */
} zx_gal_attr_def;

const zx_gal_attr_def *zx_gal_attr_find(const char *name);          /* case-insensitive */
const zx_gal_attr_def *zx_gal_attr_all(apr_size_t *count);
/* 0 and *norm (the value as stored), or -1 and *err. */
int zx_gal_attr_validate(apr_pool_t *p, const zx_gal_attr_def *a, const char *value,
                         const char **norm, const char **err);
/* One change of an account's attribute inside the caller's transaction: REPLACE sets all the
 * values (several separated by "\n"), ADD adds one, REMOVE removes one, UNSET removes all. */
int zx_gal_attr_write(apr_pool_t *p, zx_db *db, const char *account_id,
                      const zx_gal_attr_def *a, zx_config_op op, const char *value,
                      const char **err);
/* The attributes of account_id (NULL: every account whose id is a key of tables) added to
 * tables[account id] (apr_table_t *: name -> value, one entry per value). */
int zx_gal_attr_load(apr_pool_t *p, zx_db *db, const char *account_id, apr_hash_t *tables,
                     const char **err);

/* ---- look-ups --------------------------------------------------------------------------- */

typedef struct {
    const char *account_id;
    const char *email;          /* local@domain */
    const char *alias;          /* the local part (mail nickname) */
    const char *display_name;   /* NULL when unset, else as the attributes below */
    const char *first_name, *last_name, *company, *title, *office, *phone, *home_phone,
        *mobile_phone;
    const char *photo;          /* base64, NULL when none or not asked for */
    apr_size_t photo_len;       /* decoded size */
    apr_array_header_t *certs;  /* const char *: base64 DER (userSMIMECertificate first), NULL
                                 * when not asked for */
} zx_gal_entry;

enum { ZX_GAL_WANT_PHOTO = 1, ZX_GAL_WANT_CERTS = 2 };

/* The entries of domain_id's GAL that match query, ordered by display name (then address),
 * entries offset .. offset+limit-1 (*out: zx_gal_entry *), *total all matches.  Two
 * statements.  An empty query (after trimming) matches nothing. */
int zx_gal_search(apr_pool_t *p, zx_db *db, const char *domain_id, const char *query,
                  int offset, int limit, unsigned want, apr_array_header_t **out, int *total,
                  const char **err);
/* ResolveRecipients: an address of domain_id's GAL (an account's own or an alias) is exact
 * (*out one entry, *total 1); anything else is looked up as zx_gal_search does. */
int zx_gal_resolve(apr_pool_t *p, zx_db *db, const char *domain_id, const char *to, int limit,
                   unsigned want, apr_array_header_t **out, int *total, const char **err);

#endif
