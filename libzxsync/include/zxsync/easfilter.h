/* zxmobile - EAS filters (spec section 9): ordered rules that decide which protocol versions a
 * client is offered (MS-ASProtocolVersions of OPTIONS) and may use.
 *
 * A filter has a type (what it matches), a parameter, a mode (what it does to the versions), a
 * version list and a blocking flag.  Evaluation starts from the server's versions
 * (ZxMobileProtocolVersions) and applies every matching filter in order; a matching blocking
 * filter ends it.  The result never holds a version the server does not offer.
 *
 *   contains  the User-Agent contains the parameter (case-insensitive)
 *   regex     the User-Agent matches the POSIX extended regular expression (case-insensitive,
 *             anywhere in it unless anchored; back-references are refused: they make
 *             matching exponential)
 *   account   the authenticated account is the parameter (case-insensitive)
 *   domain    the account's domain is the parameter (case-insensitive)
 *   and / or  parameter "type=value,type=value...": all / any of those rules match
 *   always    every request (the catch-all of the documented output)
 *
 *   fixed     the versions become exactly the filter's versions
 *   limit     versions above the highest of the filter's versions are removed
 *   add       the filter's versions are added
 *   subtract  the filter's versions are removed
 *
 * The built-in Outlook filter ("or" of contains outlook/ and contains microsoft.outlook, fixed,
 * blocking) takes its version from ZxMobile_MaxOutlookVersion (server, global).  IDs are
 * positions, 0-based: they renumber after a move or a delete.
 *
 * contains and regex see only the first ZX_EASFILTER_MAX_SUBJECT bytes of the User-Agent (cut
 * at a character boundary).
 */
#ifndef ZXSYNC_EASFILTER_H
#define ZXSYNC_EASFILTER_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <zxsync/db.h>
#include <zxsync/eas.h>

typedef enum {
    ZX_EF_AND, ZX_EF_OR, ZX_EF_REGEX, ZX_EF_CONTAINS, ZX_EF_ACCOUNT, ZX_EF_DOMAIN, ZX_EF_ALWAYS
} zx_ef_type;

typedef enum { ZX_EF_ADD, ZX_EF_SUBTRACT, ZX_EF_FIXED, ZX_EF_LIMIT } zx_ef_mode;

typedef struct zx_ef_rule zx_ef_rule;   /* compiled match rule */

typedef struct {
    int id;                    /* position, 0-based */
    zx_ef_type type;
    const char *parameter;
    zx_ef_mode mode;
    zx_vset versions;
    int blocking;
    const char *builtin;       /* "outlook" for the built-in Outlook filter, else NULL */
    zx_ef_rule *rule;          /* set by zx_easfilter_compile */
} zx_easfilter;

const char *zx_ef_type_name(zx_ef_type t);
const char *zx_ef_mode_name(zx_ef_mode m);
int zx_ef_type_parse(const char *s, zx_ef_type *t);     /* case-insensitive; -1 if unknown */
int zx_ef_mode_parse(const char *s, zx_ef_mode *m);

/* Check and compile f->type/f->parameter into f->rule (allocated from p; regular expressions
 * are freed with p).  -1 and *err for an empty parameter, an unknown key of a composite rule
 * or an invalid regular expression. */
int zx_easfilter_compile(apr_pool_t *p, zx_easfilter *f, const char **err);

/* What a filter is matched against. */
typedef struct {
    const char *user_agent;    /* NULL = none sent */
    const char *account;       /* user@domain, NULL when unknown */
} zx_ef_subject;

#define ZX_EASFILTER_MAX_SUBJECT 256

int zx_easfilter_matches(const zx_easfilter *f, const zx_ef_subject *s);
/* The versions for subject after filters[0..n-1] (compiled), starting from and bounded by
 * server.  *matched (optional): id of the last filter that matched, -1 if none. */
zx_vset zx_easfilters_eval(const zx_easfilter *const *filters, int n, zx_vset server,
                           const zx_ef_subject *s, int *matched);

/* The rule as the documented getAllEASFilters output shows it, e.g.
 * "[type = contains; rule = samsung]",
 * "[type = or; rules = [[type = contains; rule = outlook/] OR [type = contains; rule = microsoft.outlook]]". */
const char *zx_easfilter_rule_str(apr_pool_t *p, const zx_easfilter *f);

/* ---- storage (the eas_filters table, sql/011) --------------------------------------------- */

/* Every filter in order, compiled, the built-in Outlook filter's versions resolved for server
 * (ZxMobile_MaxOutlookVersion; NULL = global).  out: zx_easfilter *. */
int zx_easfilters_load(apr_pool_t *p, zx_db *db, const char *server, apr_array_header_t **out,
                       const char **err);
/* Append a filter; *id gets its position.  versions: "2.5,12.0,14.1". */
int zx_easfilter_add(apr_pool_t *p, zx_db *db, const char *type, const char *parameter,
                     const char *mode, const char *versions, int blocking, int *id,
                     const char **err);
int zx_easfilter_delete(apr_pool_t *p, zx_db *db, int id, const char **err);
/* Move the filter at position from to position to (both existing positions). */
int zx_easfilter_move(apr_pool_t *p, zx_db *db, int from, int to, const char **err);

/* ---- the pipeline's view (per process) --------------------------------------------------- */

typedef struct zx_easfilter_cache zx_easfilter_cache;
struct zx_server;

zx_easfilter_cache *zx_easfilter_cache_create(apr_pool_t *p);
/* Make list (zx_easfilter *, compiled, allocated from owner) the cache's filters; the cache
 * owns owner (an unmanaged pool) from here on and destroys it when replaced.  The answers kept
 * so far stay when the filters are the same as before. */
void zx_easfilter_cache_install(zx_easfilter_cache *c, apr_pool_t *owner,
                                apr_array_header_t *list);
/* zx_easfilters_eval over the installed filters, each (User-Agent, account) evaluated once
 * while they stay the same (a small table per process). */
zx_vset zx_easfilter_cache_eval(zx_easfilter_cache *c, zx_vset server, const zx_ef_subject *s,
                                int *matched);
void zx_easfilter_cache_stats(zx_easfilter_cache *c, unsigned long *evaluations,
                              unsigned long *hits);
/* The versions this request's client gets.  The filters are re-read at most every
 * ZX_EASFILTER_RECHECK seconds per process (a request that finds them fresh costs no database
 * round trip).  -1 and *err when they could never be read. */
#define ZX_EASFILTER_RECHECK 2
int zx_easfilter_versions(const struct zx_server *srv, zx_request *req, zx_vset *out,
                          const char **err);

#endif
