/* zxmobile - the request pipeline (libzxsync/gate/, ARCHITECTURE.md section 2): the stages
 * that run before a command, and the periodic jobs that serve them.
 *
 * zx_pipeline_run runs the stages of gate/pipeline.c on one request and hands it to the
 * command the lookup names; zx_handle (zxsync/server.h) is that with the command table of
 * eas/.
 */
#ifndef ZXSYNC_GATE_H
#define ZXSYNC_GATE_H

#include <zxsync/maint.h>
#include <zxsync/proto.h>

zx_auth_result zx_authenticate_db(const zx_server *srv, zx_request *req, const char **err);

zx_service_gate *zx_service_gate_create(apr_pool_t *p);
/* 1 when service (e.g. "activesync") runs, 0 when an admin stopped it, -1 on error. */
int zx_service_gate_check(const zx_server *srv, zx_request *req, const char *service,
                          const char **err);

/* Authentication (spec 2) and account enablement (spec 1.1) of a request, as every endpoint
 * answers them (the pipeline's stage, Autodiscover): 0 when the request may go on
 * (req->account is set), 1 when resp holds the refusal (401 with WWW-Authenticate, 403, or 503
 * with Retry-After) and its reason. */
int zx_authenticate_request(const zx_server *srv, zx_request *req, zx_response *resp);

/* Run the pipeline; its last stage answers with lookup(req->cmd) (NULL: 137 / HTTP 501).
 * Always fills resp (status, headers, body, reason); never fails. */
void zx_pipeline_run(const zx_server *srv, zx_request *req, zx_response *resp,
                     zx_command_lookup *lookup);

/* Run the device gates (suspension, ABQ, provisioning/wipe) on a registered request, as the
 * pipeline does after the device registry.  Returns 1 when a gate answered the request (resp
 * is filled), 0 when the request may go on. */
int zx_device_gates(const zx_server *srv, zx_request *req, zx_response *resp);

/* The re-check of a waiting Ping/Sync when woken (a zx_wait_recheck, eas/wait.h): re-read the
 * device's control state (zx_device_reload) and run the device gates again.  Returns 1 when a
 * gate answered (resp is filled), 0 when the request goes on (also when the device record was
 * removed meanwhile: the command's own check tells it to start over), -1 and *err when it
 * cannot be done now (the wait tries again a little later). */
int zx_device_recheck(const zx_server *srv, zx_request *req, zx_response *resp,
                      const char **err);

/* ---- the periodic jobs of a server process (a zx_maint runner, zxsync/maint.h) -------------- */

/* Start the process's runner for srv with the jobs of the stages (today the ABQ
 * administrators' notification); srv's dbpool and settings are used, so srv must outlive p.
 * period_ms 0 = ZX_MAINT_PERIOD.  Stopped and joined by p's (pre-)cleanup.  NULL and *err when
 * it cannot start. */
zx_maint *zx_maint_start(apr_pool_t *p, const zx_server *srv, unsigned period_ms,
                         const char **err);
/* Run those jobs once now, on the calling thread (tests). */
void zx_maint_run_once(const zx_server *srv, apr_pool_t *p);

#endif
