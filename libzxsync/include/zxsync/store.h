/* zxmobile - the mail store: folders and items of one account, behind a provider interface
 * split by concern (mod_dav style: mailbox, items, room for search) so that another backend can
 * be added; the synchronisation states of the devices always live in PostgreSQL.  The
 * PostgreSQL provider is zx_store_pg (libzxsync/store/pg_*.c, schema sql/004_mailstore.sql).
 *
 * Change tracking: every change of a folder's items advances that folder's modification
 * sequence (modseq); each changed item gets a modseq of its own, so modseqs are unique within a
 * folder.  Deletions leave tombstones (deleted = 1) until every device has seen them.  Folder
 * changes advance the account's hierarchy sequence likewise.  A writer holds the folder's row
 * lock while it takes the next modseq, so modseq order is commit order and a reader that has
 * seen "everything up to N" never misses a change numbered below N.
 *
 * Results: every operation returns ZX_STORE_OK (0), ZX_STORE_ERROR (-1, database or internal
 * error, *err says what) or one of the positive zx_store_result codes below (*out, if any, is
 * then NULL).  "Not found" covers items and folders of other accounts and deleted ones.
 * Operations that change something run in one transaction - nested in the caller's when one
 * is open on the connection (zx_db_tx_begin) - and NOTIFY the channel "zx_mailbox" with the
 * account id as payload, delivered when that transaction commits.
 *
 * Ids are decimal text.  A device is the row id (text) of the devices table (zx_request
 * device_row); NULL means the server (delivery, an admin command).  A change made by a device
 * is not sent back to that device by Sync.
 */
#ifndef ZXSYNC_STORE_H
#define ZXSYNC_STORE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <zxsync/db.h>
#include <zxsync/pim.h>

/* [MS-ASCMD] 2.2.3.186.3 Type (FolderSync) */
typedef enum {
    ZX_FOLDER_USER_GENERIC = 1,
    ZX_FOLDER_INBOX = 2,
    ZX_FOLDER_DRAFTS = 3,
    ZX_FOLDER_DELETED = 4,
    ZX_FOLDER_SENT = 5,
    ZX_FOLDER_OUTBOX = 6,
    ZX_FOLDER_TASKS = 7,
    ZX_FOLDER_CALENDAR = 8,
    ZX_FOLDER_CONTACTS = 9,
    ZX_FOLDER_NOTES = 10,
    ZX_FOLDER_JOURNAL = 11,
    ZX_FOLDER_USER_MAIL = 12,
    ZX_FOLDER_USER_CALENDAR = 13,
    ZX_FOLDER_USER_CONTACTS = 14,
    ZX_FOLDER_USER_TASKS = 15,
    ZX_FOLDER_USER_JOURNAL = 16,
    ZX_FOLDER_USER_NOTES = 17,
    ZX_FOLDER_UNKNOWN = 18,
    ZX_FOLDER_RI_CACHE = 19
} zx_folder_type;

typedef enum {
    ZX_STORE_ERROR = -1,         /* database or internal error (*err) */
    ZX_STORE_OK = 0,
    ZX_STORE_NOT_FOUND = 1,      /* no such (live) item or folder in this account */
    ZX_STORE_EXISTS = 2,         /* a sibling folder already has that name */
    ZX_STORE_SYSTEM = 3,         /* a standard folder cannot be renamed, moved or deleted */
    ZX_STORE_PARENT_NOT_FOUND = 4,
    ZX_STORE_INVALID = 5         /* invalid argument: name, type, a move into its own subtree */
} zx_store_result;

typedef struct {
    const char *id;             /* server id: decimal text */
    const char *parent_id;      /* "0" at the top */
    const char *name;
    int type;                   /* zx_folder_type */
    const char *item_class;     /* "Email", "Calendar", "Contacts", "Tasks", "Notes" */
    int system;                 /* a standard folder: cannot be deleted or renamed */
    long long created_seq;      /* hierarchy sequence when created */
    long long changed_seq;      /* hierarchy sequence of its last change */
    int deleted;                /* tombstone */
    long long modseq;           /* last item modseq of the folder */
    const char *created_by;     /* device that created it, NULL = server */
    const char *changed_by;     /* device that made its last change, NULL = server */
} zx_folder;

/* Follow-up flag (MS-ASEMAIL Flag); times are 0 when not set */
typedef struct {
    int status;                 /* 0 cleared, 1 complete, 2 active */
    const char *flag_type;      /* "for Follow Up" */
    apr_time_t start, due, utc_start, utc_due, complete_time, date_completed, reminder_time;
    int reminder_set;
    const char *subject;
    int ordinal_date_set;
    apr_time_t ordinal_date;
    const char *sub_ordinal_date;
} zx_flag;

typedef struct zx_item_content zx_item_content;

typedef struct {
    const char *id;             /* item id: decimal text, unique per account */
    const char *folder_id;
    long long modseq;
    int deleted;                /* tombstone */
    const char *changed_by;     /* device (row id) that made the last change, NULL = server */
    const char *item_class;     /* "Email" */
    apr_time_t received;
    apr_size_t size;            /* RFC 5322 size */
    /* flags */
    int read;
    int answered;
    int forwarded;
    int last_verb;              /* MS-ASEMAIL2 LastVerbExecuted: 0 unknown, 1 reply to sender,
                                   2 reply to all, 3 forward */
    apr_time_t last_verb_time;
    zx_flag flag;
    apr_array_header_t *categories;    /* const char * */
    /* envelope, from the MIME at delivery (UTF-8) */
    const char *subject;
    const char *from;
    const char *to;
    const char *cc;
    const char *reply_to;
    const char *message_id;
    const char *thread_topic;
    int importance;
    const char *message_class;
    const char *content_class;
    int native_body_type;
    int has_attachments;
    /* additions */
    long long created_modseq;   /* folder modseq when the item was created */
    const char *created_by;     /* device that created it (a move by a device), NULL = server */
    const unsigned char *conversation_id;   /* 16 bytes, NULL when unknown */
    const char *moved_to;       /* a tombstone of a move: the new item's id (item_tombstone
                                   only), else NULL */
    const zx_item_content *content;         /* filled by item_contents, else NULL */
    /* a task: the modseq of the version that last completed it and of the one that last
     * reopened it (0: never) - whether a device that keeps incomplete tasks only held it */
    long long completed_modseq, reopened_modseq;
    /* a calendar event: its window key (received) before a change last moved it, and the
     * modseq of that change (0: never moved) - whether a device with a time window held it */
    apr_time_t prev_received;
    long long received_modseq;
} zx_item;

/* What ActiveSync shows of a message, extracted at delivery (see zx_mime_parse). */
struct zx_item_content {
    const char *text_plain;     /* UTF-8 text (converted from the HTML for HTML-only mail) */
    apr_size_t plain_size;      /* full size in bytes (text_plain may be cut, see below) */
    const char *text_html;      /* UTF-8 HTML, NULL when the message has none */
    apr_size_t html_size;
    const char *preview;        /* up to 255 characters of text on one line */
    const char *mime;           /* the RFC 5322 bytes when asked for, else NULL */
    apr_size_t mime_len;        /* bytes in mime */
    apr_size_t mime_size;       /* full size */
    apr_array_header_t *attachments;   /* zx_mime_attachment (zxsync/mime.h) */
    /* a contact, task or note (zxsync/pim.h): its properties, loaded whatever want says;
     * NULL for e-mail */
    const zx_pim_props *pim;
};

/* How much of each body form item_contents loads: a byte count, or -1 for everything; 0 = not
 * at all.  Texts are cut on a UTF-8 character boundary at or after the count (callers cut them
 * to the exact size they need). */
typedef struct {
    long long plain, html, mime;
} zx_content_want;

/* Fields a client may change on an item (Sync Change); a NULL pointer / -1 = unchanged. */
typedef struct {
    int read;                   /* -1 unchanged */
    const zx_flag *flag;        /* NULL unchanged; status 0 clears */
    apr_array_header_t *categories;    /* NULL unchanged; empty array clears */
    int answered, forwarded, last_verb;     /* -1 unchanged */
    const zx_pim_props *pim;    /* a contact, task or note: the fields set change, NULL none */
} zx_item_changes;

/* An item a device holds in a version newer than its position (see zx_sync_pos). */
typedef struct {
    long long id, modseq;
} zx_sync_ahead;

/* Where a device is in a folder (the sync engine keeps one per SyncKey):
 *   modseq       the device has every change numbered up to it, and the items created up to
 *                it (the changes after it are walked in the order of zx_store_changes:
 *                an item created after modseq at its creation, an older one at its
 *                last change, so an item is never passed over before it was sent);
 *   enumerating  the initial enumeration of the folder runs: the live items created up to
 *                `modseq` are listed newest first, after (cursor_received, cursor_id)
 *                (cursor_id NULL: from the newest); later changes follow as changes;
 *   aged         the items before (aged_received, aged_id) have left the device's FilterType
 *                window and were removed from it (SoftDelete); aged_id NULL: none yet. */
typedef struct {
    long long modseq;
    int enumerating;
    apr_time_t cursor_received;
    const char *cursor_id;
    apr_time_t aged_received;
    const char *aged_id;
    /* ahead: change rows after modseq that are no news to the device - an item it was sent in
     * that version (added at its creation although its last change is later, or listed by the
     * initial enumeration after a change): no Change is sent again, and a change the device
     * makes to it is no conflict; or the tombstone of an item deleted before the initial
     * enumeration reached it: it was never sent, so no Delete either.  Entries at or below
     * modseq are dropped.  zx_sync_ahead elements; NULL = none. */
    apr_array_header_t *ahead;
} zx_sync_pos;

/* The synchronisation state of a device for one folder: the position each SyncKey stands for
 * (the current key and the previous one, which a client that lost a response sends again). */
typedef struct {
    long long key;              /* 0 = none */
    zx_sync_pos pos;
} zx_sync_key;

typedef struct {
    const char *folder_id;      /* in: the collection */
    zx_folder *folder;          /* out: the live folder, NULL when there is none */
    int exists;                 /* out: the device has a state for it */
    zx_sync_key cur, prev;
    int filter_type;            /* FilterType the state was built with */
    const char *options;        /* WBXML of the collection's last Options element, NULL = none */
    apr_size_t options_len;
    /* the elements the device declared in the airsync:Supported of its first Sync of the
     * collection ([MS-ASCMD] 2.2.3.179) as "{tag,tag}" (WBXML tag numbers, "{}" = none of
     * them); NULL = it sent no Supported */
    const char *supported;
    apr_time_t updated;         /* out, zx_store_device_states only: when it was last written */
    /* loop detection: the consecutive Syncs with the previous key, and (out) the ids (const
     * char *) of the items skipped for the device in this folder, NULL = none */
    int retries;
    apr_array_header_t *skipped;
} zx_sync_state;

/* The folder-hierarchy (FolderSync) state of a device. */
typedef struct {
    int exists;
    long long key, hier_seq;    /* current key and the hierarchy sequence it stands for */
    long long prev_key, prev_hier_seq;   /* prev_key 0 = none */
} zx_folder_state;

typedef struct zx_store zx_store;

/* ---- the provider interface, split by concern (as mod_dav's repository/locks/search) -------
 *
 * A mail store is a provider: its mailbox (the folders, delivery) and its items (reading,
 * changing, the change feed Sync walks), and room for search.  The synchronisation states of
 * the devices are not the provider's: they always live in PostgreSQL (zx_store_pg_state),
 * whatever holds the mail - a provider backed by an IMAP server implements zx_store_mailbox and
 * zx_store_items alone.  Its ids are decimal text, and the states refer to rows of the
 * folders table (sync_states.folder_id): such a provider keeps a row per folder there too.
 * Every operation is reached through its zx_store_<op>() wrapper below, never through the
 * tables directly. */

/* The mailbox: folders and what comes into them. */
typedef struct {
    /* create the standard folders if the account has none (idempotent) */
    int (*ensure_mailbox)(zx_store *st, const char **err);
    /* folders changed after hierarchy sequence `since` (0 = all live folders), tombstones of
     * folders deleted after it, in change order; *now = the current hierarchy sequence.
     * Creates the standard folders on first use. */
    int (*folders)(zx_store *st, long long since, apr_array_header_t **out, long long *now,
                   const char **err);      /* zx_folder * */
    int (*folder_get)(zx_store *st, const char *id, zx_folder **out, const char **err);
    /* the standard folder of a type (ZX_FOLDER_USER_MAIL: Junk E-Mail) */
    int (*folder_by_type)(zx_store *st, int type, zx_folder **out, const char **err);
    /* a folder by id, or by path of names from the top ("Inbox/Projects"), case-insensitive */
    int (*folder_find)(zx_store *st, const char *id_or_path, zx_folder **out, const char **err);
    /* create/rename-or-move/delete on behalf of device (NULL = server).  parent_id "0" or NULL
     * = top level; folder_update: NULL parent_id or name = unchanged.  Deleting a folder
     * deletes its subfolders and their items. */
    int (*folder_create)(zx_store *st, const char *parent_id, const char *name, int type,
                         const char *device, zx_folder **out, const char **err);
    int (*folder_update)(zx_store *st, const char *id, const char *parent_id,
                         const char *name, const char *device, const char **err);
    int (*folder_delete)(zx_store *st, const char *id, const char *device, const char **err);
    int (*folder_empty)(zx_store *st, const char *folder_id, int include_subfolders,
                        const char *device, const char **err);
    /* store a message (RFC 5322) in folder; read = initial \Seen */
    int (*deliver)(zx_store *st, const char *folder_id, const char *data, apr_size_t len,
                   int read, zx_item **out, const char **err);
    /* deliver with a received time (0 = now), e.g. for imports */
    int (*deliver_at)(zx_store *st, const char *folder_id, const char *data, apr_size_t len,
                      int read, apr_time_t received, zx_item **out, const char **err);
    /* after a bulk load (zxsuite mailbox import): bring up to date what the backend plans its
     * queries with, so the first Sync of the new items already walks them in index order
     * (pg: ANALYZE); NULL = nothing to do */
    int (*bulk_loaded)(zx_store *st, const char **err);
    /* the live folders of n collections: states[i].folder for states[i].folder_id, NULL when
     * there is none.  NULL = the sync-state provider's own reading of the folders table is
     * the provider's (its folders are rows of the same database: the PostgreSQL store). */
    int (*collections)(zx_store *st, zx_sync_state *states, int n, const char **err);
} zx_store_mailbox;

/* The items: reading them, the change feed, changing them. */
typedef struct {
    /* the changes of folder after position since (tombstones too) in walk order: an item
     * created after since at its creation (created_modseq), an older one at its last change
     * (modseq) - each item once, at its key; at most limit (*more says whether more remain);
     * received_after > 0 skips older live items */
    int (*changes)(zx_store *st, const char *folder_id, long long since,
                   apr_time_t received_after, int limit, apr_array_header_t **out, int *more,
                   const char **err);      /* zx_item * */
    /* initial enumeration from pos (enumerating): up to limit live items created up to
     * pos->modseq and received at or after received_after (0 = all), newest first.  *gone
     * (zx_sync_ahead, NULL = none) lists the items created up to pos->modseq and deleted after
     * it that lie where this part of the enumeration passes (after the cursor, and before
     * the limit-1'th item when there are limit items): the device is never sent them, so
     * their deletion is no news to it.  Both come from one snapshot. */
    int (*enumerate)(zx_store *st, const char *folder_id, const zx_sync_pos *pos,
                     apr_time_t received_after, int limit, apr_array_header_t **out,
                     apr_array_header_t **gone, const char **err);    /* zx_item * */
    /* how many changes a device at pos would receive (GetItemEstimate); skip_complete: a
     * completed item (flag status 1: a task) the device has not been sent is no news */
    int (*estimate)(zx_store *st, const char *folder_id, const zx_sync_pos *pos,
                    apr_time_t received_after, int skip_complete, const char *device,
                    long long *count, const char **err);
    /* items the device at pos holds that left its FilterType window: live items created up to
     * pos->modseq, from (aged_received, aged_id) on and received before `before`, oldest first,
     * at most limit */
    int (*aged)(zx_store *st, const char *folder_id, const zx_sync_pos *pos, apr_time_t before,
                int limit, apr_array_header_t **out, const char **err);   /* zx_item * */
    /* drop the folder's tombstones that every device state has passed */
    int (*purge_tombstones)(zx_store *st, const char *folder_id, const char **err);
    int (*item_get)(zx_store *st, const char *id, zx_item **out, const char **err);
    /* the tombstone of a deleted (or moved away) item while it is kept: who removed it
     * (changed_by), from where, and where a move took it (moved_to); ZX_STORE_NOT_FOUND when
     * id is live, unknown or purged */
    int (*item_tombstone)(zx_store *st, const char *id, zx_item **out, const char **err);
    int (*item_mime)(zx_store *st, const char *id, const char **data, apr_size_t *len,
                     const char **err);
    /* load the content of items (zx_item *) for rendering: one round trip for all of them */
    int (*item_contents)(zx_store *st, apr_array_header_t *items, const zx_content_want *want,
                         const char **err);
    /* the live items of a conversation (16 bytes) in e-mail folders other than except_folder
     * and Sent Items, by id (ItemOperations Move): zx_item * with id and folder_id */
    int (*conversation_items)(zx_store *st, const unsigned char *conversation_id,
                              const char *except_folder, apr_array_header_t **out,
                              const char **err);
    /* whether the mailbox has a live item of that conversation in any folder (*yes) */
    int (*conversation_known)(zx_store *st, const unsigned char *conversation_id, int *yes,
                              const char **err);
    /* apply client changes; device = row id of the device making them (NULL = server) */
    int (*item_update)(zx_store *st, const char *id, const zx_item_changes *ch,
                       const char *device, const char **err);
    /* the item gets a new id in dst, moved by device (NULL = the server).  The source becomes
     * the device's tombstone and the new item the device's creation (it knows the new id, so
     * neither is sent back to it).  seen_modseq is the version of the item the device is known
     * to hold (0: unknown): when the item is still at it the new item is also the device's
     * last change, else the server's, so that the device gets its current flags as a Change.
     * ZX_STORE_NOT_FOUND: no such item, ZX_STORE_PARENT_NOT_FOUND: no such destination,
     * ZX_STORE_INVALID: the item is in dst already */
    int (*item_move)(zx_store *st, const char *id, const char *dst_folder_id,
                     const char *device, long long seen_modseq, const char **new_id,
                     const char **err);
    /* Sync Delete with DeletesAsMoves: the item goes to dst; its removal from the source is the
     * device's change, its arrival in dst a server change (the device is told about it) */
    int (*item_trash)(zx_store *st, const char *id, const char *dst_folder_id,
                      const char *device, const char **err);
    int (*item_delete)(zx_store *st, const char *id, const char *device, const char **err);
    /* a new contact, task or note in folder (of the props' class: else ZX_STORE_INVALID),
     * created by device (NULL = the server, e.g. an import); its fields are those set */
    int (*pim_create)(zx_store *st, const char *folder_id, const zx_pim_props *props,
                      const char *device, zx_item **out, const char **err);
    /* the end of calendar event id's last occurrence (last_end: a dateTime, NULL = none) and
     * so its window key, after a change moved it (zxsync/pimcal.h zx_pimcal_prepare): no new
     * modseq, the change that moved it has one */
    int (*calendar_window)(zx_store *st, const char *id, const char *last_end, const char **err);
    /* ResolveRecipients: the live contacts whose e-mail address (Email1-3, the address of a
     * "Name <addr>" form) is `to` (exact, any case) or whose first name, last name, FileAs or
     * address starts with it (case- and accent-insensitive), one zx_contact_match per
     * address, exact ones first, at most limit */
    int (*contacts_match)(zx_store *st, const char *to, int limit, apr_array_header_t **out,
                          const char **err);
    /* A 16.x draft (Sync Add/Change of e-mail in Drafts) saved by device: the message (RFC
     * 5322) becomes a new item of folder created by device (replace_id NULL; read), or the new
     * content of live item replace_id of that folder, which keeps its id and flags and gets a
     * new modseq as the device's change.  *out: the item as stored.  NULL in a provider:
     * drafts are not kept (ZX_STORE_INVALID). */
    int (*draft_save)(zx_store *st, const char *folder_id, const char *replace_id,
                      const char *data, apr_size_t len, const char *device, zx_item **out,
                      const char **err);
} zx_store_items;

/* A contact found by contacts_match. */
typedef struct {
    const char *item_id;
    const char *display_name;   /* first and last name, else FileAs, else NULL */
    const char *email;          /* the bare address */
    int exact;                  /* the address is the one asked for */
} zx_contact_match;


/* ---- search of the mailbox's mail (Search Store=Mailbox, Find) ------------------------------
 *
 * A text condition is a tree: AND / OR nodes over TEXT leaves.  A TEXT leaf's words must all
 * occur (each as a word or the beginning of one: prefix match), in any order, or, with phrase,
 * one after the other; fields limits where (0: anywhere).  Words are what the provider's
 * tokenizer makes of the text (the PostgreSQL one: store/fts.c - letters and digits of any
 * script, case and accents ignored, bigrams for scripts written without spaces). */
enum {
    ZX_SEARCH_SUBJECT = 1,
    ZX_SEARCH_FROM = 2,
    ZX_SEARCH_TO = 4,           /* To and Cc are one field to the PostgreSQL provider */
    ZX_SEARCH_CC = 8,
    ZX_SEARCH_BODY = 16
};

typedef enum { ZX_SEARCH_TEXT = 0, ZX_SEARCH_AND = 1, ZX_SEARCH_OR = 2 } zx_search_kind;

typedef struct zx_search_node {
    zx_search_kind kind;
    const char *text;           /* TEXT: UTF-8 */
    int fields;                 /* TEXT: ZX_SEARCH_* bits, 0 = every field */
    int phrase;                 /* TEXT: the words follow each other (a quoted string) */
    apr_array_header_t *kids;   /* AND, OR: const zx_search_node * */
} zx_search_node;

/* Longest number of words a query may have (else ZX_STORE_INVALID: "too complex"). */
#define ZX_SEARCH_MAX_WORDS 64

typedef struct {
    const zx_search_node *text; /* NULL: no text condition */
    /* the folders searched (const char * ids): NULL = every e-mail folder of the mailbox;
     * deep: their subfolders too.  An id that is not a live folder of the account matches
     * nothing. */
    apr_array_header_t *folders;
    int deep;
    apr_time_t after, before;   /* received strictly after / before (0: no bound) */
    const unsigned char *conversation_id;   /* 16 bytes, NULL = any */
    int offset, limit;          /* the results wanted, newest first (received, then id) */
} zx_search_query;

/* Matches beyond the first ZX_SEARCH_MAX_TOTAL (newest first) are not counted nor returned:
 * Find's Range ends at 999, and counting every match of a common word in a big mailbox would
 * cost more than the search. */
#define ZX_SEARCH_MAX_TOTAL 1000

/* The search provider.  Results are live e-mail items (zx_item *: the columns of item_get,
 * without content), newest first; *total = how many match, at most ZX_SEARCH_MAX_TOTAL. */
typedef struct zx_store_search {
    int (*mail)(zx_store *st, const zx_search_query *q, apr_array_header_t **out,
                long long *total, const char **err);
} zx_store_search;

typedef struct {
    const char *name;
    const zx_store_mailbox *mailbox;
    const zx_store_items *items;
    const zx_store_search *search;  /* NULL: none */
} zx_store_provider;

/* The synchronisation states of the devices: one implementation, in PostgreSQL
 * (zx_store_pg_state), for every provider.  The sync engine of eas/ keeps them here. */
typedef struct {
    /* the states of n collections and their folders, one round trip (the folders as the
     * mailbox's collections operation says, when it has one) */
    int (*sync_states_get)(zx_store *st, const char *device, zx_sync_state *states, int n,
                           const char **err);
    /* write a state if its current key is still expect_key (0: the device has none yet);
     * ZX_STORE_EXISTS when another request changed it first */
    int (*sync_state_put)(zx_store *st, const char *device, const zx_sync_state *s,
                          long long expect_key, const char **err);
    int (*folder_state_get)(zx_store *st, const char *device, zx_folder_state *out,
                            const char **err);
    int (*folder_state_put)(zx_store *st, const char *device, const zx_folder_state *s,
                            long long expect_key, const char **err);
    /* the collections of the device's last Sync request (for empty and partial requests) */
    int (*sync_cache_get)(zx_store *st, const char *device, const char **data, apr_size_t *len,
                          const char **err);
    int (*sync_cache_put)(zx_store *st, const char *device, const char *data, apr_size_t len,
                          const char **err);
    /* every state of a device, whatever account its folders belong to (zxsuite mobile
     * getDeviceInfo): zx_sync_state * with folder_id, folder (id, name and type; tombstones
     * too), cur.key, filter_type and updated, ordered by folder type, name and id */
    int (*device_states)(zx_store *st, const char *device, apr_array_header_t **out,
                         const char **err);
    /* loop detection: never send item_id of folder_id to the device again (attempts: the
     * Syncs with the same key before; window: the WindowSize it asked for) */
    int (*sync_skip)(zx_store *st, const char *device, const char *folder_id,
                     const char *item_id, int attempts, int window, const char **err);
} zx_store_syncstate;

struct zx_store {
    const zx_store_provider *provider;  /* the mail */
    const zx_store_syncstate *state;    /* the devices' states: zx_store_pg_state */
    apr_pool_t *pool;
    zx_db *db;
    const char *account_id;
    void *ctx;                  /* provider data */
};

/* The PostgreSQL store (libzxsync/store/pg_*.c) and the one sync-state implementation. */
extern const zx_store_provider zx_store_pg;
extern const zx_store_syncstate zx_store_pg_state;

/* A store on account_id over db, allocations from p: the PostgreSQL provider.  Another
 * provider is set by whoever opens it (st->provider, st->ctx: abq/dummy.c). */
zx_store *zx_store_open(apr_pool_t *p, zx_db *db, const char *account_id);

/* The operations, reached only through these wrappers (never through st->provider or
 * st->state directly); what each does is described at its table above. */

/* the mailbox */
int zx_store_ensure_mailbox(zx_store *st, const char **err);
int zx_store_folders(zx_store *st, long long since, apr_array_header_t **out, long long *now,
                     const char **err);
int zx_store_folder_get(zx_store *st, const char *id, zx_folder **out, const char **err);
int zx_store_folder_by_type(zx_store *st, int type, zx_folder **out, const char **err);
int zx_store_folder_find(zx_store *st, const char *id_or_path, zx_folder **out,
                         const char **err);
int zx_store_folder_create(zx_store *st, const char *parent_id, const char *name, int type,
                           const char *device, zx_folder **out, const char **err);
int zx_store_folder_update(zx_store *st, const char *id, const char *parent_id,
                           const char *name, const char *device, const char **err);
int zx_store_folder_delete(zx_store *st, const char *id, const char *device, const char **err);
int zx_store_folder_empty(zx_store *st, const char *folder_id, int include_subfolders,
                          const char *device, const char **err);
int zx_store_deliver(zx_store *st, const char *folder_id, const char *data, apr_size_t len,
                     int read, zx_item **out, const char **err);
int zx_store_deliver_at(zx_store *st, const char *folder_id, const char *data, apr_size_t len,
                        int read, apr_time_t received, zx_item **out, const char **err);
int zx_store_bulk_loaded(zx_store *st, const char **err);

/* the items */
int zx_store_changes(zx_store *st, const char *folder_id, long long since,
                     apr_time_t received_after, int limit, apr_array_header_t **out, int *more,
                     const char **err);
int zx_store_enumerate(zx_store *st, const char *folder_id, const zx_sync_pos *pos,
                       apr_time_t received_after, int limit, apr_array_header_t **out,
                       apr_array_header_t **gone, const char **err);
int zx_store_estimate(zx_store *st, const char *folder_id, const zx_sync_pos *pos,
                      apr_time_t received_after, int skip_complete, const char *device,
                      long long *count, const char **err);
int zx_store_aged(zx_store *st, const char *folder_id, const zx_sync_pos *pos,
                  apr_time_t before, int limit, apr_array_header_t **out, const char **err);
int zx_store_purge_tombstones(zx_store *st, const char *folder_id, const char **err);
int zx_store_item_get(zx_store *st, const char *id, zx_item **out, const char **err);
int zx_store_item_tombstone(zx_store *st, const char *id, zx_item **out, const char **err);
int zx_store_item_mime(zx_store *st, const char *id, const char **data, apr_size_t *len,
                       const char **err);
int zx_store_item_contents(zx_store *st, apr_array_header_t *items, const zx_content_want *want,
                           const char **err);
int zx_store_conversation_items(zx_store *st, const unsigned char *conversation_id,
                                const char *except_folder, apr_array_header_t **out,
                                const char **err);
int zx_store_conversation_known(zx_store *st, const unsigned char *conversation_id, int *yes,
                                const char **err);
int zx_store_item_update(zx_store *st, const char *id, const zx_item_changes *ch,
                         const char *device, const char **err);
int zx_store_item_move(zx_store *st, const char *id, const char *dst_folder_id,
                       const char *device, long long seen_modseq, const char **new_id,
                       const char **err);
int zx_store_item_trash(zx_store *st, const char *id, const char *dst_folder_id,
                        const char *device, const char **err);
int zx_store_item_delete(zx_store *st, const char *id, const char *device, const char **err);
int zx_store_pim_create(zx_store *st, const char *folder_id, const zx_pim_props *props,
                        const char *device, zx_item **out, const char **err);
int zx_store_calendar_window(zx_store *st, const char *id, const char *last_end,
                             const char **err);
int zx_store_contacts_match(zx_store *st, const char *to, int limit, apr_array_header_t **out,
                            const char **err);
int zx_store_draft_save(zx_store *st, const char *folder_id, const char *replace_id,
                        const char *data, apr_size_t len, const char *device, zx_item **out,
                        const char **err);

/* search: ZX_STORE_OK; ZX_STORE_INVALID when the query has more than ZX_SEARCH_MAX_WORDS
 * words; a provider without search (NULL) finds nothing (*out empty, *total 0) */
int zx_store_search_mail(zx_store *st, const zx_search_query *q, apr_array_header_t **out,
                         long long *total, const char **err);

/* the synchronisation states */
int zx_store_sync_states_get(zx_store *st, const char *device, zx_sync_state *states, int n,
                             const char **err);
int zx_store_sync_skip(zx_store *st, const char *device, const char *folder_id,
                       const char *item_id, int attempts, int window, const char **err);
int zx_store_sync_state_put(zx_store *st, const char *device, const zx_sync_state *s,
                            long long expect_key, const char **err);
int zx_store_folder_state_get(zx_store *st, const char *device, zx_folder_state *out,
                              const char **err);
int zx_store_folder_state_put(zx_store *st, const char *device, const zx_folder_state *s,
                              long long expect_key, const char **err);
int zx_store_sync_cache_get(zx_store *st, const char *device, const char **data,
                            apr_size_t *len, const char **err);
int zx_store_sync_cache_put(zx_store *st, const char *device, const char *data, apr_size_t len,
                            const char **err);
int zx_store_device_states(zx_store *st, const char *device, apr_array_header_t **out,
                           const char **err);

/* "Inbox", "Drafts", ... for the standard folder types, NULL for others. */
const char *zx_store_standard_name(int type);
/* The item class of a folder type ("Email", "Calendar", ...). */
const char *zx_store_type_class(int type);

#endif
