/* zxmobile - what the files of the PostgreSQL store share (store/pg_*.c; not a public
 * header): the column lists of its queries and the helpers of pg_store.c. */
#ifndef ZX_STORE_PG_INT_H
#define ZX_STORE_PG_INT_H

#include <zxsync/store.h>

#include <libpq-fe.h>

/* timestamptz <-> apr_time_t (microseconds since the epoch), exactly */
#define US(c) "(extract(epoch from " c ") * 1000000)::bigint"
#define TS(n) "('epoch'::timestamptz + (" n ")::bigint * interval '1 microsecond')"

#define ITEM_COLS(a) \
    a "id, " a "folder_id, " a "modseq, " a "deleted, " a "changed_by, " a "item_class, " \
    US(a "received") ", " a "size, " a "read, " a "answered, " a "forwarded, " a "last_verb, " \
    US(a "last_verb_time") ", " a "flag_status, " a "flag_type, " US(a "flag_start") ", " \
    US(a "flag_due") ", " US(a "flag_utc_start") ", " US(a "flag_utc_due") ", " \
    US(a "flag_complete_time") ", " US(a "flag_date_completed") ", " a "flag_reminder_set, " \
    US(a "flag_reminder_time") ", " a "flag_subject, " US(a "flag_ordinal_date") ", " \
    a "flag_sub_ordinal_date, " a "categories, " a "subject, " a "from_addr, " a "to_addr, " \
    a "cc_addr, " a "reply_to, " a "message_hdr_id, " a "thread_topic, " a "importance, " \
    a "message_class, " a "content_class, " a "native_body_type, " a "has_attachments, " \
    a "created_modseq, " a "created_by, encode(" a "conversation_id, 'hex'), " \
    a "completed_modseq, " a "reopened_modseq, " US(a "prev_received") ", " a "received_modseq"

/* the columns a moved item keeps */
#define COPY_COLS \
    "message_id, item_class, received, size, read, answered, forwarded, last_verb, " \
    "last_verb_time, flag_status, flag_type, flag_start, flag_due, flag_utc_start, " \
    "flag_utc_due, flag_complete_time, flag_date_completed, flag_reminder_set, " \
    "flag_reminder_time, flag_subject, flag_ordinal_date, flag_sub_ordinal_date, categories, " \
    "subject, from_addr, to_addr, cc_addr, reply_to, message_hdr_id, thread_topic, importance, " \
    "message_class, content_class, native_body_type, has_attachments, conversation_id"

#define FOLDER_COLS(a) \
    a "id, coalesce(" a "parent_id, 0), " a "name, " a "type, " a "item_class, " a "system, " \
    a "created_seq, " a "changed_seq, " a "deleted, " a "modseq, " a "created_by, " a "changed_by"

#define NOTIFY_SQL "SELECT pg_notify('zx_mailbox', $1::text)"

/* the tables of the provider (pg_mailbox.c, pg_items.c) */
extern const zx_store_mailbox zx_pg_mailbox;
extern const zx_store_items zx_pg_items;
extern const zx_store_search zx_pg_search;     /* pg_search.c */

/* ---- contacts, tasks and notes (pg_pim.c) ---- */
/* the class row of a new item, of an item's change (the fields set), re-pointed by a move */
int zx_pg_pim_insert(zx_store *st, const char *item_id, const zx_pim_props *pr, const char **err);
int zx_pg_pim_update(zx_store *st, const char *item_id, const zx_pim_props *pr, const char **err);
int zx_pg_pim_repoint(zx_store *st, const char *item_class, const char *from, const char *to,
                      const char **err);
/* the contents of the contacts, tasks and notes among items; *rest = the others (NULL: none) */
int zx_pg_pim_contents(zx_store *st, apr_array_header_t *items, apr_array_header_t **rest,
                       const char **err);
int zx_pg_contacts_match(zx_store *st, const char *to, int limit, apr_array_header_t **out,
                         const char **err);
int zx_pg_calendar_window(zx_store *st, const char *id, const char *last_end,
                          const char **err);
int zx_pg_pim_create(zx_store *st, const char *folder_id, const zx_pim_props *pr,
                     const char *device, zx_item **out, const char **err);

/* ---- helpers (pg_store.c) ---- */
int zx_pg_valid_id(const char *s);
const char *zx_pg_val(apr_pool_t *p, PGresult *res, int r, int c);
long long zx_pg_ival(PGresult *res, int r, int c);
int zx_pg_bval(PGresult *res, int r, int c);
long long zx_pg_bin_int(PGresult *res, int r, int c);
const char *zx_pg_lltoa(apr_pool_t *p, long long v);
const char *zx_pg_time_param(apr_pool_t *p, apr_time_t t);
apr_array_header_t *zx_pg_parse_text_array(apr_pool_t *p, const char *s);
const char *zx_pg_text_array_literal(apr_pool_t *p, const apr_array_header_t *a);
zx_item *zx_pg_row_item(apr_pool_t *p, PGresult *res, int r);
zx_folder *zx_pg_row_folder(apr_pool_t *p, PGresult *res, int r, int c0);
int zx_pg_notify(zx_store *st, const char **err);
apr_array_header_t *zx_pg_items_of(apr_pool_t *p, PGresult *res, int max);
int zx_pg_drop_messages(zx_store *st, const char *ids_literal, const char **err);
const char *zx_pg_id_list(apr_pool_t *p, PGresult *res);
int zx_pg_finish_dropping(zx_store *st, PGresult *res, const char **err);
int zx_pg_next_modseq(zx_store *st, const char *folder_id, long long n, long long *modseq,
                      const char **err);

#endif
