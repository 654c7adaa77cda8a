/* zxmobile - the words of mail for full-text search (store/fts.h, sql/024_search.sql).
 *
 * One tokenizer for documents and queries, independent of any language: the text is
 * NFKD-normalised, combining marks are dropped (accents: "é" is "e") and letters are
 * case-folded (ICU); a word is a run of letters and digits (any script; spacing marks such as
 * Indic vowel signs stay in it); anything else separates words.  Scripts written without
 * spaces between words (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar) have no words to
 * cut: their runs are indexed as overlapping character bigrams, "東京都" as 東京 京都, plus
 * the run's last character alone (都) so that every character begins some lexeme.  A query
 * word of such a script is the phrase of its bigrams (東京都 = 東京 <-> 京都; 京都 is found
 * inside 東京都), a single character a prefix (京:* finds 京都 and 京).  Measured against a
 * trigram ILIKE fallback this keeps one GIN index and exact phrase positions (bench/README).
 *
 * Documents: subject weight A, from B, to and cc C, body D; positions restart 10 apart
 * between fields so that a phrase never spans two; a lexeme is at most 64 characters (longer
 * runs such as base64 are cut); past position 16383 (PostgreSQL's limit) each further
 * distinct body word is recorded once at 16383.  Queries: every word is a prefix
 * ('word':*), a field restriction is a weight ('word':*B). */
#include "fts.h"

#include <zxsync/buf.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uscript.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#define MAX_WORD_CHARS 64
#define MAX_POS 16383
#define FIELD_GAP 10
#define MAX_BODY (512u * 1024u)

typedef void tok_fn(void *ctx, const char *tok, apr_size_t len, int newchunk);

enum { K_NONE = 0, K_WORD = 1, K_NOSPACE = 2 };

static int nospace_script(UChar32 c)
{
    UErrorCode ec = U_ZERO_ERROR;
    UScriptCode s = uscript_getScript(c, &ec);
    if (U_FAILURE(ec))
        return 0;
    switch (s) {
    case USCRIPT_HAN: case USCRIPT_HIRAGANA: case USCRIPT_KATAKANA: case USCRIPT_THAI:
    case USCRIPT_LAO: case USCRIPT_KHMER: case USCRIPT_MYANMAR:
        return 1;
    case USCRIPT_COMMON: case USCRIPT_INHERITED:
        return -1;              /* follows the run it is in (the long vowel mark ー) */
    default:
        return 0;
    }
}

typedef struct {
    tok_fn *emit;
    void *ctx;
    int query;
    int kind;                   /* of the current run */
    char word[MAX_WORD_CHARS * 4 + 4];
    apr_size_t wlen;
    int wchars;
    UChar32 prev;               /* nospace run: its last character, or -1 */
    int runlen;
    int newchunk;               /* whitespace (or the start) before the next token */
} tokstate;

static void put_token(tokstate *t, const char *s, apr_size_t len)
{
    t->emit(t->ctx, s, len, t->newchunk);
    t->newchunk = 0;
}

static apr_size_t utf8_of(char *out, UChar32 a, UChar32 b)
{
    apr_size_t n = 0;
    UBool bad = 0;
    U8_APPEND((uint8_t *)out, n, 8, a, bad);
    if (b >= 0)
        U8_APPEND((uint8_t *)out, n, 8, b, bad);
    (void)bad;
    return n;
}

static void flush(tokstate *t)
{
    if (t->kind == K_WORD && t->wlen)
        put_token(t, t->word, t->wlen);
    else if (t->kind == K_NOSPACE && t->runlen > 0 && (!t->query || t->runlen == 1)) {
        char b[8];
        put_token(t, b, utf8_of(b, t->prev, -1));
    }
    t->kind = K_NONE;
    t->wlen = 0;
    t->wchars = 0;
    t->prev = -1;
    t->runlen = 0;
}

static void tokenize(apr_pool_t *p, const char *s, apr_size_t max, int query, tok_fn *emit,
                     void *ctx)
{
    if (!s || !*s)
        return;
    apr_size_t len = strlen(s);
    if (len > max)
        len = max;
    UErrorCode ec = U_ZERO_ERROR;
    int32_t n16 = 0;
    u_strFromUTF8WithSub(NULL, 0, &n16, s, (int32_t)len, 0xFFFD, NULL, &ec);
    if (ec != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(ec))
        return;
    UChar *u = apr_palloc(p, sizeof(UChar) * ((apr_size_t)n16 + 1));
    ec = U_ZERO_ERROR;
    u_strFromUTF8WithSub(u, n16 + 1, &n16, s, (int32_t)len, 0xFFFD, NULL, &ec);
    if (U_FAILURE(ec))
        return;
    const UNormalizer2 *nfkd = unorm2_getNFKDInstance(&ec);
    if (U_FAILURE(ec))
        return;
    int32_t nn = unorm2_normalize(nfkd, u, n16, NULL, 0, &ec);
    if (ec != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(ec))
        return;
    UChar *v = apr_palloc(p, sizeof(UChar) * ((apr_size_t)nn + 1));
    ec = U_ZERO_ERROR;
    nn = unorm2_normalize(nfkd, u, n16, v, nn + 1, &ec);
    if (U_FAILURE(ec))
        return;
    tokstate t;
    memset(&t, 0, sizeof t);
    t.emit = emit;
    t.ctx = ctx;
    t.query = query;
    t.prev = -1;
    t.newchunk = 1;
    for (int32_t i = 0; i < nn;) {
        UChar32 c;
        U16_NEXT(v, i, nn, c);
        int8_t gc = u_charType(c);
        if (gc == U_NON_SPACING_MARK || gc == U_ENCLOSING_MARK)
            continue;           /* accents: dropped without cutting the word */
        uint32_t m = U_MASK(gc);
        if (!(m & (U_GC_L_MASK | U_GC_ND_MASK | U_GC_NL_MASK | U_GC_NO_MASK | U_GC_MC_MASK))) {
            flush(&t);
            if (u_isUWhiteSpace(c))
                t.newchunk = 1;
            continue;
        }
        c = u_foldCase(c, U_FOLD_CASE_DEFAULT);
        int ns = nospace_script(c);
        int k = ns > 0 ? K_NOSPACE : ns < 0 && t.kind != K_NONE ? t.kind : K_WORD;
        if (k != t.kind)
            flush(&t);
        t.kind = k;
        if (k == K_WORD) {
            if (t.wchars < MAX_WORD_CHARS) {
                t.wlen += utf8_of(t.word + t.wlen, c, -1);
                t.wchars++;
            }
            continue;
        }
        if (t.prev >= 0) {
            char b[8];
            put_token(&t, b, utf8_of(b, t.prev, c));
        }
        t.prev = c;
        t.runlen++;
    }
    flush(&t);
}

/* ---- documents ---------------------------------------------------------------------------- */

typedef struct {
    zx_buf *b;
    apr_pool_t *p;
    int pos;
    char weight;                /* 'A'..'C', 0 for D (the default) */
    apr_hash_t *late;           /* lexemes recorded at MAX_POS */
} vecstate;

static void put_lexeme(zx_buf *b, const char *tok, apr_size_t len)
{
    zx_buf_putc(b, '\'');
    for (apr_size_t i = 0; i < len; i++) {
        if (tok[i] == '\'' || tok[i] == '\\')
            zx_buf_putc(b, tok[i]);
        zx_buf_putc(b, tok[i]);
    }
    zx_buf_putc(b, '\'');
}

static void vec_emit(void *ctx, const char *tok, apr_size_t len, int newchunk)
{
    vecstate *v = ctx;
    (void)newchunk;
    int pos = v->pos < MAX_POS ? ++v->pos : MAX_POS;
    if (pos == MAX_POS) {
        if (!v->late)
            v->late = apr_hash_make(v->p);
        if (apr_hash_get(v->late, tok, (apr_ssize_t)len))
            return;
        apr_hash_set(v->late, apr_pstrmemdup(v->p, tok, len), (apr_ssize_t)len, "");
    }
    put_lexeme(v->b, tok, len);
    if (v->weight)
        zx_buf_printf(v->b, ":%d%c ", pos, v->weight);
    else
        zx_buf_printf(v->b, ":%d ", pos);
}

static void vec_field(apr_pool_t *tmp, vecstate *v, const char *s, char weight, apr_size_t max)
{
    if (!s || !*s)
        return;
    v->weight = weight;
    tokenize(tmp, s, max, 0, vec_emit, v);
    if (v->pos < MAX_POS - FIELD_GAP)
        v->pos += FIELD_GAP;
}

const char *zx_fts_vector(apr_pool_t *p, const char *subject, const char *from, const char *to,
                          const char *cc, const char *body)
{
    apr_pool_t *tmp;
    apr_pool_create(&tmp, p);
    zx_buf b;
    zx_buf_init(&b, tmp, 1024);
    vecstate v = {&b, tmp, 0, 0, NULL};
    vec_field(tmp, &v, subject, 'A', 64 * 1024);
    vec_field(tmp, &v, from, 'B', 64 * 1024);
    vec_field(tmp, &v, to, 'C', 64 * 1024);
    vec_field(tmp, &v, cc, 'C', 64 * 1024);
    vec_field(tmp, &v, body, 0, MAX_BODY);
    zx_buf_putc(&b, '\0');
    const char *out = apr_pstrdup(p, b.data);
    apr_pool_destroy(tmp);
    return out;
}

/* ---- queries ------------------------------------------------------------------------------ */

typedef struct {
    const char *tok;
    int newchunk;
} qtok;

static void q_emit(void *ctx, const char *tok, apr_size_t len, int newchunk)
{
    apr_array_header_t *a = ctx;
    qtok *q = apr_array_push(a);
    q->tok = apr_pstrmemdup(a->pool, tok, len);
    q->newchunk = newchunk;
}

static const char *weights(apr_pool_t *p, int fields)
{
    if (!fields || (fields & 31) == 31)
        return "";
    return apr_pstrcat(p, fields & ZX_SEARCH_SUBJECT ? "A" : "", fields & ZX_SEARCH_FROM ? "B" : "",
                       fields & (ZX_SEARCH_TO | ZX_SEARCH_CC) ? "C" : "",
                       fields & ZX_SEARCH_BODY ? "D" : "", NULL);
}

static const char *text_query(apr_pool_t *p, const zx_search_node *n, int *words)
{
    apr_array_header_t *toks = apr_array_make(p, 8, sizeof(qtok));
    tokenize(p, n->text, 4096, 1, q_emit, toks);
    if (toks->nelts == 0)
        return NULL;
    *words += toks->nelts;
    const char *w = weights(p, n->fields);
    zx_buf b;
    zx_buf_init(&b, p, 64);
    zx_buf_putc(&b, '(');
    for (int i = 0; i < toks->nelts; i++) {
        const qtok *q = &APR_ARRAY_IDX(toks, i, qtok);
        int last = i + 1 == toks->nelts ||
                   (!n->phrase && APR_ARRAY_IDX(toks, i + 1, qtok).newchunk);
        if (i > 0)
            zx_buf_puts(&b, q->newchunk && !n->phrase ? ") & (" : " <-> ");
        put_lexeme(&b, q->tok, strlen(q->tok));
        if (last)
            zx_buf_printf(&b, ":*%s", w);
        else if (*w)
            zx_buf_printf(&b, ":%s", w);
    }
    zx_buf_putc(&b, ')');
    zx_buf_putc(&b, '\0');
    return b.data;
}

/* An OR's field term whose text the OR also has as a term of every field (iOS:
 * to:"x" OR cc:"x" OR from:"x" OR subject:"x" OR "x" is "x"): left out, the query is cheaper to
 * check (no weights) and finds the same. */
static int subsumed(const zx_search_node *or, const zx_search_node *kid)
{
    if (!kid || kid->kind != ZX_SEARCH_TEXT || !kid->fields || !kid->text)
        return 0;
    for (int i = 0; i < or->kids->nelts; i++) {
        const zx_search_node *o = APR_ARRAY_IDX(or->kids, i, const zx_search_node *);
        if (o && o != kid && o->kind == ZX_SEARCH_TEXT && !o->fields && o->text &&
            o->phrase == kid->phrase && strcmp(o->text, kid->text) == 0)
            return 1;
    }
    return 0;
}

static const char *node_query(apr_pool_t *p, const zx_search_node *n, int *words, int depth)
{
    if (!n || depth > 32)
        return NULL;
    if (n->kind == ZX_SEARCH_TEXT)
        return text_query(p, n, words);
    const char *out = NULL;
    for (int i = 0; n->kids && i < n->kids->nelts; i++) {
        const zx_search_node *kid = APR_ARRAY_IDX(n->kids, i, const zx_search_node *);
        if (n->kind == ZX_SEARCH_OR && subsumed(n, kid))
            continue;
        const char *k = node_query(p, kid, words, depth + 1);
        if (!k)
            continue;
        out = out ? apr_pstrcat(p, out, n->kind == ZX_SEARCH_OR ? " | " : " & ", k, NULL) : k;
    }
    return out ? apr_pstrcat(p, "(", out, ")", NULL) : NULL;
}

const char *zx_fts_query(apr_pool_t *p, const zx_search_node *n, int *words)
{
    *words = 0;
    return node_query(p, n, words, 0);
}
