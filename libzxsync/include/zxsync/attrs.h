/* zxmobile - the attribute registry: every configuration attribute, registered once as data
 * in attrs.def (name, type, allowed levels, default, range, description), the levels a value
 * can be set at, and the validation of a value.  No database: the values live in the
 * configuration store (zxsync/config.h). */
#ifndef ZXSYNC_ATTRS_H
#define ZXSYNC_ATTRS_H

#include <apr_pools.h>

typedef enum {
    ZX_LEVEL_NONE = 0,          /* the built-in default */
    ZX_LEVEL_GLOBAL = 1 << 0,
    ZX_LEVEL_SERVER = 1 << 1,
    ZX_LEVEL_DOMAIN = 1 << 2,
    ZX_LEVEL_COS = 1 << 3,
    ZX_LEVEL_ACCOUNT = 1 << 4
} zx_level;

typedef enum {
    ZX_ATTR_BOOL,       /* TRUE/FALSE (input also true/false, 1/0, yes/no; stored TRUE/FALSE) */
    ZX_ATTR_INT,        /* integer within [min, max] */
    ZX_ATTR_STRING,     /* free text (max = maximum length when > 0) */
    ZX_ATTR_ENUM        /* one of enum_values ("A|B|C"), matched case-insensitively */
} zx_attr_type;

typedef struct {
    const char *name;
    zx_attr_type type;
    unsigned levels;            /* ZX_LEVEL_* mask */
    const char *def;            /* built-in default as text ("" = none) */
    long long min, max;
    const char *enum_values;
    int multi;                  /* multi-valued (zmprov +attr/-attr) */
    const char *unit;           /* "ms", "s", "minutes", "days", "KB" or NULL */
    const char *description;
} zx_attr_def;

const zx_attr_def *zx_attr_find(const char *name);          /* case-insensitive, NULL if unknown */
const zx_attr_def *zx_attr_all(apr_size_t *count);
const char *zx_level_name(zx_level level);                  /* "global", ... */
zx_level zx_level_parse(const char *name);                  /* NONE if unknown */
/* Place of level in resolution order, most specific first: account 0, cos 1, domain 2,
 * server 3, global 4; -1 for anything else. */
int zx_level_rank(zx_level level);
/* Check and normalise a value for attr (bool -> TRUE/FALSE, enum -> canonical case).
 * Multi-valued attributes are stored and returned as one string, one value per line ('\n'). */
int zx_attr_validate(apr_pool_t *p, const zx_attr_def *attr, const char *value,
                     const char **normalized, const char **err);
/* 0 when attr may be set at level, else -1 and *err naming the allowed levels. */
int zx_attr_check_level(apr_pool_t *p, const zx_attr_def *attr, zx_level level,
                        const char **err);
/* The registered attribute, or NULL with *err saying it is unknown. */
const zx_attr_def *zx_attr_need(apr_pool_t *p, const char *name, const char **err);

const char *zx_config_default(const char *name);     /* built-in default, "" if none */
int zx_config_is_true(const char *v);                /* TRUE, 1, yes (case-insensitive) */
/* A decimal integer, nothing around it: 0, else -1. */
int zx_attr_parse_int(const char *s, long long *out);

#endif
