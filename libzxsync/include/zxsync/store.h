/* zxmobile - the mail store: folders and items of one account, behind a provider interface
 * (mod_dav style) so that another backend can be added later.  The PostgreSQL provider is
 * zx_store_pg.
 *
 * Change tracking: every change of a folder's items advances that folder's modification
 * sequence (modseq); deletions leave tombstones (deleted = 1) until every device has seen
 * them.  Folder changes advance the account's hierarchy sequence likewise.  A writer holds
 * the folder's row lock while it takes the next modseq, so modseq order is commit order and a
 * reader that has seen "everything up to N" never misses a change numbered below N.
 */
#ifndef ZXSYNC_STORE_H
#define ZXSYNC_STORE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <zxsync/db.h>

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
} zx_folder;

/* Follow-up flag (MS-ASEMAIL Flag) */
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
} zx_item;

/* Fields a client may change on an item (Sync Change); a NULL pointer / -1 = unchanged. */
typedef struct {
    int read;                   /* -1 unchanged */
    const zx_flag *flag;        /* NULL unchanged; status 0 clears */
    apr_array_header_t *categories;    /* NULL unchanged; empty array clears */
    int answered, forwarded, last_verb;     /* -1 unchanged */
} zx_item_changes;

typedef struct zx_store zx_store;

/* The provider: one implementation of every operation, all on one account. */
typedef struct {
    const char *name;
    /* create the standard folders if the account has none (idempotent) */
    int (*ensure_mailbox)(zx_store *st, const char **err);
    /* folders changed after hierarchy sequence `since` (0 = all live folders), tombstones of
     * folders deleted after it; *now = the current hierarchy sequence */
    int (*folders)(zx_store *st, long long since, apr_array_header_t **out, long long *now,
                   const char **err);
    int (*folder_get)(zx_store *st, const char *id, zx_folder **out, const char **err);
    int (*folder_by_type)(zx_store *st, int type, zx_folder **out, const char **err);
    int (*folder_create)(zx_store *st, const char *parent_id, const char *name, int type,
                         zx_folder **out, const char **err);
    int (*folder_update)(zx_store *st, const char *id, const char *parent_id,
                         const char *name, const char **err);
    int (*folder_delete)(zx_store *st, const char *id, const char **err);
    /* items of folder with modseq > since, oldest change first, at most limit (+1 to tell
     * whether more remain: *more); received_after > 0 skips older live items (FilterType) */
    int (*changes)(zx_store *st, const char *folder_id, long long since,
                   apr_time_t received_after, int limit, apr_array_header_t **out, int *more,
                   const char **err);
    int (*count_changes)(zx_store *st, const char *folder_id, long long since,
                         apr_time_t received_after, long long *count, const char **err);
    int (*item_get)(zx_store *st, const char *id, zx_item **out, const char **err);
    int (*item_mime)(zx_store *st, const char *id, const char **data, apr_size_t *len,
                     const char **err);
    /* apply client changes; device = row id of the device making them (NULL = server) */
    int (*item_update)(zx_store *st, const char *id, const zx_item_changes *ch,
                       const char *device, const char **err);
    int (*item_move)(zx_store *st, const char *id, const char *dst_folder_id,
                     const char *device, const char **new_id, const char **err);
    int (*item_delete)(zx_store *st, const char *id, const char *device, const char **err);
    int (*folder_empty)(zx_store *st, const char *folder_id, int include_subfolders,
                        const char *device, const char **err);
    /* store a message (RFC 5322) in folder; read = initial \Seen */
    int (*deliver)(zx_store *st, const char *folder_id, const char *data, apr_size_t len,
                   int read, zx_item **out, const char **err);
} zx_store_provider;

struct zx_store {
    const zx_store_provider *provider;
    apr_pool_t *pool;
    zx_db *db;
    const char *account_id;
    void *ctx;                  /* provider data */
};

extern const zx_store_provider zx_store_pg;

/* A store on account_id over db, allocations from p. */
zx_store *zx_store_open(apr_pool_t *p, zx_db *db, const char *account_id);

#endif
