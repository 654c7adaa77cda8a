/* zxmobile - opening a mail store (zxsync/store.h) and what every provider shares. */
#include <zxsync/store.h>

#include <apr_strings.h>

zx_store *zx_store_open(apr_pool_t *p, zx_db *db, const char *account_id)
{
    zx_store *st = apr_pcalloc(p, sizeof *st);
    st->provider = &zx_store_pg;
    st->state = &zx_store_pg_state;
    st->pool = p;
    st->db = db;
    st->account_id = apr_pstrdup(p, account_id);
    return st;
}

/* The wrappers: every operation goes through one of these (zxsync/store.h). */

/* ---- the mailbox ----------------------------------------------------------------------------- */

int zx_store_ensure_mailbox(zx_store *st, const char **err)
{
    return st->provider->mailbox->ensure_mailbox(st, err);
}

int zx_store_folders(zx_store *st, long long since, apr_array_header_t **out, long long *now,
                     const char **err)
{
    return st->provider->mailbox->folders(st, since, out, now, err);
}

int zx_store_folder_get(zx_store *st, const char *id, zx_folder **out, const char **err)
{
    return st->provider->mailbox->folder_get(st, id, out, err);
}

int zx_store_folder_by_type(zx_store *st, int type, zx_folder **out, const char **err)
{
    return st->provider->mailbox->folder_by_type(st, type, out, err);
}

int zx_store_folder_find(zx_store *st, const char *id_or_path, zx_folder **out,
                         const char **err)
{
    return st->provider->mailbox->folder_find(st, id_or_path, out, err);
}

int zx_store_folder_create(zx_store *st, const char *parent_id, const char *name, int type,
                           const char *device, zx_folder **out, const char **err)
{
    return st->provider->mailbox->folder_create(st, parent_id, name, type, device, out, err);
}

int zx_store_folder_update(zx_store *st, const char *id, const char *parent_id,
                           const char *name, const char *device, const char **err)
{
    return st->provider->mailbox->folder_update(st, id, parent_id, name, device, err);
}

int zx_store_folder_delete(zx_store *st, const char *id, const char *device, const char **err)
{
    return st->provider->mailbox->folder_delete(st, id, device, err);
}

int zx_store_folder_empty(zx_store *st, const char *folder_id, int include_subfolders,
                          const char *device, const char **err)
{
    return st->provider->mailbox->folder_empty(st, folder_id, include_subfolders, device, err);
}

int zx_store_deliver(zx_store *st, const char *folder_id, const char *data, apr_size_t len,
                     int read, zx_item **out, const char **err)
{
    return st->provider->mailbox->deliver(st, folder_id, data, len, read, out, err);
}

int zx_store_deliver_at(zx_store *st, const char *folder_id, const char *data, apr_size_t len,
                        int read, apr_time_t received, zx_item **out, const char **err)
{
    return st->provider->mailbox->deliver_at(st, folder_id, data, len, read, received, out, err);
}

int zx_store_bulk_loaded(zx_store *st, const char **err)
{
    const zx_store_mailbox *m = st->provider->mailbox;
    return m->bulk_loaded ? m->bulk_loaded(st, err) : ZX_STORE_OK;
}

/* ---- the items ------------------------------------------------------------------------------- */

int zx_store_changes(zx_store *st, const char *folder_id, long long since,
                     apr_time_t received_after, int limit, apr_array_header_t **out, int *more,
                     const char **err)
{
    return st->provider->items->changes(st, folder_id, since, received_after, limit, out, more,
                                        err);
}

int zx_store_enumerate(zx_store *st, const char *folder_id, const zx_sync_pos *pos,
                       apr_time_t received_after, int limit, apr_array_header_t **out,
                       apr_array_header_t **gone, const char **err)
{
    return st->provider->items->enumerate(st, folder_id, pos, received_after, limit, out, gone,
                                          err);
}

int zx_store_estimate(zx_store *st, const char *folder_id, const zx_sync_pos *pos,
                      apr_time_t received_after, int skip_complete, const char *device,
                      long long *count, const char **err)
{
    return st->provider->items->estimate(st, folder_id, pos, received_after, skip_complete,
                                         device, count, err);
}

int zx_store_aged(zx_store *st, const char *folder_id, const zx_sync_pos *pos,
                  apr_time_t before, int limit, apr_array_header_t **out, const char **err)
{
    return st->provider->items->aged(st, folder_id, pos, before, limit, out, err);
}

int zx_store_purge_tombstones(zx_store *st, const char *folder_id, const char **err)
{
    return st->provider->items->purge_tombstones(st, folder_id, err);
}

int zx_store_item_get(zx_store *st, const char *id, zx_item **out, const char **err)
{
    return st->provider->items->item_get(st, id, out, err);
}

int zx_store_item_tombstone(zx_store *st, const char *id, zx_item **out, const char **err)
{
    return st->provider->items->item_tombstone(st, id, out, err);
}

int zx_store_item_mime(zx_store *st, const char *id, const char **data, apr_size_t *len,
                       const char **err)
{
    return st->provider->items->item_mime(st, id, data, len, err);
}

int zx_store_item_contents(zx_store *st, apr_array_header_t *items, const zx_content_want *want,
                           const char **err)
{
    return st->provider->items->item_contents(st, items, want, err);
}

int zx_store_item_update(zx_store *st, const char *id, const zx_item_changes *ch,
                         const char *device, const char **err)
{
    return st->provider->items->item_update(st, id, ch, device, err);
}

int zx_store_item_move(zx_store *st, const char *id, const char *dst_folder_id,
                       const char *device, long long seen_modseq, const char **new_id,
                       const char **err)
{
    return st->provider->items->item_move(st, id, dst_folder_id, device, seen_modseq, new_id, err);
}

int zx_store_item_trash(zx_store *st, const char *id, const char *dst_folder_id,
                        const char *device, const char **err)
{
    return st->provider->items->item_trash(st, id, dst_folder_id, device, err);
}

int zx_store_item_delete(zx_store *st, const char *id, const char *device, const char **err)
{
    return st->provider->items->item_delete(st, id, device, err);
}

int zx_store_pim_create(zx_store *st, const char *folder_id, const zx_pim_props *props,
                        const char *device, zx_item **out, const char **err)
{
    *out = NULL;
    if (!st->provider->items->pim_create)
        return ZX_STORE_INVALID;
    return st->provider->items->pim_create(st, folder_id, props, device, out, err);
}

int zx_store_calendar_window(zx_store *st, const char *id, const char *last_end,
                             const char **err)
{
    if (!st->provider->items->calendar_window)
        return ZX_STORE_INVALID;
    return st->provider->items->calendar_window(st, id, last_end, err);
}

int zx_store_contacts_match(zx_store *st, const char *to, int limit, apr_array_header_t **out,
                            const char **err)
{
    if (!st->provider->items->contacts_match) {     /* no contacts: none match */
        *out = apr_array_make(st->pool, 1, sizeof(zx_contact_match *));
        return ZX_STORE_OK;
    }
    return st->provider->items->contacts_match(st, to, limit, out, err);
}

int zx_store_draft_save(zx_store *st, const char *folder_id, const char *replace_id,
                        const char *data, apr_size_t len, const char *device, zx_item **out,
                        const char **err)
{
    *out = NULL;
    if (!st->provider->items->draft_save)
        return ZX_STORE_INVALID;
    return st->provider->items->draft_save(st, folder_id, replace_id, data, len, device, out,
                                           err);
}

/* ---- search ---------------------------------------------------------------------------------- */

int zx_store_search_mail(zx_store *st, const zx_search_query *q, apr_array_header_t **out,
                         long long *total, const char **err)
{
    if (!st->provider->search || !st->provider->search->mail) {
        *out = apr_array_make(st->pool, 1, sizeof(zx_item *));
        *total = 0;
        return ZX_STORE_OK;
    }
    return st->provider->search->mail(st, q, out, total, err);
}

int zx_store_conversation_items(zx_store *st, const unsigned char *conversation_id,
                                const char *except_folder, apr_array_header_t **out,
                                const char **err)
{
    return st->provider->items->conversation_items(st, conversation_id, except_folder, out, err);
}

int zx_store_conversation_known(zx_store *st, const unsigned char *conversation_id, int *yes,
                                const char **err)
{
    return st->provider->items->conversation_known(st, conversation_id, yes, err);
}

/* ---- the synchronisation states -------------------------------------------------------------- */

int zx_store_sync_states_get(zx_store *st, const char *device, zx_sync_state *states, int n,
                             const char **err)
{
    int rc = st->state->sync_states_get(st, device, states, n, err);
    if (rc == ZX_STORE_OK && st->provider->mailbox->collections)
        rc = st->provider->mailbox->collections(st, states, n, err);
    return rc;
}

int zx_store_sync_state_put(zx_store *st, const char *device, const zx_sync_state *s,
                            long long expect_key, const char **err)
{
    return st->state->sync_state_put(st, device, s, expect_key, err);
}

int zx_store_sync_skip(zx_store *st, const char *device, const char *folder_id,
                       const char *item_id, int attempts, int window, const char **err)
{
    return st->state->sync_skip(st, device, folder_id, item_id, attempts, window, err);
}

int zx_store_folder_state_get(zx_store *st, const char *device, zx_folder_state *out,
                              const char **err)
{
    return st->state->folder_state_get(st, device, out, err);
}

int zx_store_folder_state_put(zx_store *st, const char *device, const zx_folder_state *s,
                              long long expect_key, const char **err)
{
    return st->state->folder_state_put(st, device, s, expect_key, err);
}

int zx_store_sync_cache_get(zx_store *st, const char *device, const char **data,
                            apr_size_t *len, const char **err)
{
    return st->state->sync_cache_get(st, device, data, len, err);
}

int zx_store_sync_cache_put(zx_store *st, const char *device, const char *data, apr_size_t len,
                            const char **err)
{
    return st->state->sync_cache_put(st, device, data, len, err);
}

int zx_store_device_states(zx_store *st, const char *device, apr_array_header_t **out,
                           const char **err)
{
    return st->state->device_states(st, device, out, err);
}

const char *zx_store_standard_name(int type)
{
    switch (type) {
    case ZX_FOLDER_INBOX: return "Inbox";
    case ZX_FOLDER_DRAFTS: return "Drafts";
    case ZX_FOLDER_DELETED: return "Deleted Items";
    case ZX_FOLDER_SENT: return "Sent Items";
    case ZX_FOLDER_OUTBOX: return "Outbox";
    case ZX_FOLDER_USER_MAIL: return "Junk E-Mail";
    case ZX_FOLDER_CALENDAR: return "Calendar";
    case ZX_FOLDER_CONTACTS: return "Contacts";
    case ZX_FOLDER_TASKS: return "Tasks";
    case ZX_FOLDER_NOTES: return "Notes";
    default: return NULL;
    }
}

const char *zx_store_type_class(int type)
{
    switch (type) {
    case ZX_FOLDER_TASKS:
    case ZX_FOLDER_USER_TASKS:
        return "Tasks";
    case ZX_FOLDER_CALENDAR:
    case ZX_FOLDER_USER_CALENDAR:
        return "Calendar";
    case ZX_FOLDER_CONTACTS:
    case ZX_FOLDER_USER_CONTACTS:
    case ZX_FOLDER_RI_CACHE:
        return "Contacts";
    case ZX_FOLDER_NOTES:
    case ZX_FOLDER_USER_NOTES:
        return "Notes";
    case ZX_FOLDER_JOURNAL:
    case ZX_FOLDER_USER_JOURNAL:
        return "Journal";
    default:
        return "Email";
    }
}
