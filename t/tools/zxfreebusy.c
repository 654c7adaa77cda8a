/* zxfreebusy - an account's busy intervals (zxsync/meeting.h zx_meeting_freebusy) on a
 * database connection of its own, for the end-to-end tests of meetings:
 *
 *   zxfreebusy CONNINFO ACCOUNT_ID FROM TO      (FROM, TO: [MS-ASDTYPE] dateTime, UTC)
 *
 * Prints one line per interval, "START END BUSYSTATUS" (dateTime), in order; exit 1 on an
 * error (on stderr). */
#include <zxsync/db.h>
#include <zxsync/meeting.h>
#include <zxsync/pimconv.h>
#include <zxsync/store.h>

#include <apr_general.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: zxfreebusy CONNINFO ACCOUNT_ID FROM TO\n");
        return 2;
    }
    apr_initialize();
    apr_pool_t *p;
    apr_pool_create(&p, NULL);
    const char *err = NULL;
    apr_time_t from, to;
    if (zx_pimconv_parse_time(argv[3], &from) < 0 || zx_pimconv_parse_time(argv[4], &to) < 0) {
        fprintf(stderr, "zxfreebusy: FROM and TO are dateTimes\n");
        return 2;
    }
    zx_db *db = zx_db_connect(p, argv[1], &err);
    if (!db) {
        fprintf(stderr, "zxfreebusy: %s\n", err);
        return 1;
    }
    zx_store *st = zx_store_open(p, db, argv[2]);
    apr_array_header_t *out = NULL;
    if (zx_meeting_freebusy(st, from, to, &out, &err) < 0) {
        fprintf(stderr, "zxfreebusy: %s\n", err);
        return 1;
    }
    for (int i = 0; i < out->nelts; i++) {
        const zx_meeting_busy *b = &APR_ARRAY_IDX(out, i, zx_meeting_busy);
        printf("%s %s %d\n", zx_pimconv_time(p, b->start), zx_pimconv_time(p, b->end),
               b->busy_status);
    }
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
