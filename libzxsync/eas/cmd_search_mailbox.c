/* zxmobile - Search Store=Mailbox ([MS-ASCMD] 2.2.1.16, 2.2.3.139.2 Query).
 *
 * Query: one And, Or, FreeText, EqualTo, GreaterThan or LessThan element (And and Or nest);
 *   FreeText       the search syntax of search.h (words, "phrases", field:term, OR, AND, ())
 *   airsync:Class  Email (the only class whose items are indexed; another class finds nothing)
 *   airsync:CollectionId  a folder (several: any of them); none = every mail folder
 *   ConversationId the items of one conversation
 *   GreaterThan / LessThan  email:DateReceived and a Value (dateTime): received after/before
 *   EqualTo        email:Subject, email:From, email:To, email:Cc and a Value: that phrase in
 *                  that field
 *   Restrictions (Class, CollectionId, dates, ConversationId) apply to the whole query wherever
 *   they stand; FreeText and EqualTo follow the And/Or structure.
 * Options: Range "m-n" (at most MAX_RESULTS results a request, default 0-99), DeepTraversal
 *   (subfolders of the CollectionIds too), RebuildResults (results are never cached: every
 *   Search is run afresh), airsyncbase:BodyPreference / BodyPartPreference, MIMESupport (the
 *   Email class renders the Properties as ItemOperations Fetch would).
 * Response: Store Status, a Result per item (airsync:Class, LongId, airsync:CollectionId,
 *   Properties) newest first, Range, Total; no match: one empty Result and Total 0.
 * Store Status: 2 the query failed to validate, 3 server error, 8 more than
 *   ZX_SEARCH_MAX_WORDS words.  The LongId is the item id (search.h). */
#include "search.h"
#include "class/class.h"
#include "reqstore.h"

#include <zxsync/log.h>

#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RESULTS 100
#define MAX_NODES 256

typedef struct {
    apr_pool_t *p;
    apr_array_header_t *folders;
    int email, other;           /* Class restrictions seen */
    apr_time_t after, before;
    const unsigned char *conv;
    int nodes;
    const char *why;            /* set: the query failed to validate */
} qstate;

static int date_bound(qstate *q, const zx_wb_node *n, apr_time_t *t)
{
    const char *v = zx_wb_child_text(q->p, n, ZX_Search_Value);
    if (!zx_wb_child(n, ZX_Email_DateReceived) || !v || zx_eas_parse_date(v, t) < 0) {
        q->why = "GreaterThan/LessThan without email:DateReceived and a date Value";
        return -1;
    }
    return 0;
}

static zx_search_node *text_node(apr_pool_t *p, const char *text, int fields, int phrase)
{
    zx_search_node *n = apr_pcalloc(p, sizeof *n);
    n->kind = ZX_SEARCH_TEXT;
    n->text = text;
    n->fields = fields;
    n->phrase = phrase;
    return n;
}

/* The condition of element n (NULL: none, a restriction only); q->why on a bad element. */
static zx_search_node *walk(qstate *q, const zx_wb_node *n, int depth)
{
    if (++q->nodes > MAX_NODES || depth > 16) {
        q->why = "query too large";
        return NULL;
    }
    switch (n->tag) {
    case ZX_Search_And:
    case ZX_Search_Or: {
        zx_search_node *c = apr_pcalloc(q->p, sizeof *c);
        c->kind = n->tag == ZX_Search_And ? ZX_SEARCH_AND : ZX_SEARCH_OR;
        c->kids = apr_array_make(q->p, 4, sizeof(zx_search_node *));
        for (const zx_wb_node *k = n->first; k && !q->why; k = k->next) {
            if (k->kind != ZX_WB_ELEMENT)
                continue;
            zx_search_node *kn = walk(q, k, depth + 1);
            if (kn)
                APR_ARRAY_PUSH(c->kids, zx_search_node *) = kn;
        }
        return c->kids->nelts ? c : NULL;
    }
    case ZX_Search_FreeText: {
        const char *t = zx_wb_text(q->p, n);
        return zx_search_parse_freetext(q->p, t ? t : "");
    }
    case ZX_AirSync_Class: {
        const char *c = zx_wb_text(q->p, n);
        if (c && strcmp(c, "Email") == 0)
            q->email = 1;
        else
            q->other = 1;
        return NULL;
    }
    case ZX_AirSync_CollectionId: {
        const char *c = zx_wb_text(q->p, n);
        if (!c || !*c)
            q->why = "empty CollectionId";
        else
            APR_ARRAY_PUSH(q->folders, const char *) = c;
        return NULL;
    }
    case ZX_Search_ConversationId:
        if (!(q->conv = zx_eas_conversation_id(q->p, n)))
            q->why = "ConversationId is not 16 bytes";
        return NULL;
    case ZX_Search_GreaterThan: {
        apr_time_t t;
        if (date_bound(q, n, &t) == 0 && (!q->after || t > q->after))
            q->after = t;
        return NULL;
    }
    case ZX_Search_LessThan: {
        apr_time_t t;
        if (date_bound(q, n, &t) == 0 && (!q->before || t < q->before))
            q->before = t;
        return NULL;
    }
    case ZX_Search_EqualTo: {
        const char *v = zx_wb_child_text(q->p, n, ZX_Search_Value);
        int fields = zx_wb_child(n, ZX_Email_Subject) ? ZX_SEARCH_SUBJECT :
                     zx_wb_child(n, ZX_Email_From) ? ZX_SEARCH_FROM :
                     zx_wb_child(n, ZX_Email_To) ? ZX_SEARCH_TO :
                     zx_wb_child(n, ZX_Email_Cc) ? ZX_SEARCH_CC : 0;
        if (!v || !fields) {
            q->why = "EqualTo without a searchable property and a Value";
            return NULL;
        }
        return text_node(q->p, v, fields, 1);
    }
    default:
        q->why = "unknown element in Query";
        return NULL;
    }
}

/* Range "m-n" */
static int parse_range(const char *s, int *from, int *to)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return -1;
    long a = strtol(s, &end, 10);
    if (*end != '-' || end[1] < '0' || end[1] > '9')
        return -1;
    long b = strtol(end + 1, &end, 10);
    if (*end || a > b || b > 100000000L)
        return -1;
    *from = (int)a;
    *to = (int)b;
    return 0;
}

static int store_status(apr_pool_t *p, zx_wb_node *st, int status)
{
    zx_wb_add_textf(p, st, ZX_Search_Status, "%d", status);
    return ZX_SEARCH_OK;
}

int zx_search_mailbox(const zx_server *srv, zx_request *req, const zx_wb_node *store,
                      zx_wb_node *response)
{
    apr_pool_t *p = req->pool;
    const char *err = NULL;
    zx_wb_node *out = response;         /* the response's Store, made by the dispatcher */
    qstate q = {p, apr_array_make(p, 2, sizeof(const char *)), 0, 0, 0, 0, NULL, 0, NULL};
    const zx_wb_node *query = zx_wb_child(store, ZX_Search_Query);
    const zx_wb_node *cond = NULL;
    int nq = 0;
    for (const zx_wb_node *k = query ? query->first : NULL; k; k = k->next)
        if (k->kind == ZX_WB_ELEMENT) {
            cond = k;
            nq++;
        }
    zx_search_query sq;
    memset(&sq, 0, sizeof sq);
    if (nq != 1)
        q.why = "Query without exactly one element";
    else
        sq.text = walk(&q, cond, 0);
    /* Options */
    const zx_wb_node *opt = zx_wb_child(store, ZX_Search_Options);
    int from = 0, to = MAX_RESULTS - 1;
    const char *range = opt ? zx_wb_child_text(p, opt, ZX_Search_Range) : NULL;
    if (range && parse_range(range, &from, &to) < 0)
        q.why = "malformed Range";
    const zx_item_class *cls = zx_class_of("Email");
    zx_class_opts ro;
    if (cls->parse_options(p, opt, req->proto, &ro) < 0)
        q.why = "invalid body preferences";
    if (q.why) {
        zx_log(req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02501) "Search Mailbox: %s", q.why);
        return store_status(p, out, ZX_SEARCH_INVALID_REQUEST);
    }
    if (to - from + 1 > MAX_RESULTS)
        to = from + MAX_RESULTS - 1;
    sq.folders = q.folders->nelts ? q.folders : NULL;
    sq.deep = opt && zx_wb_child(opt, ZX_Search_DeepTraversal) != NULL;
    sq.after = q.after;
    sq.before = q.before;
    sq.conversation_id = q.conv;
    sq.offset = from;
    sq.limit = to - from + 1;

    apr_array_header_t *items = NULL;
    long long total = 0;
    zx_db *db = NULL;
    if (q.other && !q.email)
        items = apr_array_make(p, 1, sizeof(zx_item *));    /* only Email is indexed */
    else if (!(db = zx_request_db(srv, req, &err))) {
        zx_log(req->log_ctx, ZX_LOG_ERR, ZXLOGNO(02502) "Search Mailbox without a database: %s",
               err ? err : "?");
        store_status(p, out, ZX_SEARCH_SERVER_ERROR);
        return ZX_SEARCH_SERVER_ERROR;
    }
    zx_store *st = db ? zx_request_store(p, db, req) : NULL;
    if (st) {
        int rc = zx_store_search_mail(st, &sq, &items, &total, &err);
        if (rc == ZX_STORE_INVALID) {
            zx_log(req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02503) "Search Mailbox: more than %d words",
                   ZX_SEARCH_MAX_WORDS);
            return store_status(p, out, ZX_SEARCH_TOO_COMPLEX);
        }
        if (rc != ZX_STORE_OK) {
            zx_log(req->log_ctx, ZX_LOG_ERR, ZXLOGNO(02504) "Search Mailbox: %s", err ? err : "?");
            store_status(p, out, ZX_SEARCH_SERVER_ERROR);
            return ZX_SEARCH_SERVER_ERROR;
        }
    }
    /* the bodies of every result in one round trip, then each rendered as a Fetch would */
    if (items->nelts) {
        zx_content_want want;
        cls->content_want(&ro, &want);
        if (zx_store_item_contents(st, items, &want, &err) < 0) {
            zx_log(req->log_ctx, ZX_LOG_ERR, ZXLOGNO(02505) "Search Mailbox: %s", err);
            store_status(p, out, ZX_SEARCH_SERVER_ERROR);
            return ZX_SEARCH_SERVER_ERROR;
        }
    }
    zx_wb_add_textf(p, out, ZX_Search_Status, "%d", ZX_SEARCH_OK);
    for (int i = 0; i < items->nelts; i++) {
        const zx_item *it = APR_ARRAY_IDX(items, i, zx_item *);
        zx_wb_node *props = zx_wb_new(p, ZX_Search_Properties);
        apr_array_header_t *blobs = NULL;
        if (cls->render(p, st, it, &ro, props, &blobs, &err) < 0) {
            zx_log(req->log_ctx, ZX_LOG_ERR, ZXLOGNO(02506) "Search Mailbox: item %s: %s", it->id,
                   err ? err : "?");
            continue;
        }
        zx_wb_node *r = zx_wb_add(p, out, ZX_Search_Result);
        zx_wb_add_text(p, r, ZX_AirSync_Class, "Email");
        zx_wb_add_text(p, r, ZX_Search_LongId, zx_search_longid_of(p, it));
        zx_wb_add_text(p, r, ZX_AirSync_CollectionId, it->folder_id);
        zx_wb_append(r, props);
    }
    if (items->nelts)
        zx_wb_add_textf(p, out, ZX_Search_Range, "%d-%d", from, from + items->nelts - 1);
    else
        zx_wb_add(p, out, ZX_Search_Result);
    zx_wb_add_textf(p, out, ZX_Search_Total, "%" APR_INT64_T_FMT, (apr_int64_t)total);
    return ZX_SEARCH_OK;
}
