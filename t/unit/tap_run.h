/* zxmobile unit tests: run a Check suite printing TAP on stdout (read by automake's TAP
 * driver) and turn the result into the exit status.  Call after apr_initialize(). */
#ifndef ZX_TAP_RUN_H
#define ZX_TAP_RUN_H

#include <apr_general.h>
#include <check.h>
#include <stdlib.h>

static inline int zx_run_tap(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
