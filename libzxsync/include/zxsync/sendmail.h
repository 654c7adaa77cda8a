/* zxmobile - mail out through the sendmail command (libzxsync/mta/): what SendMail,
 * SmartReply, SmartForward and the administrator notifications hand over. */
#ifndef ZXSYNC_SENDMAIL_H
#define ZXSYNC_SENDMAIL_H

#include <apr_pools.h>
#include <apr_tables.h>

/* Hand an RFC 5322 message to the configured sendmail command (ZxMobileSendmail, split with
 * apr_tokenize_to_argv, run without a shell): the envelope sender is `sender` (-f), the
 * recipients are `rcpts` (const char * addr-specs) or, when the command line already has -t,
 * the message's own To/Cc/Bcc.  Returns 0 when the command exited 0, -1 with *err otherwise
 * (exec failure, exit status, signal, timeout). */
int zx_sendmail_run(apr_pool_t *p, const char *cmdline, const char *sender,
                    const apr_array_header_t *rcpts, const char *data, apr_size_t len,
                    const char **err);

/* zx_sendmail_run with a timeout (seconds, 0 = 60) and *exit_status: the command's exit
 * status when it exited with one other than 0 (75 is EX_TEMPFAIL: try again later), -1 when it
 * could not run, was killed or timed out, or succeeded. */
int zx_sendmail_exec(apr_pool_t *p, const char *cmdline, const char *sender,
                     const apr_array_header_t *rcpts, const char *data, apr_size_t len,
                     unsigned timeout_s, int *exit_status, const char **err);

/* 1 when the command line has -t: the command reads the recipients from the message (and
 * removes its Bcc itself). */
int zx_sendmail_reads_recipients(apr_pool_t *p, const char *cmdline);

#endif
