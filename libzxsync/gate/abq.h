/* zxmobile - device gate: ABQ (the stage of the rules in zxsync/abq.h), the second of the
 * device gates of pipeline.c, and its periodic job. */
#ifndef ZX_GATE_ABQ_H
#define ZX_GATE_ABQ_H

#include <zxsync/abq.h>
#include <zxsync/gate.h>

/* The ABQ device gate (after suspend, before provisioning): decides about the request's
 * registered device, records what the mode decided, resets the sync states when what the
 * device is served changes (then a Sync or Ping is told that the folder hierarchy changed),
 * imports the known devices on the first start of the service, sends the administrators'
 * notification when it is due, and for a held-back device sets req->abq_held and refuses the
 * commands the dummy mailbox has no use for.  Returns 1 when it answered (resp filled), 0 when
 * the request goes on. */
int zx_gate_abq(const zx_server *srv, zx_request *req, zx_response *resp);

/* Keep the ZX_ABQ_CTX_COLS of row 0 starting at column c0 for this request's gate; column
 * c0 + ZX_ABQ_CTX_NCOLS is NULL when there was no abq_state row (the gate then reads and
 * reports it itself).  zx_device_reload forgets them. */
void zx_abq_ctx_keep(zx_request *req, const PGresult *res, int c0);

/* The periodic job (a zx_maint_job; baton: the zx_server): the administrators' notification
 * when it is due, independent of traffic - a device answered from the answer cache
 * (zxsync/answer.h) does not pass the gate. */
void zx_gate_abq_job(void *srv, apr_pool_t *p, zx_db *db);

#endif
