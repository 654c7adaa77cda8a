/* zxmobile - change notifications (ARCHITECTURE.md sections 3 and 4).
 *
 * Every committed change that a waiting device must notice - a mailbox change, or an admin
 * decision about a device (suspend, wipe, policy, ABQ status) - NOTIFYs the PostgreSQL
 * channel ZX_NOTIFY_CHANNEL with the account's id as payload.  NOTIFY is transactional: it is
 * delivered when (and only if) the surrounding transaction commits.
 */
#ifndef ZXSYNC_NOTIFY_H
#define ZXSYNC_NOTIFY_H

#include <zxsync/db.h>

#define ZX_NOTIFY_CHANNEL "zx_mailbox"

/* NOTIFY the waiters of one account (account_id: accounts.id, decimal).  Returns 0, or -1 and
 * *err. */
int zx_notify_account(zx_db *db, const char *account_id, const char **err);

#endif
