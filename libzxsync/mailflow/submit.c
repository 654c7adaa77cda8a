/* zxmobile - mail the server's users send: local recipients delivered here, the rest to the
 * transport (zxsync/submit.h). */
#include <zxsync/delivery.h>
#include <zxsync/log.h>
#include <zxsync/submit.h>

#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <string.h>

static zx_submit_rcpt *add(zx_submit_result *res, const char *address, const char *account)
{
    zx_submit_rcpt *r = apr_array_push(res->rcpts);
    memset(r, 0, sizeof *r);
    r->address = address;
    r->account = account;
    r->status = ZX_SEND_OK;
    return r;
}

static void fail_all(apr_array_header_t *list, zx_send_status st, const char *why)
{
    for (int i = 0; i < list->nelts; i++) {
        zx_submit_rcpt *r = APR_ARRAY_IDX(list, i, zx_submit_rcpt *);
        r->status = st;
        r->why = why;
    }
}

/* the overall status and the summary of the failures */
static zx_send_status finish(apr_pool_t *p, zx_submit_result *res)
{
    int temp = 0, perm = 0;
    const char *sum = NULL;
    for (int i = 0; i < res->rcpts->nelts; i++) {
        const zx_submit_rcpt *r = &APR_ARRAY_IDX(res->rcpts, i, zx_submit_rcpt);
        if (r->status == ZX_SEND_OK)
            continue;
        if (r->status == ZX_SEND_PERMFAIL)
            perm++;
        else
            temp++;
        sum = apr_psprintf(p, "%s%s%s: %s%s", sum ? sum : "", sum ? "; " : "", r->address,
                           r->status == ZX_SEND_PERMFAIL ? "" : "(temporary) ",
                           r->why ? r->why : "failed");
    }
    res->err = sum;
    res->status = perm ? ZX_SEND_PERMFAIL : temp ? ZX_SEND_TEMPFAIL : ZX_SEND_OK;
    return res->status;
}

/* Deliver the Oof reply a local delivery asked for to its recipient, when that is an account
 * of this server (the sender of a SendMail always is).  0 done or not local, -1 failed. */
static int out_of_office_back(apr_pool_t *p, zx_db *db, const zx_delivery *d)
{
    const char *name, *id, *err = NULL;
    if (zx_delivery_resolve(p, db, d->oof.to, &name, &id, &err) != 1)
        return 0;
    zx_delivery back;
    return zx_delivery_deliver(p, db, d->oof.to, NULL, d->oof.data, d->oof.len, &back, &err) ==
                   ZX_DELIVERY_OK ? 0 : -1;
}

zx_send_status zx_submit(apr_pool_t *p, zx_db *db, zx_transport *t, const char *sender,
                         const apr_array_header_t *rcpts, const char *data, apr_size_t len,
                         zx_submit_result *res)
{
    memset(res, 0, sizeof *res);
    res->rcpts = apr_array_make(p, rcpts ? rcpts->nelts : 1, sizeof(zx_submit_rcpt));
    const char *err = NULL;

    /* sendmail -t: the command reads the recipients itself, no routing here */
    if (zx_transport_reads_recipients(p, t)) {
        for (int i = 0; rcpts && i < rcpts->nelts; i++)
            add(res, APR_ARRAY_IDX(rcpts, i, const char *), NULL);
        res->outside = res->rcpts->nelts;
        zx_send_status st = zx_transport_send(p, t, sender, rcpts, data, len, &err);
        if (st != ZX_SEND_OK) {
            for (int i = 0; i < res->rcpts->nelts; i++) {
                APR_ARRAY_IDX(res->rcpts, i, zx_submit_rcpt).status = st;
                APR_ARRAY_IDX(res->rcpts, i, zx_submit_rcpt).why = err;
            }
            if (res->rcpts->nelts == 0) {
                res->status = st;
                res->err = err;
                return st;
            }
        }
        return finish(p, res);
    }

    /* 1. which recipients are accounts here: one copy per account, one submission for the
     * rest (each address once, without case) */
    apr_hash_t *seen = apr_hash_make(p);
    apr_array_header_t *local = apr_array_make(p, 4, sizeof(zx_submit_rcpt *));
    apr_array_header_t *outside = apr_array_make(p, 4, sizeof(zx_submit_rcpt *));
    apr_array_header_t *out_addrs = apr_array_make(p, 4, sizeof(const char *));
    int db_down = 0;
    for (int i = 0; rcpts && i < rcpts->nelts; i++) {
        const char *a = APR_ARRAY_IDX(rcpts, i, const char *);
        const char *key = apr_pstrdup(p, a);
        for (char *c = (char *)key; *c; c++)
            *c = (char)apr_tolower(*c);
        if (apr_hash_get(seen, key, APR_HASH_KEY_STRING))
            continue;
        apr_hash_set(seen, key, APR_HASH_KEY_STRING, a);
        const char *name = NULL, *id = NULL;
        int rc = db_down ? -1 : zx_delivery_resolve(p, db, a, &name, &id, &err);
        if (rc < 0) {
            zx_submit_rcpt *r = add(res, a, NULL);
            r->status = ZX_SEND_TEMPFAIL;
            r->why = db_down ? "database unavailable"
                             : apr_psprintf(p, "database unavailable: %s", err);
            db_down = 1;
            continue;
        }
        if (rc == 1) {
            if (apr_hash_get(seen, id, APR_HASH_KEY_STRING))
                continue;               /* an alias of an account already listed */
            apr_hash_set(seen, id, APR_HASH_KEY_STRING, a);
            APR_ARRAY_PUSH(local, zx_submit_rcpt *) = add(res, a, name);
        }
        else {
            APR_ARRAY_PUSH(outside, zx_submit_rcpt *) = add(res, a, NULL);
            APR_ARRAY_PUSH(out_addrs, const char *) = a;
        }
    }
    /* the array moved while growing: take the pointers again */
    local->nelts = outside->nelts = 0;
    for (int i = 0; i < res->rcpts->nelts; i++) {
        zx_submit_rcpt *r = &APR_ARRAY_IDX(res->rcpts, i, zx_submit_rcpt);
        if (r->status != ZX_SEND_OK)
            continue;
        APR_ARRAY_PUSH(r->account ? local : outside, zx_submit_rcpt *) = r;
    }
    res->local = local->nelts;
    res->outside = outside->nelts;
    if (db_down) {
        fail_all(local, ZX_SEND_TEMPFAIL, "not tried: the database is unavailable");
        fail_all(outside, ZX_SEND_TEMPFAIL, "not tried: the database is unavailable");
        return finish(p, res);
    }

    /* 2. the local deliveries, each its own copy (in the caller's transaction, if any) */
    int local_failed = 0;
    for (int i = 0; i < local->nelts; i++) {
        zx_submit_rcpt *r = APR_ARRAY_IDX(local, i, zx_submit_rcpt *);
        zx_delivery d;
        zx_delivery_status ds = zx_delivery_deliver_from(p, db, sender, r->account, NULL, data,
                                                         len, &d, &err);
        if (ds == ZX_DELIVERY_OK) {
            /* an out-of-office reply goes back to the sender, an account of this server: in
             * the same transaction, so that a retry after a rollback replies once */
            if (d.oof.to && out_of_office_back(p, db, &d) < 0)
                zx_log(NULL, ZX_LOG_WARNING, ZXLOGNO(02951) "the out-of-office reply of %s "
                       "to %s was not delivered", d.account, d.oof.to);
            continue;
        }
        local_failed = 1;
        r->status = ds == ZX_DELIVERY_TEMPFAIL ? ZX_SEND_TEMPFAIL : ZX_SEND_PERMFAIL;
        r->why = err;
        if (ds == ZX_DELIVERY_TEMPFAIL) {
            /* the caller's transaction is lost with it: the rest would be rolled back too */
            for (int k = i + 1; k < local->nelts; k++) {
                zx_submit_rcpt *o = APR_ARRAY_IDX(local, k, zx_submit_rcpt *);
                o->status = ZX_SEND_TEMPFAIL;
                o->why = "not tried after an earlier delivery failed";
            }
            break;
        }
    }

    /* 3. the rest through the transport, in one submission, once the local ones are in */
    if (outside->nelts > 0) {
        if (local_failed)
            fail_all(outside, ZX_SEND_TEMPFAIL, "not sent: a local delivery failed");
        else if (!zx_transport_outside(t))
            fail_all(outside, ZX_SEND_PERMFAIL,
                     "not an account of this server, and no transport for outside mail is "
                     "configured (ZxMobileMailTransport)");
        else {
            zx_send_status st = zx_transport_send(p, t, sender, out_addrs, data, len, &err);
            if (st != ZX_SEND_OK)
                fail_all(outside, st, err);
        }
    }
    return finish(p, res);
}
