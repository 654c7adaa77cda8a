/* zxmobile - the FreeText syntax of Search and Find (search.h) and the LongId of results. */
#include "search.h"

#include <apr_strings.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#define MAX_DEPTH 16
#define MAX_TERMS 256         /* beyond: cut (the store refuses more than ZX_SEARCH_MAX_WORDS) */

typedef struct {
    apr_pool_t *p;
    const char *s;
    int terms;
} parser;

static void skip_space(parser *ps)
{
    while (*ps->s && isspace((unsigned char)*ps->s))
        ps->s++;
}

static int keyword(parser *ps, const char *kw)
{
    size_t n = strlen(kw);
    if (strncmp(ps->s, kw, n) != 0)
        return 0;
    char c = ps->s[n];
    if (c && !isspace((unsigned char)c) && c != '(' && c != '"')
        return 0;
    ps->s += n;
    return 1;
}

static int field_of(const char *name, size_t n)
{
    static const struct { const char *name; int f; } fields[] = {
        {"to", ZX_SEARCH_TO}, {"cc", ZX_SEARCH_CC}, {"bcc", ZX_SEARCH_TO},
        {"from", ZX_SEARCH_FROM}, {"subject", ZX_SEARCH_SUBJECT}, {"body", ZX_SEARCH_BODY},
        {"participants", ZX_SEARCH_FROM | ZX_SEARCH_TO | ZX_SEARCH_CC},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (strlen(fields[i].name) == n && strncasecmp(fields[i].name, name, n) == 0)
            return fields[i].f;
    return 0;
}

static zx_search_node *new_node(apr_pool_t *p, zx_search_kind k)
{
    zx_search_node *n = apr_pcalloc(p, sizeof *n);
    n->kind = k;
    if (k != ZX_SEARCH_TEXT)
        n->kids = apr_array_make(p, 4, sizeof(zx_search_node *));
    return n;
}

static zx_search_node *parse_or(parser *ps, int depth);

/* a term: (group) | [field:]"phrase" | [field:]word */
static zx_search_node *parse_term(parser *ps, int depth)
{
    skip_space(ps);
    if (*ps->s == '(') {
        ps->s++;
        zx_search_node *n = depth < MAX_DEPTH ? parse_or(ps, depth + 1) : NULL;
        skip_space(ps);
        if (*ps->s == ')')
            ps->s++;
        return n;
    }
    int fields = 0;
    const char *c = ps->s;
    while (*c && isalpha((unsigned char)*c))
        c++;
    if (*c == ':' && c > ps->s && (fields = field_of(ps->s, (size_t)(c - ps->s))) != 0)
        ps->s = c + 1;
    zx_search_node *n = new_node(ps->p, ZX_SEARCH_TEXT);
    n->fields = fields;
    if (*ps->s == '"') {
        const char *start = ++ps->s;
        while (*ps->s && *ps->s != '"')
            ps->s++;
        n->text = apr_pstrmemdup(ps->p, start, (apr_size_t)(ps->s - start));
        n->phrase = 1;
        if (*ps->s == '"')
            ps->s++;
    }
    else {
        const char *start = ps->s;
        while (*ps->s && !isspace((unsigned char)*ps->s) && *ps->s != '(' && *ps->s != ')' &&
               *ps->s != '"')
            ps->s++;
        n->text = apr_pstrmemdup(ps->p, start, (apr_size_t)(ps->s - start));
    }
    if (!*n->text)
        return NULL;
    ps->terms++;
    return n;
}

static zx_search_node *join(parser *ps, zx_search_kind k, zx_search_node *a, zx_search_node *b)
{
    if (!a)
        return b;
    if (!b)
        return a;
    if (a->kind == k) {
        APR_ARRAY_PUSH(a->kids, zx_search_node *) = b;
        return a;
    }
    zx_search_node *n = new_node(ps->p, k);
    APR_ARRAY_PUSH(n->kids, zx_search_node *) = a;
    APR_ARRAY_PUSH(n->kids, zx_search_node *) = b;
    return n;
}

static int at_end(parser *ps)
{
    skip_space(ps);
    return !*ps->s || *ps->s == ')' || ps->terms >= MAX_TERMS;
}

static zx_search_node *parse_and(parser *ps, int depth)
{
    zx_search_node *n = NULL;
    while (!at_end(ps)) {
        if (keyword(ps, "OR")) {
            ps->s -= 2;         /* the caller's */
            break;
        }
        if (keyword(ps, "AND"))
            continue;
        const char *before = ps->s;
        n = join(ps, ZX_SEARCH_AND, n, parse_term(ps, depth));
        if (ps->s == before)
            ps->s++;            /* a stray character: skipped */
    }
    return n;
}

static zx_search_node *parse_or(parser *ps, int depth)
{
    zx_search_node *n = parse_and(ps, depth);
    while (!at_end(ps) && keyword(ps, "OR"))
        n = join(ps, ZX_SEARCH_OR, n, parse_and(ps, depth));
    return n;
}

zx_search_node *zx_search_parse_freetext(apr_pool_t *p, const char *text)
{
    if (!text)
        return NULL;
    parser ps = {p, text, 0};
    zx_search_node *n = NULL;
    while (*ps.s && ps.terms < MAX_TERMS) {
        n = join(&ps, ZX_SEARCH_AND, n, parse_or(&ps, 0));
        skip_space(&ps);
        if (*ps.s == ')')
            ps.s++;             /* unbalanced: ignored */
    }
    return n;
}

/* ---- LongId ------------------------------------------------------------------------------- */

const char *zx_search_longid_of(apr_pool_t *p, const zx_item *item)
{
    return apr_pstrdup(p, item->id);
}

int zx_search_longid_item(zx_store *st, const char *long_id, zx_item **out, const char **err)
{
    *out = NULL;
    size_t n = long_id ? strlen(long_id) : 0;
    if (n < 1 || n > 18)
        return ZX_STORE_NOT_FOUND;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)long_id[i]))
            return ZX_STORE_NOT_FOUND;
    zx_item *it = NULL;
    int rc = zx_store_item_get(st, long_id, &it, err);
    if (rc != ZX_STORE_OK)
        return rc;
    if (!it || it->deleted)
        return ZX_STORE_NOT_FOUND;
    *out = it;
    return ZX_STORE_OK;
}
