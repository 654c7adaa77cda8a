/* zxmobile - the sync engine: which changes a device gets next, in windows, from the position
 * its SyncKey stands for (zxsync/store.h zx_sync_pos), and the SyncKey values themselves.
 *
 * A position is a folder modseq up to which the device has every change and every item created,
 * plus, while the initial enumeration runs, how far that enumeration got (newest items first),
 * plus the few change rows after that modseq that are no news to it ("ahead": an item it was
 * sent in a newer version, the tombstone of an item the initial enumeration never sent).  The changes
 * after the modseq are walked in key order, an item created after it at its creation, an older
 * one at its last change (zx_sync_walk_key), so that an item is never passed over before it was
 * sent; each is classified against what the device has:
 *   - it has an item created at or before its modseq, or created by the device itself
 *     (MoveItems), and not otherwise;
 *   - a live item it does not have is an Add, one it has a Change (unless the device made
 *     that change itself, or holds that version ahead: nothing is echoed), a deleted item it
 *     has a Delete (unless the enumeration passed it deleted);
 *   - live items received before the FilterType window are skipped; those the device holds
 *     get a SoftDelete once they left it (checked every ZX_SYNC_AGING_STEP).
 * One window reads at most window + ZX_SYNC_SCAN_EXTRA change rows, so a Sync round trip
 * touches a bounded number of rows whatever the device skips. */
#ifndef ZX_EAS_SYNCSTATE_H
#define ZX_EAS_SYNCSTATE_H

#include <zxsync/store.h>

#define ZX_SYNC_DEFAULT_WINDOW 100     /* [MS-ASCMD] 2.2.3.199: WindowSize omitted */
#define ZX_SYNC_MAX_WINDOW 512         /* 0 and larger values mean 512 */
#define ZX_SYNC_SCAN_EXTRA 400         /* change rows a window may skip */
#define ZX_SYNC_MAX_AHEAD 1024         /* items held ahead of the position that are kept */

typedef enum {
    ZX_SYNC_SKIP = 0, ZX_SYNC_ADD, ZX_SYNC_CHANGE, ZX_SYNC_DELETE,
    ZX_SYNC_SOFTDELETE          /* left the FilterType window ([MS-ASCMD] 2.2.3.172) */
} zx_sync_op;

/* How long the window's old edge may move on before its items get their SoftDelete: a Sync
 * with nothing else to do stays a Sync without a query in between. */
#define ZX_SYNC_AGING_STEP (15 * APR_USEC_PER_SEC * 60)

typedef struct {
    zx_sync_op op;
    zx_item *item;
} zx_sync_change;

/* [MS-ASCMD] 2.2.3.68.2 FilterType: 1 when the value exists. */
int zx_sync_filter_valid(int filter);
/* Oldest received time the filter keeps at time now (0: no filter). */
apr_time_t zx_sync_filter_cutoff(int filter, apr_time_t now);
/* 1 when filter b keeps items that filter a leaves out (b is wider). */
int zx_sync_filter_wider(int a, int b);

/* The cutoff that stands for FilterType 8 of a Tasks collection: incomplete tasks only (a
 * completed task is not sent, and leaves a device that holds it with a SoftDelete). */
#define ZX_SYNC_INCOMPLETE_TASKS ((apr_time_t)-1)

/* SyncKey text: "0" is the initial key; others are the decimal key numbers. */
const char *zx_sync_key_str(apr_pool_t *p, long long key);
/* 0 and *key, or -1 when s is no key this server could have given. */
int zx_sync_key_parse(const char *s, long long *key);

/* What a change row is for a device at watermark `modseq`. */
zx_sync_op zx_sync_classify(const zx_item *row, long long modseq, const char *device,
                            apr_time_t cutoff);

/* The next window of changes for device from *from: up to window changes (zx_sync_change)
 * in *changes, the position after them in *to, and *more when changes remain after it.
 * folder is the collection as loaded with the state (its modseq tells whether anything
 * changed at all). */
int zx_sync_window(zx_store *st, const zx_folder *folder, const char *device,
                   const zx_sync_pos *from, apr_time_t cutoff, int window,
                   apr_array_header_t **changes, zx_sync_pos *to, int *more, const char **err);

/* 1 when the device at pos was sent item in its current version although that version is newer
 * than pos (an entry of pos->ahead): its change row is no news, a change from the device to it
 * is no conflict. */
int zx_sync_pos_holds(const zx_sync_pos *pos, const zx_item *item);

/* The version (modseq) of item that a device surely holds, from its state s of the item's
 * folder: the item's own version when the device made its last change, or when the position
 * the device surely reached covers that version (the previous key's when the device could
 * have known the item there, else the current key's: it learnt the item from that answer);
 * else 0.  device is the device's row id. */
long long zx_sync_seen_version(const zx_sync_state *s, const zx_item *item, const char *device);

/* Note in pos that the change row of item is no news to the device (a tombstone of an item it
 * dropped itself after a status 8): an entry of pos->ahead while the row is above pos. */
void zx_sync_pos_note(apr_pool_t *p, zx_sync_pos *pos, const zx_item *item);

/* Where the walk after position since meets row: at its creation when it was created after
 * since (the device has not got it), else at its last change. */
long long zx_sync_walk_key(const zx_item *row, long long since);

/* Nothing for the device after pos (with the window starting at cutoff): a Sync with no
 * client change answers without a query. */
int zx_sync_quiet(const zx_folder *folder, const zx_sync_pos *pos, apr_time_t cutoff);

#endif
