/* zxsuite - output value tree: JSON and the Zextras-style indented key/value layout. */
#include "cli.h"

#include <apr_strings.h>
#include <string.h>

ov *ov_new(apr_pool_t *p, ov_kind k)
{
    ov *v = apr_pcalloc(p, sizeof *v);
    v->kind = k;
    if (k == OV_OBJ)
        v->keys = apr_array_make(p, 8, sizeof(const char *));
    if (k == OV_OBJ || k == OV_ARR)
        v->vals = apr_array_make(p, 8, sizeof(ov *));
    return v;
}

ov *ov_str(apr_pool_t *p, const char *s)
{
    ov *v = ov_new(p, s ? OV_STR : OV_RAW);
    v->s = s ? s : "null";
    return v;
}

ov *ov_raw(apr_pool_t *p, const char *s)
{
    ov *v = ov_new(p, OV_RAW);
    v->s = s;
    return v;
}

void ov_set(ov *o, const char *key, ov *val)
{
    APR_ARRAY_PUSH(o->keys, const char *) = key;
    APR_ARRAY_PUSH(o->vals, ov *) = val;
}

void ov_push(ov *a, ov *val)
{
    APR_ARRAY_PUSH(a->vals, ov *) = val;
}

void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        switch (*c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*c < 0x20)
                fprintf(f, "\\u%04x", *c);
            else
                fputc(*c, f);
        }
    }
    fputc('"', f);
}

void ov_print_json(FILE *f, const ov *v)
{
    switch (v->kind) {
    case OV_STR:
        json_str(f, v->s);
        break;
    case OV_RAW:
        fputs(v->s, f);
        break;
    case OV_ARR:
        fputc('[', f);
        for (int i = 0; i < v->vals->nelts; i++) {
            if (i)
                fputc(',', f);
            ov_print_json(f, APR_ARRAY_IDX(v->vals, i, ov *));
        }
        fputc(']', f);
        break;
    case OV_OBJ:
        fputc('{', f);
        for (int i = 0; i < v->keys->nelts; i++) {
            if (i)
                fputc(',', f);
            json_str(f, APR_ARRAY_IDX(v->keys, i, const char *));
            fputc(':', f);
            ov_print_json(f, APR_ARRAY_IDX(v->vals, i, ov *));
        }
        fputc('}', f);
        break;
    }
}

/* The text form prints an unset value (JSON null) as empty. */
static const char *human_value(const ov *v)
{
    return v->kind == OV_RAW && strcmp(v->s, "null") == 0 ? "" : v->s;
}

void ov_print_human(FILE *f, const ov *v, int indent)
{
    if (v->kind == OV_ARR) {
        for (int i = 0; i < v->vals->nelts; i++) {
            const ov *e = APR_ARRAY_IDX(v->vals, i, ov *);
            if (e->kind == OV_OBJ || e->kind == OV_ARR) {
                ov_print_human(f, e, indent);
                if (i + 1 < v->vals->nelts)
                    fputc('\n', f);
            }
            else {
                fprintf(f, "%*s%s\n", indent, "", human_value(e));
            }
        }
        return;
    }
    if (v->kind != OV_OBJ) {
        fprintf(f, "%*s%s\n", indent, "", human_value(v));
        return;
    }
    int width = 0;
    for (int i = 0; i < v->keys->nelts; i++) {
        int n = (int)strlen(APR_ARRAY_IDX(v->keys, i, const char *));
        if (n > width)
            width = n;
    }
    for (int i = 0; i < v->keys->nelts; i++) {
        const char *k = APR_ARRAY_IDX(v->keys, i, const char *);
        const ov *e = APR_ARRAY_IDX(v->vals, i, ov *);
        if (e->kind == OV_OBJ || e->kind == OV_ARR) {
            fprintf(f, "%*s%s\n", indent, "", k);
            ov_print_human(f, e, indent + 8);
        }
        else {
            fprintf(f, "%*s%-*s    %s\n", indent, "", width, k, human_value(e));
        }
    }
}


ov *ov_bool(apr_pool_t *p, int b)
{
    return ov_raw(p, b ? "true" : "false");
}

ov *ov_int(apr_pool_t *p, long long v)
{
    return ov_raw(p, apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)v));
}
