/* zxmobile - loop detection of the Sync command (issue 18).
 *
 * A device that cannot store an item of a response (it crashes on it, or its store refuses
 * it) sends the previous SyncKey of the collection again and again: each time it gets the
 * same changes, and each time it fails.  Exchange and Z-Push detect this; so does this file:
 *
 *   - sync_states.retries counts the consecutive Syncs of a collection with the previous key
 *     (a lost response is one; the count goes back to 0 when the device acknowledges the
 *     current key);
 *   - from ZX_SYNC_LOOP_RETRIES on, the window is halved at every further retry (100, 50,
 *     25, ... 1), so that the changes before the offending one pass and the offending one
 *     comes first;
 *   - when a window of one change still does not pass, that change's item is skipped for the
 *     device: recorded in sync_skipped (zx_store_sync_skip), logged with the account, the
 *     device, the folder and the item, and from then on left out of every window of that
 *     device in that folder, in every version, until an administrator clears it
 *     (zxsuite mobile clearLoop, which also resets the device's state of the folder so that
 *     the folder is synchronised again).  The retry that skips it answers without it, and
 *     the sync goes on.
 *
 * The position of the device still moves past a skipped item, so GetItemEstimate may count
 * a change that the Sync then leaves out. */
#include "sync_int.h"
#include "syncstate.h"

#include <zxsync/log.h>

#include <apr_strings.h>
#include <string.h>

int zx_sync_loop_window(int retries, int window, int *pinpoint)
{
    *pinpoint = 0;
    if (retries < ZX_SYNC_LOOP_RETRIES)
        return window;
    int prev = retries - 1 < ZX_SYNC_LOOP_RETRIES
                   ? window : window >> (retries - ZX_SYNC_LOOP_RETRIES);
    int shift = retries - ZX_SYNC_LOOP_RETRIES + 1;
    int w = shift >= 30 ? 0 : window >> shift;
    if (w < 1)
        w = 1;
    /* the last attempt had a window of one change and did not pass either */
    if (retries > ZX_SYNC_LOOP_RETRIES && prev <= 1)
        *pinpoint = 1;
    return w;
}

static int is_skipped(const apr_array_header_t *skipped, const char *id)
{
    for (int i = 0; skipped && i < skipped->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(skipped, i, const char *), id) == 0)
            return 1;
    return 0;
}

int zx_sync_loop_filter(sync_ctx *c, zx_sync_state *s, int retries, int window_asked,
                        int pinpoint, apr_array_header_t *changes)
{
    if (pinpoint && changes->nelts > 0) {
        const zx_item *it = APR_ARRAY_IDX(changes, 0, zx_sync_change).item;
        if (zx_store_sync_skip(c->st, c->device, s->folder->id, it->id, retries,
                               window_asked, &c->err) < 0)
            return -1;
        zx_log(c->req->log_ctx, ZX_LOG_WARNING, ZXLOGNO(00434) "Sync loop: account %s, "
               "device %s, folder %s (%s): the device sent SyncKey of the same changes %d times "
               "and failed with a window of one; item %s is skipped for this device "
               "(zxsuite mobile getLoops / clearLoop)", c->req->account.name,
               c->req->device_id ? c->req->device_id : "?", s->folder->id,
               s->folder->name ? s->folder->name : "", retries, it->id);
        if (!s->skipped)
            s->skipped = apr_array_make(c->p, 1, sizeof(const char *));
        APR_ARRAY_PUSH(s->skipped, const char *) = it->id;
    }
    if (!s->skipped)
        return 0;
    int kept = 0;
    for (int i = 0; i < changes->nelts; i++) {
        zx_sync_change *ch = &APR_ARRAY_IDX(changes, i, zx_sync_change);
        if (!is_skipped(s->skipped, ch->item->id))
            APR_ARRAY_IDX(changes, kept++, zx_sync_change) = *ch;
    }
    changes->nelts = kept;
    return 0;
}
