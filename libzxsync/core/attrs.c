/* zxmobile - the attribute registry (attrs.def): the attributes, the levels a value can be set
 * at, and the validation of a value.  No database here: values are written by
 * config_values.c and resolved by config.c. */
#include <zxsync/attrs.h>

#include <apr_strings.h>
#include <apr_tables.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the registry ----------------------------------------------------------------------------- */

static const zx_attr_def registry[] = {
#define ZX_ATTR(n, t, l, d, mi, ma, e, mu, u, desc) \
    {#n, ZX_ATTR_##t, (unsigned)(l), d, mi, ma, e, mu, u, desc},
#include <zxsync/attrs.def>
#undef ZX_ATTR
};
#define NATTRS (sizeof registry / sizeof registry[0])

const zx_attr_def *zx_attr_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < NATTRS; i++)
        if (strcasecmp(registry[i].name, name) == 0)
            return &registry[i];
    return NULL;
}

const zx_attr_def *zx_attr_all(apr_size_t *count)
{
    if (count)
        *count = NATTRS;
    return registry;
}

/* Levels in resolution order, most specific first. */
static const struct {
    zx_level level;
    const char *name;
} levels[] = {
    {ZX_LEVEL_ACCOUNT, "account"},
    {ZX_LEVEL_COS, "cos"},
    {ZX_LEVEL_DOMAIN, "domain"},
    {ZX_LEVEL_SERVER, "server"},
    {ZX_LEVEL_GLOBAL, "global"},
};
#define NLEVELS (sizeof levels / sizeof levels[0])

const char *zx_level_name(zx_level level)
{
    for (size_t i = 0; i < NLEVELS; i++)
        if (levels[i].level == level)
            return levels[i].name;
    return "default";
}

zx_level zx_level_parse(const char *name)
{
    for (size_t i = 0; name && i < NLEVELS; i++)
        if (strcasecmp(levels[i].name, name) == 0)
            return levels[i].level;
    return ZX_LEVEL_NONE;
}

int zx_level_rank(zx_level level)
{
    for (size_t i = 0; i < NLEVELS; i++)
        if (levels[i].level == level)
            return (int)i;
    return -1;
}

/* "account, cos, global" (resolution order) */
static const char *levels_text(apr_pool_t *p, unsigned mask)
{
    const char *out = NULL;
    for (size_t i = 0; i < NLEVELS; i++)
        if (mask & levels[i].level)
            out = out ? apr_pstrcat(p, out, ", ", levels[i].name, NULL) : levels[i].name;
    return out ? out : "none";
}

int zx_attr_check_level(apr_pool_t *p, const zx_attr_def *a, zx_level level, const char **err)
{
    if (zx_level_rank(level) < 0) {
        *err = "unknown configuration level (global, server, domain, cos, account)";
        return -1;
    }
    if (!(a->levels & level)) {
        *err = apr_psprintf(p, "attribute %s is not available at %s level (allowed levels: %s)",
                            a->name, zx_level_name(level), levels_text(p, a->levels));
        return -1;
    }
    return 0;
}

const zx_attr_def *zx_attr_need(apr_pool_t *p, const char *name, const char **err)
{
    const zx_attr_def *a = zx_attr_find(name);
    if (!a)
        *err = apr_psprintf(p, "unknown attribute \"%s\" (zxsuite config info lists them)",
                            name ? name : "");
    return a;
}

const char *zx_config_default(const char *name)
{
    const zx_attr_def *a = zx_attr_find(name);
    return a && a->def ? a->def : "";
}

int zx_config_is_true(const char *v)
{
    return v && (strcasecmp(v, "TRUE") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0);
}

/* ---- validation ------------------------------------------------------------------------------- */

int zx_attr_parse_int(const char *s, long long *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static const char *enum_list(apr_pool_t *p, const char *values)
{
    char *s = apr_pstrdup(p, values ? values : "");
    const char *out = NULL;
    char *last;
    for (char *t = apr_strtok(s, "|", &last); t; t = apr_strtok(NULL, "|", &last))
        out = out ? apr_pstrcat(p, out, ", ", t, NULL) : t;
    return out ? out : "";
}

/* One value (not multi-line). */
static int validate_one(apr_pool_t *p, const zx_attr_def *a, const char *v, const char **norm,
                        const char **err)
{
    switch (a->type) {
    case ZX_ATTR_BOOL:
        if (!strcasecmp(v, "TRUE") || !strcasecmp(v, "yes") || !strcmp(v, "1")) {
            *norm = "TRUE";
            return 0;
        }
        if (!strcasecmp(v, "FALSE") || !strcasecmp(v, "no") || !strcmp(v, "0")) {
            *norm = "FALSE";
            return 0;
        }
        *err = apr_psprintf(p, "invalid value \"%s\" for %s: expected TRUE or FALSE", v, a->name);
        return -1;
    case ZX_ATTR_INT: {
        long long n;
        if (zx_attr_parse_int(v, &n) < 0 || n < a->min || n > a->max) {
            *err = apr_psprintf(p, "invalid value \"%s\" for %s: expected an integer from %"
                                   APR_INT64_T_FMT " to %" APR_INT64_T_FMT "%s%s", v, a->name,
                                (apr_int64_t)a->min, (apr_int64_t)a->max,
                                a->unit ? " " : "", a->unit ? a->unit : "");
            return -1;
        }
        *norm = apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)n);
        return 0;
    }
    case ZX_ATTR_ENUM: {
        char *s = apr_pstrdup(p, a->enum_values ? a->enum_values : "");
        char *last;
        for (char *t = apr_strtok(s, "|", &last); t; t = apr_strtok(NULL, "|", &last)) {
            if (strcasecmp(t, v) == 0) {
                *norm = t;
                return 0;
            }
        }
        *err = apr_psprintf(p, "invalid value \"%s\" for %s: expected one of %s", v, a->name,
                            enum_list(p, a->enum_values));
        return -1;
    }
    case ZX_ATTR_STRING:
        for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
            if (*c < 0x20 || *c == 0x7f) {
                *err = apr_psprintf(p, "invalid value for %s: control characters are not "
                                       "allowed", a->name);
                return -1;
            }
        }
        if (a->max > 0 && (long long)strlen(v) > a->max) {
            *err = apr_psprintf(p, "invalid value for %s: longer than %" APR_INT64_T_FMT
                                   " bytes", a->name, (apr_int64_t)a->max);
            return -1;
        }
        *norm = v;
        return 0;
    }
    *err = apr_psprintf(p, "attribute %s has an unknown type", a->name);
    return -1;
}

int zx_attr_validate(apr_pool_t *p, const zx_attr_def *attr, const char *value,
                     const char **normalized, const char **err)
{
    if (!attr) {
        *err = "unknown attribute";
        return -1;
    }
    if (!value) {
        *err = apr_psprintf(p, "missing value for %s", attr->name);
        return -1;
    }
    if (!attr->multi) {
        if (*value == '\0' && attr->type != ZX_ATTR_STRING) {
            *err = apr_psprintf(p, "invalid empty value for %s", attr->name);
            return -1;
        }
        return validate_one(p, attr, value, normalized, err);
    }
    /* Multi-valued: one value per line; empty lines and duplicates dropped. */
    char *s = apr_pstrdup(p, value);
    const char *out = NULL;
    char *last;
    apr_array_header_t *seen = apr_array_make(p, 4, sizeof(const char *));
    for (char *t = apr_strtok(s, "\n", &last); t; t = apr_strtok(NULL, "\n", &last)) {
        size_t n = strlen(t);
        if (n && t[n - 1] == '\r')
            t[n - 1] = '\0';
        if (!*t)
            continue;
        const char *norm;
        if (validate_one(p, attr, t, &norm, err) < 0)
            return -1;
        int dup = 0;
        for (int i = 0; i < seen->nelts; i++)
            if (strcmp(APR_ARRAY_IDX(seen, i, const char *), norm) == 0)
                dup = 1;
        if (dup)
            continue;
        APR_ARRAY_PUSH(seen, const char *) = norm;
        out = out ? apr_pstrcat(p, out, "\n", norm, NULL) : norm;
    }
    *normalized = out ? out : "";
    return 0;
}
