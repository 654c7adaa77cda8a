/* zxmobile - opening a mail store (zxsync/store.h) and what every provider shares. */
#include <zxsync/store.h>

#include <apr_strings.h>

zx_store *zx_store_open(apr_pool_t *p, zx_db *db, const char *account_id)
{
    zx_store *st = apr_pcalloc(p, sizeof *st);
    st->provider = &zx_store_pg;
    st->pool = p;
    st->db = db;
    st->account_id = apr_pstrdup(p, account_id);
    return st;
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
