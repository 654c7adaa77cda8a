/* zxmobile - the sync engine (eas/syncstate.h). */
#include "syncstate.h"

#include <apr_strings.h>
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* [MS-ASCMD] 2.2.3.68.2: 0 all, 1 one day, 2 three days, 3 one week, 4 two weeks, 5 one month,
 * 6 three months, 7 six months, 8 incomplete tasks (no time window) */
static int filter_days(int filter)
{
    static const int days[] = {0, 1, 3, 7, 14, 30, 90, 180, 0};
    return filter >= 0 && filter <= 8 ? days[filter] : 0;
}

int zx_sync_filter_valid(int filter)
{
    return filter >= 0 && filter <= 8;
}

apr_time_t zx_sync_filter_cutoff(int filter, apr_time_t now)
{
    int d = filter_days(filter);
    return d ? now - apr_time_from_sec((apr_time_t)d * 86400) : 0;
}

int zx_sync_incomplete_only(int filter, const zx_folder *folder)
{
    return filter == 8 && folder && folder->item_class &&
           strcmp(folder->item_class, "Tasks") == 0;
}

int zx_sync_filter_wider(int a, int b)
{
    int da = filter_days(a), db = filter_days(b);
    if (da == 0)
        return 0;           /* nothing is wider than no window */
    return db == 0 || db > da;
}

const char *zx_sync_key_str(apr_pool_t *p, long long key)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)key);
}

int zx_sync_key_parse(const char *s, long long *key)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 18 || (n > 1 && s[0] == '0'))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return -1;
    *key = strtoll(s, NULL, 10);
    return 0;
}

static int same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

zx_sync_op zx_sync_classify(const zx_item *row, long long modseq, const char *device,
                            apr_time_t cutoff)
{
    int has = row->created_modseq <= modseq || same(row->created_by, device);
    int own = same(row->changed_by, device);
    if (row->deleted)
        return has && !own ? ZX_SYNC_DELETE : ZX_SYNC_SKIP;
    /* a completed task leaves a device that keeps incomplete ones only, even when that device
     * completed it */
    if (cutoff == ZX_SYNC_INCOMPLETE_TASKS && row->flag.status == 1)
        return has ? ZX_SYNC_SOFTDELETE : ZX_SYNC_SKIP;
    /* reopened since: a task that was complete at the position was not on such a device */
    if (cutoff == ZX_SYNC_INCOMPLETE_TASKS && has && row->completed_modseq &&
        row->completed_modseq <= modseq && row->reopened_modseq > modseq)
        return ZX_SYNC_ADD;
    /* a calendar event a change moved since the position: the device held it when its key
     * then was in the window; one that left it goes, one that entered it is new there */
    if (cutoff > 0 && has && row->received_modseq > modseq) {
        int held = row->prev_received >= cutoff, in = row->received >= cutoff;
        if (held && !in)
            return ZX_SYNC_SOFTDELETE;
        if (!held && in)
            return own ? ZX_SYNC_SKIP : ZX_SYNC_ADD;
    }
    if (cutoff > 0 && row->received < cutoff)
        return ZX_SYNC_SKIP;
    if (!has)
        return ZX_SYNC_ADD;
    return own ? ZX_SYNC_SKIP : ZX_SYNC_CHANGE;
}

static int aging_due(const zx_sync_pos *pos, apr_time_t cutoff)
{
    return cutoff > 0 && pos->aged_id && cutoff - pos->aged_received >= ZX_SYNC_AGING_STEP;
}

int zx_sync_quiet(const zx_folder *folder, const zx_sync_pos *pos, apr_time_t cutoff)
{
    return !pos->enumerating && folder->modseq <= pos->modseq && !aging_due(pos, cutoff);
}

/* 1 when the change row of item is an entry of ahead: no news to the device */
static int no_news(const apr_array_header_t *ahead, const zx_item *item)
{
    if (!ahead || !item->id)
        return 0;
    long long id = strtoll(item->id, NULL, 10);
    for (int i = 0; i < ahead->nelts; i++) {
        const zx_sync_ahead *a = &APR_ARRAY_IDX(ahead, i, zx_sync_ahead);
        if (a->id == id)
            return a->modseq == item->modseq;
    }
    return 0;
}

int zx_sync_pos_holds(const zx_sync_pos *pos, const zx_item *item)
{
    return !item->deleted && no_news(pos->ahead, item);
}

/* 1 when a device at pos has been sent item (in some version) */
static int known_at(const zx_sync_pos *pos, const zx_item *item, const char *device)
{
    if (same(item->created_by, device))
        return 1;
    if (item->created_modseq > pos->modseq)
        return 0;
    if (!pos->enumerating)
        return 1;
    /* listed by the enumeration so far: at or before its cursor, newest first */
    if (!pos->cursor_id)
        return 0;
    long long id = strtoll(item->id, NULL, 10), cid = strtoll(pos->cursor_id, NULL, 10);
    return item->received > pos->cursor_received ||
           (item->received == pos->cursor_received && id >= cid);
}

long long zx_sync_seen_version(const zx_sync_state *s, const zx_item *item, const char *device)
{
    if (same(item->changed_by, device))
        return item->modseq;
    if (!s->exists)
        return 0;
    /* The device may have lost the response that gave it the current key: then it is where
     * the previous key stands.  Unless it was sent the item only after that: knowing the item,
     * it has the current key's response. */
    const zx_sync_pos *pos = s->prev.key && known_at(&s->prev.pos, item, device) ?
                             &s->prev.pos : &s->cur.pos;
    return item->modseq <= pos->modseq || zx_sync_pos_holds(pos, item) ? item->modseq : 0;
}

void zx_sync_pos_note(apr_pool_t *p, zx_sync_pos *pos, const zx_item *item)
{
    if (item->modseq <= pos->modseq || no_news(pos->ahead, item))
        return;
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(zx_sync_ahead));
    long long id = strtoll(item->id, NULL, 10);
    for (int i = 0; pos->ahead && i < pos->ahead->nelts; i++)
        if (APR_ARRAY_IDX(pos->ahead, i, zx_sync_ahead).id != id &&
            a->nelts < ZX_SYNC_MAX_AHEAD - 1)
            *(zx_sync_ahead *)apr_array_push(a) = APR_ARRAY_IDX(pos->ahead, i, zx_sync_ahead);
    zx_sync_ahead *e = apr_array_push(a);
    e->id = id;
    e->modseq = item->modseq;
    pos->ahead = a;
}

long long zx_sync_walk_key(const zx_item *row, long long since)
{
    return row->created_modseq > since ? row->created_modseq : row->modseq;
}

static int by_modseq_desc(const void *a, const void *b)
{
    long long x = ((const zx_sync_ahead *)a)->modseq, y = ((const zx_sync_ahead *)b)->modseq;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The ahead entries after a window: the old ones still above the new position (but for the
 * items the window sent again), the tombstones the enumeration passed (gone), then every item
 * the window sent, or sent the Delete of, in a version above the position.  The newest cap are
 * kept.  With modseq 0 and no cap: what is no news to
 * the device while the window is being made. */
static apr_array_header_t *next_ahead(apr_pool_t *p, const apr_array_header_t *old,
                                      const apr_array_header_t *gone,
                                      const apr_array_header_t *sent, long long modseq,
                                      int cap)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(zx_sync_ahead));
    for (int i = 0; old && i < old->nelts; i++) {
        const zx_sync_ahead *e = &APR_ARRAY_IDX(old, i, zx_sync_ahead);
        int resent = 0;
        for (int j = 0; j < sent->nelts && !resent; j++)
            resent = strtoll(APR_ARRAY_IDX(sent, j, zx_sync_change).item->id, NULL, 10) == e->id;
        if (e->modseq > modseq && !resent)
            *(zx_sync_ahead *)apr_array_push(a) = *e;
    }
    for (int i = 0; gone && i < gone->nelts; i++)
        if (APR_ARRAY_IDX(gone, i, zx_sync_ahead).modseq > modseq)
            *(zx_sync_ahead *)apr_array_push(a) = APR_ARRAY_IDX(gone, i, zx_sync_ahead);
    for (int j = 0; j < sent->nelts; j++) {
        const zx_sync_change *c = &APR_ARRAY_IDX(sent, j, zx_sync_change);
        /* a Delete met at the item's creation (a tombstone of an item the device made) has its
         * row still ahead: it is no news either */
        if (c->op != ZX_SYNC_SOFTDELETE && c->item->modseq > modseq) {
            zx_sync_ahead *e = apr_array_push(a);
            e->id = strtoll(c->item->id, NULL, 10);
            e->modseq = c->item->modseq;
        }
    }
    if (a->nelts > cap) {
        qsort(a->elts, (size_t)a->nelts, sizeof(zx_sync_ahead), by_modseq_desc);
        a->nelts = cap;
    }
    return a->nelts ? a : NULL;
}

static void push(apr_array_header_t *out, zx_sync_op op, zx_item *it)
{
    zx_sync_change *c = apr_array_push(out);
    c->op = op;
    c->item = it;
}

int zx_sync_window(zx_store *st, const zx_folder *folder, const char *device,
                   const zx_sync_pos *from, apr_time_t cutoff, int window,
                   apr_array_header_t **changes, zx_sync_pos *to, int *more, const char **err)
{
    apr_array_header_t *out = apr_array_make(st->pool, 16, sizeof(zx_sync_change));
    apr_array_header_t *gone = NULL;
    zx_sync_pos pos = *from;
    *more = 0;
    if (window < 1)
        window = 1;
    if (pos.enumerating) {
        /* the initial enumeration: newest first, the items created up to pos.modseq */
        apr_array_header_t *items;
        if (zx_store_enumerate(st, folder->id, &pos, cutoff > 0 ? cutoff : 0, window + 1,
                               &items, &gone, err) < 0)
            return -1;
        int take = items->nelts > window ? window : items->nelts;
        for (int i = 0; i < take; i++) {
            zx_item *it = APR_ARRAY_IDX(items, i, zx_item *);
            if (cutoff == ZX_SYNC_INCOMPLETE_TASKS && it->flag.status == 1)
                continue;       /* a completed task: not for this device */
            push(out, ZX_SYNC_ADD, it);
        }
        if (items->nelts > window) {
            const zx_item *last = APR_ARRAY_IDX(items, take - 1, zx_item *);
            pos.cursor_received = last->received;
            pos.cursor_id = last->id;
            *more = 1;
            goto done;
        }
        /* done: what changed since the enumeration began follows as changes */
        pos.enumerating = 0;
        pos.cursor_received = 0;
        pos.cursor_id = NULL;
    }
    int room = window - out->nelts;
    if (room <= 0) {
        *more = !zx_sync_quiet(folder, &pos, cutoff);
        goto done;
    }
    if (aging_due(&pos, cutoff)) {
        /* what the device holds that left its window, oldest first */
        apr_array_header_t *aged;
        if (zx_store_aged(st, folder->id, &pos, cutoff, room + 1, &aged, err) < 0)
            return -1;
        int take = aged->nelts > room ? room : aged->nelts;
        for (int i = 0; i < take; i++)
            push(out, ZX_SYNC_SOFTDELETE, APR_ARRAY_IDX(aged, i, zx_item *));
        if (aged->nelts > room) {
            const zx_item *last = APR_ARRAY_IDX(aged, take - 1, zx_item *);
            pos.aged_received = last->received;
            pos.aged_id = apr_psprintf(st->pool, "%" APR_INT64_T_FMT,
                                       (apr_int64_t)strtoll(last->id, NULL, 10) + 1);
            *more = 1;
            goto done;
        }
        pos.aged_received = cutoff;
        pos.aged_id = "0";
        room -= take;
    }
    if (folder->modseq <= pos.modseq)
        goto done;
    if (room <= 0) {
        *more = 1;
        goto done;
    }
    apr_array_header_t *rows;
    int rows_more = 0;
    long long watermark = pos.modseq;
    /* no news: the old entries, and what the enumeration part of this window passed or sent */
    apr_array_header_t *known = next_ahead(st->pool, from->ahead, gone, out, 0, INT_MAX);
    if (zx_store_changes(st, folder->id, watermark, 0, room + ZX_SYNC_SCAN_EXTRA, &rows,
                         &rows_more, err) < 0)
        return -1;
    int i;
    for (i = 0; i < rows->nelts; i++) {
        zx_item *row = APR_ARRAY_IDX(rows, i, zx_item *);
        zx_sync_op op = zx_sync_classify(row, watermark, device, cutoff);
        if ((op == ZX_SYNC_CHANGE || op == ZX_SYNC_DELETE || op == ZX_SYNC_ADD) &&
            no_news(known, row))
            op = ZX_SYNC_SKIP;          /* sent in this version, or never sent */
        long long key = zx_sync_walk_key(row, watermark);
        if (op == ZX_SYNC_SKIP && row->deleted && key != row->modseq) {
            /* the tombstone of an item created after the position, never sent: met at its
             * creation, its row is still ahead and no news when the walk gets there */
            if (!gone)
                gone = apr_array_make(st->pool, 4, sizeof(zx_sync_ahead));
            zx_sync_ahead *g = apr_array_push(gone);
            g->id = strtoll(row->id, NULL, 10);
            g->modseq = row->modseq;
        }
        if (op != ZX_SYNC_SKIP) {
            if (out->nelts >= window) {
                *more = 1;
                break;
            }
            push(out, op, row);
        }
        pos.modseq = key;
    }
    if (i == rows->nelts && rows_more)
        *more = 1;
    /* every change there is was read: the device has the folder as of its modseq (what an
     * item added at its creation was sent in is at most that) */
    if (!*more && folder->modseq > pos.modseq)
        pos.modseq = folder->modseq;
done:
    pos.ahead = next_ahead(st->pool, from->ahead, gone, out, pos.modseq, ZX_SYNC_MAX_AHEAD);
    *changes = out;
    *to = pos;
    return 0;
}
