/* zxmobile - the shared core of SendMail, SmartReply and SmartForward (eas/cmd_sendmail.c),
 * usable by other commands that send mail (e.g. a Sync that sends a draft, MS-ASEMAIL Send). */
#ifndef ZX_EAS_COMPOSE_H
#define ZX_EAS_COMPOSE_H

#include <zxsync/server.h>

/* Hand an RFC 5322 message to the configured sendmail command (ZxMobileSendmail, split with
 * apr_tokenize_to_argv, run without a shell): the envelope sender is `sender` (-f), the
 * recipients are `rcpts` (const char * addr-specs) or, when the command line already has -t,
 * the message's own To/Cc/Bcc.  Returns 0 when the command exited 0, -1 with *err otherwise
 * (exec failure, exit status, signal, timeout). */
int zx_sendmail_run(apr_pool_t *p, const char *cmdline, const char *sender,
                    const apr_array_header_t *rcpts, const char *data, apr_size_t len,
                    const char **err);

#endif
