/* zxmobile - Sync ([MS-ASCMD] 2.2.1.21).
 *
 * Per collection: check the SyncKey against the device's state (the current key, or the
 * previous one when a response was lost: the same changes again), apply the client's Add,
 * Change, Delete and Fetch commands (in one transaction), take the next window of server
 * changes from the sync engine (eas/syncstate.c), render them through the item class of the
 * folder (eas/class/class.h) and store the new state under a new key.  A collection with nothing to say keeps its key, and a request where no
 * collection has anything to say gets the empty response of 12.1+ ([MS-ASCMD] 2.2.1.21.2).
 * The collections of the last request (not their keys, Options or commands) are kept per
 * device for the empty and partial requests ([MS-ASCMD] 2.2.1.21.1, 2.2.3.131); the Options
 * of each collection are kept in its state, since a client sends them only when they change
 * ([MS-ASAIRS] 2.2.2.12).
 */
#include "handlers.h"
#include "reqstore.h"
#include "sync_draft.h"
#include "sync_int.h"
#include "syncstate.h"
#include "wait.h"

#include <zxsync/buf.h>
#include <zxsync/log.h>
#include <zxsync/store.h>

#include <apr_strings.h>
#include <ctype.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLLECTIONS 300        /* [MS-ASCMD] 2.2.3.31.2: more gets status 15 */

/* ---- the request ----------------------------------------------------------------------------- */

/* boolean element: empty = 1 */
static int parse_flag(apr_pool_t *p, const zx_wb_node *n, int *out)
{
    const char *s = zx_wb_text(p, n);
    if (!s || !*s) {
        *out = 1;
        return 0;
    }
    if (strcmp(s, "0") != 0 && strcmp(s, "1") != 0)
        return -1;
    *out = s[0] == '1';
    return 0;
}

static int parse_collection(sync_ctx *c, const zx_wb_node *n, coll_req *cr, const char **why)
{
    apr_pool_t *p = c->p;
    memset(cr, 0, sizeof *cr);
    cr->get_changes = cr->deletes_as_moves = cr->window = cr->conversation_mode = -1;
    cr->conflict = -1;
    long long v;
    for (const zx_wb_node *e = n->first; e; e = e->next) {
        if (e->kind != ZX_WB_ELEMENT)
            continue;
        switch (e->tag) {
        case ZX_AirSync_SyncKey:
            cr->key = zx_wb_text(p, e);
            if (!cr->key) {
                *why = "empty SyncKey";
                return -1;
            }
            break;
        case ZX_AirSync_CollectionId:
            cr->id = zx_wb_text(p, e);
            break;
        case ZX_AirSync_DeletesAsMoves:
            if (parse_flag(p, e, &cr->deletes_as_moves) < 0) {
                *why = "invalid DeletesAsMoves";
                return -1;
            }
            break;
        case ZX_AirSync_GetChanges:
            if (parse_flag(p, e, &cr->get_changes) < 0) {
                *why = "invalid GetChanges";
                return -1;
            }
            break;
        case ZX_AirSync_ConversationMode:
            if (parse_flag(p, e, &cr->conversation_mode) < 0) {
                *why = "invalid ConversationMode";
                return -1;
            }
            break;
        case ZX_AirSync_WindowSize:
            if (zx_eas_parse_uint(zx_wb_text(p, e), 4294967295LL, &v) < 0) {
                *why = "invalid WindowSize";
                return -1;
            }
            cr->window = v == 0 || v > ZX_SYNC_MAX_WINDOW ? ZX_SYNC_MAX_WINDOW : (int)v;
            break;
        case ZX_AirSync_Options: {
            /* 14.0+: up to two Options, one per class (e.g. Email and SMS); ours is the one
             * without a Class or for a class this server keeps */
            const char *cls = zx_wb_child_text(p, e, ZX_AirSync_Class);
            if (!cr->options && (!cls || strcmp(cls, "SMS") != 0))
                cr->options = e;
            break;
        }
        case ZX_AirSync_Commands:
            cr->commands = e;
            break;
        case ZX_AirSync_Supported:
            cr->supported = e;
            break;
        default:
            break;              /* Class (12.1) */
        }
    }
    if (!cr->id) {
        *why = "Collection without CollectionId";
        return -1;
    }
    if (!cr->key) {
        *why = "Collection without SyncKey";
        return -1;
    }
    return 0;
}

static coll_req *find_coll(apr_array_header_t *colls, const char *id)
{
    for (int i = 0; i < colls->nelts; i++) {
        coll_req *cr = &APR_ARRAY_IDX(colls, i, coll_req);
        if (strcmp(cr->id, id) == 0)
            return cr;
    }
    return NULL;
}

/* Sync-level elements and the collections of a request or of the cache (cached: their keys
 * are the current ones). */
static int parse_request(sync_ctx *c, const zx_wb_node *root, int cached, const char **why)
{
    apr_pool_t *p = c->p;
    long long v;
    for (const zx_wb_node *e = root->first; e; e = e->next) {
        if (e->kind != ZX_WB_ELEMENT)
            continue;
        if (e->tag == ZX_AirSync_Collections) {
            for (const zx_wb_node *n = zx_wb_child(e, ZX_AirSync_Collection); n;
                 n = zx_wb_next(n, ZX_AirSync_Collection)) {
                coll_req cr;
                if (cached) {
                    const char *ignored;
                    if (parse_collection(c, n, &cr, &ignored) < 0)
                        continue;
                    cr.key = NULL;
                    cr.commands = NULL;
                    cr.options = NULL;
                    cr.supported = NULL;
                }
                else if (parse_collection(c, n, &cr, why) < 0)
                    return -1;
                if (find_coll(c->colls, cr.id)) {
                    if (!cached) {
                        *why = apr_psprintf(p, "collection %s twice", cr.id);
                        return -1;
                    }
                    continue;
                }
                APR_ARRAY_PUSH(c->colls, coll_req) = cr;
            }
        }
        else if (e->tag == ZX_AirSync_WindowSize && (!cached || c->window < 0)) {
            if (zx_eas_parse_uint(zx_wb_text(p, e), 4294967295LL, &v) < 0) {
                *why = "invalid WindowSize";
                return -1;
            }
            c->window = v == 0 || v > ZX_SYNC_MAX_WINDOW ? ZX_SYNC_MAX_WINDOW : (int)v;
        }
        else if (e->tag == ZX_AirSync_Wait && (!cached || (c->wait < 0 && c->heartbeat < 0))) {
            if (zx_eas_parse_uint(zx_wb_text(p, e), 1000000, &v) < 0) {
                *why = "invalid Wait";
                return -1;
            }
            c->wait = (int)v;
        }
        else if (e->tag == ZX_AirSync_HeartbeatInterval &&
                 (!cached || (c->wait < 0 && c->heartbeat < 0))) {
            if (zx_eas_parse_uint(zx_wb_text(p, e), 100000000, &v) < 0) {
                *why = "invalid HeartbeatInterval";
                return -1;
            }
            c->heartbeat = (int)v;
        }
    }
    return 0;
}

/* Is this the request the device record already keeps (its md5, read when the device was
 * registered: gate/device.c)?  Then there is nothing to write. */
static int cache_kept(const zx_request *req, const char *data, apr_size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    if (!req->device.sync_cache_md5 ||
        !EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL) || mdlen != 16)
        return 0;
    for (unsigned i = 0; i < mdlen; i++)
        apr_snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return strcmp(hex, req->device.sync_cache_md5) == 0;
}

/* What the cache keeps: the Sync-level settings and, per collection, its id and settings. */
static const char *cache_encode(sync_ctx *c, apr_size_t *len)
{
    apr_pool_t *p = c->p;
    zx_wb_node *root = zx_wb_new(p, ZX_AirSync_Sync);
    zx_wb_node *colls = zx_wb_add(p, root, ZX_AirSync_Collections);
    for (int i = 0; i < c->colls->nelts; i++) {
        coll_req *cr = &APR_ARRAY_IDX(c->colls, i, coll_req);
        zx_wb_node *n = zx_wb_add(p, colls, ZX_AirSync_Collection);
        zx_wb_add_text(p, n, ZX_AirSync_SyncKey, "0");  /* placeholder: keys come from states */
        zx_wb_add_text(p, n, ZX_AirSync_CollectionId, cr->id);
        if (cr->deletes_as_moves >= 0)
            zx_wb_add_textf(p, n, ZX_AirSync_DeletesAsMoves, "%d", cr->deletes_as_moves);
        if (cr->get_changes >= 0)
            zx_wb_add_textf(p, n, ZX_AirSync_GetChanges, "%d", cr->get_changes);
        if (cr->window >= 0)
            zx_wb_add_textf(p, n, ZX_AirSync_WindowSize, "%d", cr->window);
        if (cr->conversation_mode >= 0)
            zx_wb_add_textf(p, n, ZX_AirSync_ConversationMode, "%d", cr->conversation_mode);
    }
    if (c->window >= 0)
        zx_wb_add_textf(p, root, ZX_AirSync_WindowSize, "%d", c->window);
    if (c->wait >= 0)
        zx_wb_add_textf(p, root, ZX_AirSync_Wait, "%d", c->wait);
    if (c->heartbeat >= 0)
        zx_wb_add_textf(p, root, ZX_AirSync_HeartbeatInterval, "%d", c->heartbeat);
    unsigned char *out;
    if (zx_wbxml_encode(p, root, &out, len) != ZX_WBXML_OK)
        return NULL;
    return (const char *)out;
}

static zx_wb_node *decode(apr_pool_t *p, const char *data, apr_size_t len)
{
    zx_wb_node *root = NULL;
    if (!data || zx_wbxml_decode(p, (const unsigned char *)data, len, NULL, &root, NULL) !=
        ZX_WBXML_OK)
        return NULL;
    return root;
}

/* ---- answers --------------------------------------------------------------------------------- */

static void respond_status(sync_ctx *c, zx_response *resp, int status, const char *limit,
                           zx_log_level level, const char *reason)
{
    zx_wb_node *root = zx_wb_new(c->p, ZX_AirSync_Sync);
    zx_wb_add_textf(c->p, root, ZX_AirSync_Status, "%d", status);
    if (limit)
        zx_wb_add_text(c->p, root, ZX_AirSync_Limit, limit);
    zx_respond_wbxml(c->req, resp, root);
    resp->reason = reason;
    resp->reason_level = level;
}

static zx_wb_node *coll_status(sync_ctx *c, const char *key, const char *id, int status)
{
    zx_wb_node *n = zx_wb_new(c->p, ZX_AirSync_Collection);
    zx_wb_add_text(c->p, n, ZX_AirSync_SyncKey, key ? key : "0");
    zx_wb_add_text(c->p, n, ZX_AirSync_CollectionId, id);
    zx_wb_add_textf(c->p, n, ZX_AirSync_Status, "%d", status);
    return n;
}

static void log_error(sync_ctx *c, const char *what)
{
    zx_log(c->req->log_ctx, ZX_LOG_ERR, ZXLOGNO(00401) "Sync: %s: %s", what,
           c->err ? c->err : "internal error");
}

/* ---- one collection ------------------------------------------------------------------------------ */

static int same_id(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int same_ahead(const apr_array_header_t *a, const apr_array_header_t *b)
{
    int na = a ? a->nelts : 0, nb = b ? b->nelts : 0;
    return na == nb && (na == 0 || memcmp(a->elts, b->elts, (size_t)na * sizeof(zx_sync_ahead)) == 0);
}

static int same_pos(const zx_sync_pos *a, const zx_sync_pos *b)
{
    if (a->modseq != b->modseq || a->enumerating != b->enumerating ||
        a->aged_received != b->aged_received || !same_id(a->aged_id, b->aged_id) ||
        !same_ahead(a->ahead, b->ahead))
        return 0;
    if (!a->enumerating)
        return 1;
    if (!a->cursor_id || !b->cursor_id)
        return !a->cursor_id && !b->cursor_id;
    return a->cursor_received == b->cursor_received && strcmp(a->cursor_id, b->cursor_id) == 0;
}

/* airsync:Supported as "{tag,tag}", NULL when absent */
static const char *supported_list(apr_pool_t *p, const zx_wb_node *supported)
{
    if (!supported)
        return NULL;
    zx_buf b;
    zx_buf_init(&b, p, 256);
    zx_buf_putc(&b, '{');
    int n = 0;
    for (const zx_wb_node *e = supported->first; e; e = e->next)
        if (e->kind == ZX_WB_ELEMENT && n < 1000)
            zx_buf_printf(&b, n++ ? ",%u" : "%u", e->tag);
    zx_buf_putc(&b, '}');
    return b.data;
}

static long long next_key(const zx_sync_state *s)
{
    long long k = s->cur.key > s->prev.key ? s->cur.key : s->prev.key;
    return k + 1;
}

static zx_wb_node *do_collection(sync_ctx *c, coll_req *cr, zx_sync_state *s, int *quiet)
{
    apr_pool_t *p = c->p;
    zx_store *st = c->st;
    *quiet = 0;
    if (!s->folder)
        return coll_status(c, cr->key, cr->id, SYNC_HIERARCHY_CHANGED);
    const zx_item_class *cls = zx_class_of(s->folder->item_class);
    int drafts = zx_sync_draft_folder(c->v, s->folder);    /* 16.x Drafts: sync_draft.c */
    if (drafts)
        cls = &zx_class_email_draft;
    const char *key_text = cr->key;
    if (!key_text) {
        if (!s->exists)
            return coll_status(c, "0", cr->id, SYNC_INVALID_KEY);
        key_text = zx_sync_key_str(p, s->cur.key);
    }
    long long key;
    if (zx_sync_key_parse(key_text, &key) < 0)
        return coll_status(c, "0", cr->id, SYNC_INVALID_KEY);

    /* the options: sent now, or the ones kept with the state */
    const zx_wb_node *options = cr->options;
    const char *opt_bytes = s->options;
    apr_size_t opt_len = s->options_len;
    int opts_changed = 0;
    if (options) {
        unsigned char *enc;
        apr_size_t enc_len;
        if (zx_wbxml_encode(p, options, &enc, &enc_len) != ZX_WBXML_OK)
            return coll_status(c, key_text, cr->id, SYNC_PROTOCOL_ERROR);
        opts_changed = !opt_bytes || opt_len != enc_len || memcmp(opt_bytes, enc, enc_len) != 0;
        opt_bytes = (const char *)enc;
        opt_len = enc_len;
    }
    else if (opt_bytes) {
        options = decode(p, opt_bytes, opt_len);
    }
    zx_class_opts ro;
    int filter = 0;
    if (cls->parse_options(p, options, c->v, &ro) < 0)
        return coll_status(c, key_text, cr->id, SYNC_PROTOCOL_ERROR);
    const char *ft = options ? zx_wb_child_text(p, options, ZX_AirSync_FilterType) : NULL;
    if (ft) {
        long long f;
        if (zx_eas_parse_uint(ft, 8, &f) < 0 || !zx_sync_filter_valid((int)f))
            return coll_status(c, key_text, cr->id, SYNC_PROTOCOL_ERROR);
        /* [MS-ASCMD] 2.2.3.68.2: not applied to the Drafts folder at 16.x */
        filter = drafts ? 0 : (int)f;
    }
    /* [MS-ASCMD] 2.2.3.34 Conflict: 0 the client's change wins, 1 (the default) the server's */
    const char *cf = options ? zx_wb_child_text(p, options, ZX_AirSync_Conflict) : NULL;
    if (cf) {
        long long v;
        if (zx_eas_parse_uint(cf, 1, &v) < 0)
            return coll_status(c, key_text, cr->id, SYNC_PROTOCOL_ERROR);
        cr->conflict = (int)v;
    }
    if (ro.npart > 0 && c->v >= ZX_V141)
        for (int i = 0; i < ro.npart; i++)
            if (ro.part[i].type != 2)
                return coll_status(c, key_text, cr->id, SYNC_PROTOCOL_ERROR);

    zx_sync_state ns = *s;
    ns.filter_type = filter;
    ns.options = opt_bytes;
    ns.options_len = opt_len;
    ro.supported = s->supported;

    if (key == 0) {
        /* the properties the device manages (the others are ghosted): declared now, for the
         * life of this state ([MS-ASCMD] 2.2.3.179) */
        ns.supported = supported_list(p, cr->supported);
        /* a new state: nothing in this response, the items come from the next request */
        if (cr->commands)
            return coll_status(c, key_text, cr->id, SYNC_PROTOCOL_ERROR);
        ns.cur.key = s->exists ? next_key(s) : 1;
        memset(&ns.cur.pos, 0, sizeof ns.cur.pos);
        ns.cur.pos.modseq = s->folder->modseq;
        ns.cur.pos.enumerating = 1;
        ns.cur.pos.aged_received = zx_sync_filter_cutoff(filter, apr_time_now());
        ns.cur.pos.aged_id = "0";
        memset(&ns.prev, 0, sizeof ns.prev);
        c->wrote = 1;
        int rc = zx_store_sync_state_put(st, c->device, &ns, s->exists ? s->cur.key : 0,
                                         &c->err);
        if (rc < 0) {
            log_error(c, "cannot store the state");
            return coll_status(c, key_text, cr->id, SYNC_SERVER_ERROR);
        }
        if (rc != ZX_STORE_OK)
            return coll_status(c, key_text, cr->id, SYNC_SERVER_ERROR);
        return coll_status(c, zx_sync_key_str(p, ns.cur.key), cr->id, SYNC_OK);
    }

    const zx_sync_key *base;
    int retry = 0;
    if (s->exists && key == s->cur.key)
        base = &s->cur;
    else if (s->exists && s->prev.key && key == s->prev.key) {
        base = &s->prev;
        retry = 1;
    }
    else
        return coll_status(c, "0", cr->id, SYNC_INVALID_KEY);
    /* a wider FilterType needs items the device was never sent: start over (all tasks after
     * the incomplete ones too) */
    if (s->exists && filter != s->filter_type &&
        (zx_sync_filter_wider(s->filter_type, filter) ||
         zx_sync_incomplete_only(s->filter_type, s->folder)))
        return coll_status(c, "0", cr->id, SYNC_INVALID_KEY);

    /* The client's commands and the new state commit in one transaction: a request cut short
     * (a killed child, a lost connection to the database) leaves either nothing, and the retry
     * with the same key applies them, or everything, and the retry is answered from the
     * previous key as the first attempt was. */
    zx_wb_node *responses = NULL;
    int applied = 0;
    int own = 0;
    apr_array_header_t *dropped = apr_array_make(p, 1, sizeof(zx_item *));
    if (cr->commands) {
        c->client_commands = 1;
        if (zx_db_tx_begin(st->db, &own, &c->err) < 0) {
            log_error(c, "cannot begin a transaction");
            return coll_status(c, key_text, cr->id, SYNC_SERVER_ERROR);
        }
        if (zx_sync_apply_commands(c, cr, s, base, retry, cls, &ro, &responses, &applied,
                                   dropped) < 0) {
            zx_db_tx_end(st->db, own, -1, &c->err);
            log_error(c, "cannot apply the client's changes");
            return coll_status(c, key_text, cr->id, SYNC_SERVER_ERROR);
        }
        /* the folder moved on with them: read past them in this response already */
        zx_folder *now = NULL;
        if (applied && zx_store_folder_get(st, s->folder->id, &now, &c->err) < 0) {
            zx_db_tx_end(st->db, own, -1, &c->err);
            log_error(c, "cannot read the folder");
            return coll_status(c, key_text, cr->id, SYNC_SERVER_ERROR);
        }
        if (now)
            s->folder = now;
    }

    /* server changes, from the position with what the device dropped after a status 8 */
    zx_sync_pos from = base->pos;
    for (int i = 0; i < dropped->nelts; i++)
        zx_sync_pos_note(p, &from, APR_ARRAY_IDX(dropped, i, zx_item *));
    /* a class younger than the device's protocol (Notes before 14.0): none of its items */
    int get = c->v < cls->since ? 0 : cr->get_changes < 0 ? 1 : cr->get_changes;
    zx_sync_pos to = from;
    int more = 0;
    apr_array_header_t *changes = NULL;
    apr_time_t cutoff = zx_sync_filter_cutoff(filter, apr_time_now());
    if (zx_sync_incomplete_only(filter, s->folder))
        cutoff = ZX_SYNC_INCOMPLETE_TASKS;
    /* loop detection (sync_loop.c): the same changes asked for again and again */
    int retries = retry ? s->retries + 1 : 0;
    if (get) {
        int window = cr->window < 0 ? ZX_SYNC_DEFAULT_WINDOW : cr->window;
        if (c->budget >= 0 && window > c->budget)
            window = c->budget;
        int asked = window, pinpoint = 0;
        if (window > 0)
            window = zx_sync_loop_window(retries, window, &pinpoint);
        if (window <= 0)
            more = !zx_sync_quiet(s->folder, &from, cutoff);
        else if (!zx_sync_quiet(s->folder, &from, cutoff)) {
            if (zx_sync_window(st, s->folder, c->device, &from, cutoff, window, &changes,
                               &to, &more, &c->err) < 0) {
                zx_db_tx_end(st->db, own, -1, &c->err);
                log_error(c, "cannot read the changes");
                return coll_status(c, key_text, cr->id, SYNC_SERVER_ERROR);
            }
            if (zx_sync_loop_filter(c, s, retries, asked, pinpoint, changes) < 0) {
                zx_db_tx_end(st->db, own, -1, &c->err);
                log_error(c, "cannot record a skipped item");
                return coll_status(c, key_text, cr->id, SYNC_SERVER_ERROR);
            }
            if (pinpoint)
                retries = 0;    /* the next attempts start afresh */
            if (c->budget >= 0)
                c->budget -= changes->nelts;
        }
    }
    int nchanges = changes ? changes->nelts : 0;

    /* the new state: a new key when the device gets or gave something; a position that moved
     * only past changes the device does not get (its own, outside its window) moves under the
     * same key, which then stands for the same changes as before */
    int new_key = retry || applied || nchanges > 0;
    int moved = !same_pos(&to, &base->pos);
    const char *resp_key = key_text;
    ns.retries = retries;
    if (new_key || moved || opts_changed || filter != s->filter_type ||
        retries != s->retries) {
        if (new_key) {
            ns.prev = *base;
            ns.cur.key = next_key(s);
            resp_key = zx_sync_key_str(p, ns.cur.key);
        }
        ns.cur.pos = to;
        c->wrote = 1;
        int rc = zx_store_sync_state_put(st, c->device, &ns, s->cur.key, &c->err);
        if (rc < 0) {
            zx_db_tx_end(st->db, own, -1, &c->err);
            log_error(c, "cannot store the state");
            return coll_status(c, key_text, cr->id, SYNC_SERVER_ERROR);
        }
        if (rc != ZX_STORE_OK) {    /* another request of the device moved the state on */
            const char *e2;
            zx_db_tx_end(st->db, own, -1, &e2);     /* its commands are not applied either */
            return coll_status(c, key_text, cr->id, SYNC_SERVER_ERROR);
        }
    }
    if (zx_db_tx_end(st->db, own, 0, &c->err) < 0) {
        log_error(c, "cannot commit the client's changes and the new state");
        return coll_status(c, key_text, cr->id, SYNC_SERVER_ERROR);
    }
    /* the device has acknowledged the previous response: tombstones it passed can go */
    if (new_key && !retry && zx_store_purge_tombstones(st, s->folder->id, &c->err) < 0)
        log_error(c, "cannot purge tombstones");

    /* the response */
    zx_wb_node *n = zx_wb_new(p, ZX_AirSync_Collection);
    zx_wb_add_text(p, n, ZX_AirSync_SyncKey, resp_key);
    zx_wb_add_text(p, n, ZX_AirSync_CollectionId, cr->id);
    zx_wb_add_text(p, n, ZX_AirSync_Status, "1");
    if (nchanges > 0) {
        /* the adds' contents in one round trip */
        apr_array_header_t *adds = apr_array_make(p, nchanges, sizeof(zx_item *));
        for (int i = 0; i < nchanges; i++) {
            zx_sync_change *ch = &APR_ARRAY_IDX(changes, i, zx_sync_change);
            if (ch->op == ZX_SYNC_ADD || (ch->op == ZX_SYNC_CHANGE && cls->full_changes))
                APR_ARRAY_PUSH(adds, zx_item *) = ch->item;
        }
        zx_content_want want;
        cls->content_want(&ro, &want);
        if (adds->nelts && zx_store_item_contents(st, adds, &want, &c->err) < 0) {
            log_error(c, "cannot read the items");
            return coll_status(c, key_text, cr->id, SYNC_SERVER_ERROR);
        }
        zx_wb_node *cmds = zx_wb_add(p, n, ZX_AirSync_Commands);
        for (int i = 0; i < nchanges; i++) {
            zx_sync_change *ch = &APR_ARRAY_IDX(changes, i, zx_sync_change);
            unsigned tag = ch->op == ZX_SYNC_ADD ? ZX_AirSync_Add :
                           ch->op == ZX_SYNC_CHANGE ? ZX_AirSync_Change :
                           ch->op == ZX_SYNC_SOFTDELETE ? ZX_AirSync_SoftDelete :
                           ZX_AirSync_Delete;
            zx_wb_node *op = zx_wb_add(p, cmds, tag);
            zx_wb_add_text(p, op, ZX_AirSync_ServerId, ch->item->id);
            if (ch->op == ZX_SYNC_DELETE || ch->op == ZX_SYNC_SOFTDELETE)
                continue;
            zx_wb_node *ad = zx_wb_add(p, op, ZX_AirSync_ApplicationData);
            if (ch->op == ZX_SYNC_CHANGE && !cls->full_changes)
                cls->render_change(p, ch->item, c->v, ad);
            else if (cls->render(p, st, ch->item, &ro, ad, NULL, &c->err) < 0) {
                log_error(c, "cannot render an item");
                return coll_status(c, key_text, cr->id, SYNC_SERVER_ERROR);
            }
        }
    }
    if (responses)
        zx_wb_append(n, responses);
    /* after the commands, as in the example of [MS-ASCMD] 4.5.8 */
    if (more)
        zx_wb_add(p, n, ZX_AirSync_MoreAvailable);
    *quiet = !new_key && !responses && !more;
    return n;
}

/* ---- the hanging Sync ([MS-ASCMD] 2.2.3.198 Wait, 2.2.3.88.2 HeartbeatInterval) ---------------- */

/* Would a collection of the request get something now (or report a vanished folder)? */
static int sync_wait_check(void *baton, zx_request *req, const char **err)
{
    sync_ctx *c = baton;
    apr_pool_t *p;
    apr_pool_create(&p, req->pool);
    zx_store *st = zx_request_store(p, req->db, req);
    int n = c->colls->nelts, rc = 0;
    zx_sync_state *states = apr_pcalloc(p, sizeof(zx_sync_state) * (apr_size_t)(n ? n : 1));
    for (int i = 0; i < n; i++)
        states[i].folder_id = APR_ARRAY_IDX(c->colls, i, coll_req).id;
    if (zx_store_sync_states_get(st, c->device, states, n, err) < 0)
        rc = -1;
    apr_time_t now = apr_time_now();
    for (int i = 0; rc == 0 && i < n; i++) {
        zx_sync_state *s = &states[i];
        if (!s->folder) {
            rc = 1;
            break;
        }
        apr_time_t cutoff = zx_sync_filter_cutoff(s->filter_type, now);
        if (!s->exists || zx_sync_quiet(s->folder, &s->cur.pos, cutoff))
            continue;
        long long count = 0;
        if (zx_store_estimate(st, s->folder->id, &s->cur.pos, cutoff,
                              zx_sync_incomplete_only(s->filter_type, s->folder), c->device,
                              &count, err) < 0)
            rc = -1;
        else if (count > 0)
            rc = 1;
    }
    if (rc < 0 && *err)
        *err = apr_pstrdup(req->pool, *err);
    apr_pool_destroy(p);
    return rc;
}

/* Wait for changes: 1 when resp is answered (a device gate), 0 when changes came (run the
 * collections again), -1 when the wait ended without any (the empty response). */
static int sync_wait(sync_ctx *c, zx_response *resp, const zx_push_settings *ps)
{
    zx_request *req = c->req;
    const char *err = NULL;
    long long wait_id = 0;
    if (zx_wait_claim(c->srv, req, &wait_id, &err) < 0) {
        log_error(c, "cannot wait");
        return -1;
    }
    int seconds = c->heartbeat > 0 ? c->heartbeat : c->wait * 60;
    zx_waited w = zx_eas_wait(c->srv, req, resp, "Sync", wait_id, seconds, ps,
                              zx_device_recheck, sync_wait_check, c, &err);
    if (w == ZX_WAITED_GATED)
        return 1;
    if (w == ZX_WAITED_READY) {
        c->st = zx_request_store(c->p, req->db, req);
        return 0;
    }
    if (w == ZX_WAITED_HANGUP)
        zx_log(req->log_ctx, ZX_LOG_INFO, ZXLOGNO(01030) "Sync: the client hung up; its wait ended");
    else if (w == ZX_WAITED_SUPERSEDED)
        zx_log(req->log_ctx, ZX_LOG_INFO,
               ZXLOGNO(01031) "Sync superseded by a newer Ping or Sync of the device");
    else if (w == ZX_WAITED_ERROR) {
        c->err = err;
        log_error(c, "cannot check the collections");
    }
    return -1;
}

/* ---- the command ------------------------------------------------------------------------------- */

void zx_cmd_sync(const zx_server *srv, zx_request *req, zx_response *resp)
{
    apr_pool_t *p = req->pool;
    sync_ctx ctx;
    sync_ctx *c = &ctx;
    memset(c, 0, sizeof *c);
    c->srv = srv;
    c->req = req;
    c->p = p;
    c->v = req->proto;
    c->window = c->wait = c->heartbeat = -1;
    c->colls = apr_array_make(p, 8, sizeof(coll_req));
    const char *err = NULL;
    zx_db *db = zx_request_db(srv, req, &err);
    if (!db || !req->device_row) {
        zx_respond_status(req, resp, ZX_EAS_SERVER_ERROR_RETRY, ZX_LOG_ERR,
                          apr_psprintf(p, ZXLOGNO(00403) "Sync without a database: %s",
                                       err ? err : "no device record"));
        zx_retry_after_db(resp);     /* on a 503 */
        return;
    }
    c->st = zx_request_store(p, db, req);
    c->device = req->device_row;
    const char *why = NULL;

    /* the request: full, partial (merged with the cache) or empty (the cache) */
    int partial = req->doc && zx_wb_child(req->doc, ZX_AirSync_Partial) != NULL;
    if (req->doc) {
        if (parse_request(c, req->doc, 0, &why) < 0) {
            respond_status(c, resp, SYNC_PROTOCOL_ERROR, NULL, ZX_LOG_INFO,
                           apr_psprintf(p, ZXLOGNO(00404) "malformed Sync request: %s", why));
            return;
        }
        if (!partial && !zx_wb_child(req->doc, ZX_AirSync_Collections)) {
            respond_status(c, resp, SYNC_PROTOCOL_ERROR, NULL, ZX_LOG_INFO,
                           ZXLOGNO(00405) "Sync request with neither Collections nor Partial");
            return;
        }
    }
    if (!req->doc || partial) {
        const char *data = NULL;
        apr_size_t len = 0;
        int rc = zx_store_sync_cache_get(c->st, c->device, &data, &len, &c->err);
        if (rc < 0) {
            log_error(c, "cannot read the cached request");
            respond_status(c, resp, SYNC_SERVER_ERROR, NULL, ZX_LOG_ERR, NULL);
            return;
        }
        zx_wb_node *cached = rc == ZX_STORE_OK ? decode(p, data, len) : NULL;
        if (!cached) {
            respond_status(c, resp, SYNC_INCOMPLETE, NULL, ZX_LOG_INFO,
                           ZXLOGNO(00406) "empty or partial Sync request without a previous "
                           "full request");
            return;
        }
        parse_request(c, cached, 1, &why);
    }
    if (c->colls->nelts > MAX_COLLECTIONS) {
        respond_status(c, resp, SYNC_TOO_MANY_COLLECTIONS, NULL, ZX_LOG_INFO,
                       ZXLOGNO(00407) "Sync request with too many collections");
        return;
    }
    if (c->wait >= 0 && c->heartbeat >= 0) {
        respond_status(c, resp, SYNC_PROTOCOL_ERROR, NULL, ZX_LOG_INFO,
                       ZXLOGNO(00408) "Sync request with both Wait and HeartbeatInterval");
        return;
    }
    /* [MS-ASCMD] 2.2.3.198 Wait 1-59 minutes, 2.2.3.88.2 HeartbeatInterval 60-3540 s */
    if (c->wait >= 0 && (c->wait < 1 || c->wait > 59)) {
        respond_status(c, resp, SYNC_BAD_WAIT, c->wait < 1 ? "1" : "59", ZX_LOG_INFO, NULL);
        return;
    }
    /* the heartbeat bounds of Ping (ZxMobile_MinPingHeartbeat, ZxMobile_MaxPingHeartbeat) */
    zx_push_settings ps = {1, 10, 3540, 60};
    if (c->wait >= 0 || c->heartbeat >= 0)
        zx_push_settings_load(srv, req, &ps);
    if (c->heartbeat >= 0 && (c->heartbeat < ps.min_heartbeat || c->heartbeat > ps.max_heartbeat)) {
        respond_status(c, resp, SYNC_BAD_WAIT,
                       apr_itoa(p, c->heartbeat < ps.min_heartbeat ? ps.min_heartbeat
                                                                    : ps.max_heartbeat),
                       ZX_LOG_INFO, NULL);
        return;
    }
    if (req->doc) {
        apr_size_t len = 0;
        const char *cache = cache_encode(c, &len);
        if (cache && !cache_kept(req, cache, len)) {
            c->wrote = 1;
            if (zx_store_sync_cache_put(c->st, c->device, cache, len, &c->err) < 0)
                log_error(c, "cannot keep the request");
        }
    }
again:
    c->budget = c->window;
    /* an account logger's window_size caps the whole response (spec 10) */
    if (req->window_cap > 0 && (c->budget < 0 || c->budget > req->window_cap))
        c->budget = req->window_cap;

    /* the folders and states of every collection, then each collection */
    int n = c->colls->nelts;
    zx_sync_state *states = apr_pcalloc(p, sizeof(zx_sync_state) * (apr_size_t)(n ? n : 1));
    for (int i = 0; i < n; i++)
        states[i].folder_id = APR_ARRAY_IDX(c->colls, i, coll_req).id;
    if (zx_store_sync_states_get(c->st, c->device, states, n, &c->err) < 0) {
        log_error(c, "cannot read the states");
        respond_status(c, resp, SYNC_SERVER_ERROR, NULL, ZX_LOG_ERR, NULL);
        return;
    }
    zx_wb_node *root = zx_wb_new(p, ZX_AirSync_Sync);
    zx_wb_node *colls = zx_wb_add(p, root, ZX_AirSync_Collections);
    int all_quiet = 1;
    for (int i = 0; i < n; i++) {
        int quiet = 0;
        zx_wb_node *cn = do_collection(c, &APR_ARRAY_IDX(c->colls, i, coll_req), &states[i],
                                       &quiet);
        zx_wb_append(colls, cn);
        all_quiet &= quiet;
    }
    /* [MS-ASCMD] 2.2.1.21.2: nothing to report, no client change: the empty response */
    if (all_quiet && !c->client_commands && c->v >= ZX_V121) {
        /* the hanging Sync: wait for changes, then answer them like a new request */
        if ((c->wait > 0 || c->heartbeat > 0) && !c->waited) {
            c->waited = 1;
            int w = sync_wait(c, resp, &ps);
            if (w > 0)
                return;
            if (w == 0)
                goto again;
        }
        zx_respond_http(req, resp, 200, ZX_LOG_DEBUG, NULL);
        /* nothing written, nothing waited for: the same request gets the same empty answer
         * until the account changes (the answer cache, zxsync/answer.h) */
        req->answer_reusable = !c->wrote && !c->waited && c->wait < 0 && c->heartbeat < 0 &&
                               !req->abq_held;
        return;
    }
    zx_respond_wbxml(req, resp, root);
}
