/* zxmobile - ResolveRecipients ([MS-ASCMD] 2.2.1.15): each To looked up in the account's
 * domain's GAL (zxsync/gal.h: an address or alias exactly, else a prefix of names and
 * addresses; not when the account's zimbraPrefGalAutoCompleteEnabled is FALSE) and in the
 * account's Contacts (zx_store_contacts_match), GAL entries first, each address once.  Response Status: 1 one recipient, 2 ambiguous with every suggestion,
 * 3 ambiguous with MaxAmbiguousRecipients of them (default and cap 100), 4 none.
 *
 * Options: CertificateRetrieval 2 (the full certificates: userSMIMECertificate, then
 * userCertificate) or 3 (mini certificates: the first certificate, as no mini form is stored),
 * MaxCertificates over the whole response (Status 8 with CertificateCount = what was left
 * out); Picture (14.1+, MaxSize, MaxPictures per To: Status 1, 173, 174, 175 as Search);
 * Availability (14.0+): MergedFreeBusy from the recipient account's calendar
 * (zx_meeting_freebusy), one digit per 30 minutes from StartTime ([MS-ASCMD] 2.2.3.107: 0 free,
 * 1 tentative, 2 busy, 3 out of office, 4 no data; the highest digit of a slot wins; BusyStatus
 * 4 "working elsewhere" counts as tentative); a contact, not an account here, is all "no data";
 * at most 32768 slots (the element's 32 KB), a longer window is a protocol error (Status 5).
 * Certificates and Picture go with a resolved recipient (Status 1) and with the suggestions of
 * an ambiguous one alike, Availability with a resolved one only. */
#include "handlers.h"
#include "search.h"

#include <zxsync/gal.h>
#include <zxsync/log.h>
#include <zxsync/meeting.h>
#include <zxsync/pimconv.h>
#include <zxsync/store.h>

#include "reqstore.h"

#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* [MS-ASCMD] 2.2.3.177.12 Status (ResolveRecipients) */
enum { RR_OK = 1, RR_PROTOCOL_ERROR = 5, RR_SERVER_ERROR = 6 };
enum { RESP_RESOLVED = 1, RESP_AMBIGUOUS = 2, RESP_AMBIGUOUS_PARTIAL = 3, RESP_UNRESOLVED = 4 };
enum { CERT_OK = 1, CERT_NONE = 7, CERT_LIMIT = 8 };
enum { AVAIL_OK = 1, AVAIL_UNAVAILABLE = 162 };
#define SLOT APR_TIME_C(1800000000)       /* 30 minutes */
#define MAX_SLOTS 32768
enum { PIC_OK = 1, PIC_NONE = 173, PIC_TOO_LARGE = 174, PIC_LIMIT = 175 };

#define RR_MAX_TO 100
#define RR_MAX_TO_LEN 256
#define RR_MAX_AMBIGUOUS 100

typedef struct {
    int type;                   /* 1 GAL, 2 contact */
    const char *account_id;     /* GAL: the account */
    const char *display_name, *email;
    const char *photo;          /* base64 */
    apr_size_t photo_len;
    const apr_array_header_t *certs;
} recipient;

typedef struct {
    int cert_mode;              /* 0 none, 2 full, 3 mini */
    long max_certs;             /* -1: no limit */
    long certs_sent;
    int availability;
    apr_time_t start, end;      /* Availability window */
    zx_request *req;
    zx_db *db;
    const zx_wb_node *picture;
    long max_size, max_pictures;
} rr_options;

static long opt_long(apr_pool_t *p, const zx_wb_node *n, unsigned tag, long def, int *bad)
{
    const char *s = n ? zx_wb_child_text(p, n, tag) : NULL;
    if (!s)
        return def;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || end == s || v < 0 || v > 9999999)
        *bad = 1;
    return v;
}

static int add_recipient(apr_array_header_t *list, apr_hash_t *seen, recipient *r)
{
    const char *key = apr_pstrdup(list->pool, r->email);
    for (char *c = (char *)key; *c; c++)
        *c = (char)((*c >= 'A' && *c <= 'Z') ? *c + 32 : *c);
    if (apr_hash_get(seen, key, APR_HASH_KEY_STRING))
        return 0;
    apr_hash_set(seen, key, APR_HASH_KEY_STRING, r);
    APR_ARRAY_PUSH(list, recipient *) = r;
    return 1;
}

/* MergedFreeBusy of account_id (NULL: all "no data"), NULL when free/busy cannot be read */
static const char *merged_freebusy(apr_pool_t *p, rr_options *o, const char *account_id)
{
    int n = (int)((o->end - o->start + SLOT - 1) / SLOT);
    char *s = apr_palloc(p, (apr_size_t)n + 1);
    memset(s, account_id ? '0' : '4', (apr_size_t)n);
    s[n] = '\0';
    if (!account_id)
        return s;
    apr_array_header_t *busy;
    const char *err = NULL;
    if (zx_meeting_freebusy(zx_store_open(p, o->db, account_id), o->start, o->end, &busy,
                            &err) < 0) {
        zx_log(o->req->log_ctx, ZX_LOG_ERR, ZXLOGNO(02413) "ResolveRecipients: free/busy of "
               "account %s: %s", account_id, err ? err : "");
        return NULL;
    }
    for (int i = 0; i < busy->nelts; i++) {
        const zx_meeting_busy *b = &APR_ARRAY_IDX(busy, i, zx_meeting_busy);
        char d = b->busy_status == 2 ? '2' : b->busy_status == 3 ? '3'
                 : b->busy_status == 1 || b->busy_status == 4 ? '1' : '0';
        apr_time_t from = b->start > o->start ? b->start : o->start;
        apr_time_t to = b->end < o->end ? b->end : o->end;
        for (apr_int64_t k = (from - o->start) / SLOT; k < n && o->start + k * SLOT < to; k++)
            if (s[k] < d)
                s[k] = d;
    }
    return s;
}

static void put_recipient(apr_pool_t *p, zx_wb_node *resp, const recipient *r, rr_options *o,
                          int resolved, long *pictures)
{
    zx_wb_node *n = zx_wb_add(p, resp, ZX_ResolveRecipients_Recipient);
    zx_wb_add_textf(p, n, ZX_ResolveRecipients_Type, "%d", r->type);
    zx_wb_add_text(p, n, ZX_ResolveRecipients_DisplayName,
                   r->display_name ? r->display_name : r->email);
    zx_wb_add_text(p, n, ZX_ResolveRecipients_EmailAddress, r->email);
    if (o->availability && resolved) {
        zx_wb_node *a = zx_wb_add(p, n, ZX_ResolveRecipients_Availability);
        const char *fb = merged_freebusy(p, o, r->type == 1 ? r->account_id : NULL);
        zx_wb_add_textf(p, a, ZX_ResolveRecipients_Status, "%d", fb ? AVAIL_OK : AVAIL_UNAVAILABLE);
        if (fb)
            zx_wb_add_text(p, a, ZX_ResolveRecipients_MergedFreeBusy, fb);
    }
    if (o->cert_mode) {
        zx_wb_node *c = zx_wb_add(p, n, ZX_ResolveRecipients_Certificates);
        int have = r->certs ? r->certs->nelts : 0;
        int send = o->cert_mode == 3 && have ? 1 : have;
        if (have == 0) {
            zx_wb_add_textf(p, c, ZX_ResolveRecipients_Status, "%d", CERT_NONE);
            zx_wb_add_text(p, c, ZX_ResolveRecipients_CertificateCount, "0");
        }
        else if (o->max_certs >= 0 && o->certs_sent + send > o->max_certs) {
            zx_wb_add_textf(p, c, ZX_ResolveRecipients_Status, "%d", CERT_LIMIT);
            zx_wb_add_textf(p, c, ZX_ResolveRecipients_CertificateCount, "%d", send);
        }
        else {
            zx_wb_add_textf(p, c, ZX_ResolveRecipients_Status, "%d", CERT_OK);
            zx_wb_add_textf(p, c, ZX_ResolveRecipients_CertificateCount, "%d", send);
            for (int i = 0; i < send; i++)
                zx_wb_add_text(p, c, o->cert_mode == 3 ? ZX_ResolveRecipients_MiniCertificate
                                                       : ZX_ResolveRecipients_Certificate,
                               APR_ARRAY_IDX(r->certs, i, const char *));
            o->certs_sent += send;
        }
    }
    if (o->picture) {
        zx_wb_node *pn = zx_wb_add(p, n, ZX_ResolveRecipients_Picture);
        int st = !r->photo ? PIC_NONE
                 : o->max_size >= 0 && (long)r->photo_len > o->max_size ? PIC_TOO_LARGE
                 : o->max_pictures >= 0 && *pictures >= o->max_pictures ? PIC_LIMIT : PIC_OK;
        zx_wb_add_textf(p, pn, ZX_ResolveRecipients_Status, "%d", st);
        if (st == PIC_OK) {
            zx_wb_add_text(p, pn, ZX_ResolveRecipients_Data, r->photo);
            (*pictures)++;
        }
    }
}

static void fail(zx_request *req, zx_response *resp, int status)
{
    zx_wb_node *root = zx_wb_new(req->pool, ZX_ResolveRecipients_ResolveRecipients);
    zx_wb_add_textf(req->pool, root, ZX_ResolveRecipients_Status, "%d", status);
    zx_respond_wbxml(req, resp, root);
}

void zx_cmd_resolverecipients(const zx_server *srv, zx_request *req, zx_response *resp)
{
    apr_pool_t *p = req->pool;
    const char *err = NULL;
    const zx_wb_node *opts = zx_wb_child(req->doc, ZX_ResolveRecipients_Options);
    rr_options o = {0};
    o.max_certs = o.max_size = o.max_pictures = -1;
    o.req = req;
    int bad = 0, n_to = 0;
    long cr = opt_long(p, opts, ZX_ResolveRecipients_CertificateRetrieval, 1, &bad);
    o.cert_mode = cr == 2 || cr == 3 ? (int)cr : 0;
    if (cr < 1 || cr > 3)
        bad = 1;
    o.max_certs = opt_long(p, opts, ZX_ResolveRecipients_MaxCertificates, -1, &bad);
    long max_amb = opt_long(p, opts, ZX_ResolveRecipients_MaxAmbiguousRecipients,
                            RR_MAX_AMBIGUOUS, &bad);
    if (max_amb > RR_MAX_AMBIGUOUS)
        max_amb = RR_MAX_AMBIGUOUS;
    const zx_wb_node *av = opts ? zx_wb_child(opts, ZX_ResolveRecipients_Availability) : NULL;
    if (av && req->proto >= 140) {
        const char *st = zx_wb_child_text(p, av, ZX_ResolveRecipients_StartTime);
        const char *et = zx_wb_child_text(p, av, ZX_ResolveRecipients_EndTime);
        if (!st || !et || zx_pimconv_parse_time(st, &o.start) < 0 ||
            zx_pimconv_parse_time(et, &o.end) < 0 || o.end <= o.start ||
            (o.end - o.start) / SLOT >= MAX_SLOTS)
            bad = 1;
        o.availability = 1;
    }
    o.picture = opts && req->proto >= 141 ? zx_wb_child(opts, ZX_ResolveRecipients_Picture)
                                          : NULL;
    o.max_size = opt_long(p, o.picture, ZX_ResolveRecipients_MaxSize, -1, &bad);
    o.max_pictures = opt_long(p, o.picture, ZX_ResolveRecipients_MaxPictures, -1, &bad);
    for (const zx_wb_node *t = zx_wb_child(req->doc, ZX_ResolveRecipients_To); t;
         t = zx_wb_next(t, ZX_ResolveRecipients_To)) {
        const char *s = zx_wb_text(p, t);
        if (!s || !*s || strlen(s) > RR_MAX_TO_LEN)
            bad = 1;
        n_to++;
    }
    if (bad || n_to == 0 || n_to > RR_MAX_TO) {
        zx_log(req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02410) "ResolveRecipients: invalid request "
               "(%d To)", n_to);
        fail(req, resp, RR_PROTOCOL_ERROR);
        return;
    }
    zx_db *db = zx_request_db(srv, req, &err);
    if (!db) {
        zx_log(req->log_ctx, ZX_LOG_ERR, ZXLOGNO(02411) "ResolveRecipients without a "
               "database: %s", err ? err : "");
        fail(req, resp, RR_SERVER_ERROR);
        return;
    }
    o.db = db;
    int gal_on = zx_search_gal_enabled(srv, req, db);
    if (gal_on < 0) {
        fail(req, resp, RR_SERVER_ERROR);
        return;
    }
    zx_store *store = zx_request_store(p, db, req);
    unsigned want = (o.picture ? ZX_GAL_WANT_PHOTO : 0) | (o.cert_mode ? ZX_GAL_WANT_CERTS : 0);
    zx_wb_node *root = zx_wb_new(p, ZX_ResolveRecipients_ResolveRecipients);
    zx_wb_add_textf(p, root, ZX_ResolveRecipients_Status, "%d", RR_OK);
    for (const zx_wb_node *t = zx_wb_child(req->doc, ZX_ResolveRecipients_To); t;
         t = zx_wb_next(t, ZX_ResolveRecipients_To)) {
        const char *to = zx_wb_text(p, t);
        apr_array_header_t *gal, *contacts;
        int total;
        gal = apr_array_make(p, 1, sizeof(zx_gal_entry *));
        total = 0;
        if ((gal_on && zx_gal_resolve(p, db, req->account.domain_id, to, (int)max_amb + 1,
                                      want, &gal, &total, &err) < 0) ||
            zx_store_contacts_match(store, to, (int)max_amb + 1, &contacts, &err) < 0) {
            zx_log(req->log_ctx, ZX_LOG_ERR, ZXLOGNO(02412) "ResolveRecipients for %s "
                   "failed: %s", req->account.name, err ? err : "");
            fail(req, resp, RR_SERVER_ERROR);
            return;
        }
        apr_array_header_t *list = apr_array_make(p, 4, sizeof(recipient *));
        apr_hash_t *seen = apr_hash_make(p);
        int exact = 0;          /* an address was asked for and found */
        for (int i = 0; i < gal->nelts; i++) {
            const zx_gal_entry *g = APR_ARRAY_IDX(gal, i, zx_gal_entry *);
            recipient *r = apr_pcalloc(p, sizeof *r);
            *r = (recipient){1, g->account_id, g->display_name, g->email, g->photo,
                             g->photo_len, g->certs};
            add_recipient(list, seen, r);
        }
        if (gal->nelts == 1 && total == 1 && strchr(to, '@'))
            exact = 1;          /* zx_gal_resolve: an address of the GAL */
        for (int i = 0; i < contacts->nelts && !exact; i++) {
            const zx_contact_match *c = APR_ARRAY_IDX(contacts, i, zx_contact_match *);
            recipient *r = apr_pcalloc(p, sizeof *r);
            *r = (recipient){2, NULL, c->display_name, c->email, NULL, 0, NULL};
            if (c->exact) {     /* the contact's address itself: that one only */
                apr_array_clear(list);
                APR_ARRAY_PUSH(list, recipient *) = r;
                exact = 1;
                total = 0;
                break;
            }
            total += add_recipient(list, seen, r);
        }
        if (exact)
            total = list->nelts;
        int shown = list->nelts < max_amb ? list->nelts : (int)max_amb;
        int status = total == 0 ? RESP_UNRESOLVED
                     : total == 1 ? RESP_RESOLVED
                     : total > shown ? RESP_AMBIGUOUS_PARTIAL : RESP_AMBIGUOUS;
        if (status == RESP_RESOLVED)
            shown = 1;
        zx_wb_node *rn = zx_wb_add(p, root, ZX_ResolveRecipients_Response);
        zx_wb_add_text(p, rn, ZX_ResolveRecipients_To, to);
        zx_wb_add_textf(p, rn, ZX_ResolveRecipients_Status, "%d", status);
        if (status == RESP_UNRESOLVED)
            continue;
        zx_wb_add_textf(p, rn, ZX_ResolveRecipients_RecipientCount, "%d", shown);
        long pictures = 0;
        for (int i = 0; i < shown; i++)
            put_recipient(p, rn, APR_ARRAY_IDX(list, i, recipient *), &o,
                          status == RESP_RESOLVED, &pictures);
    }
    zx_respond_wbxml(req, resp, root);
}
