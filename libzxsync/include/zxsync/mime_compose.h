/* zxmobile - composing a message to send (libzxsync/mime/compose.c, GMime): what SendMail,
 * SmartReply and SmartForward make of the client's MIME and the stored original before it is
 * handed to the sendmail command (zxsync/sendmail.h).  Pure conversion: no database, no EAS
 * state; the GMime objects behind a draft are released with its pool. */
#ifndef ZXSYNC_MIME_COMPOSE_H
#define ZXSYNC_MIME_COMPOSE_H

#include <zxsync/mime.h>

/* A message being composed. */
typedef struct zx_mime_draft zx_mime_draft;

/* The client's message; NULL when it cannot be parsed as one. */
zx_mime_draft *zx_mime_draft_parse(apr_pool_t *p, const char *data, apr_size_t len);

/* A mailbox of a message made here: display name (may be NULL) and addr-spec. */
typedef struct {
    const char *name;
    const char *email;
} zx_mime_mailbox;

/* The bytes of a forward made from nothing but its recipients (zx_mime_mailbox, those without
 * an address left out), "FW: " + the original's subject and one text part (HTML when html):
 * a 16.x SmartForward with Forwardees and Body instead of Mime. */
const char *zx_mime_compose_forward(apr_pool_t *p, const apr_array_header_t *to,
                                    const char *subject, const char *text, int html,
                                    apr_size_t *len);

/* From is the account: missing, it is added; another address (the account has no aliases
 * and no send-as rights) is replaced, keeping the display name.  Returns the From it
 * replaced (for the log), NULL when nothing was replaced. */
const char *zx_mime_draft_set_from(zx_mime_draft *d, const char *account);
/* Date (now) and Message-ID (in the account's domain) when the message has none. */
void zx_mime_draft_complete(zx_mime_draft *d, const char *account);
/* In-Reply-To and References of a reply to the message with this Message-ID (without <>,
 * NULL or "" = nothing to do) and References, unless the client set them. */
void zx_mime_draft_reply_headers(zx_mime_draft *d, const char *message_id,
                                 const char *references);
/* S/MIME or PGP (multipart/signed, multipart/encrypted, application/(x-)pkcs7-mime): sent as
 * the client made it, since adding the original would break it. */
int zx_mime_draft_is_protected(const zx_mime_draft *d);
/* The original (orig: its bytes, om: zx_mime_parse of them) in the message: its text quoted
 * under a reply's text or inline in a forward ("-----Original Message-----"), the inline
 * images its HTML shows, and for a forward its attachments. */
void zx_mime_draft_merge_original(zx_mime_draft *d, const char *orig, apr_size_t orig_len,
                                  const zx_mime_message *om, int forward);
/* The addr-specs of To, Cc and Bcc (groups flattened, duplicates once, none that could be
 * taken for a sendmail option), const char *. */
apr_array_header_t *zx_mime_draft_recipients(const zx_mime_draft *d);
/* The message as bytes, LF line ends (what sendmail and the delivery command take). */
const char *zx_mime_draft_write(const zx_mime_draft *d, apr_size_t *len);
/* Remove the Bcc header; 1 when there was one. */
int zx_mime_draft_remove_bcc(zx_mime_draft *d);

/* Automatic replies (RFC 3834).  Why a delivered message gets none, or NULL: Auto-Submitted
 * other than "no", Precedence bulk/list/junk, a mailing list's header (List-Id, List-Post,
 * List-Unsubscribe, ...), X-Auto-Response-Suppress with OOF or All (what Exchange's senders
 * ask), or none of addresses (const char *: the account's own and its aliases) in To, Cc,
 * Resent-To or Resent-Cc (RFC 3834 3.1.1: not to a blind copy). */
const char *zx_mime_auto_reply_refusal(apr_pool_t *p, const char *data, apr_size_t len,
                                       const apr_array_header_t *addresses);

/* The reply to orig from `from` to `to`: "Automatic reply: " + the original's subject (as
 * Exchange titles it), In-Reply-To/References, Auto-Submitted: auto-replied,
 * X-Auto-Response-Suppress: All, one text part (HTML when html). */
const char *zx_mime_compose_auto_reply(apr_pool_t *p, const char *orig, apr_size_t orig_len,
                                       const zx_mime_mailbox *from, const char *to,
                                       const char *text, int html, apr_size_t *len);

#endif
