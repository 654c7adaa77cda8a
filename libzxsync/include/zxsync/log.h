/* zxmobile - libzxsync logging interface.
 *
 * The library never writes to stderr on its own: every message goes through one injected
 * callback.  mod_zxmobile forwards it to the httpd error log (ap_log_rerror/ap_log_error),
 * the CLI prints it, the tests capture it.  Every message carries a stable tag
 * ZXnnnnn (ZXLOGNO), as httpd's AHnnnnn, so that operators can grep for it.
 */
#ifndef ZXSYNC_LOG_H
#define ZXSYNC_LOG_H

#include <stdarg.h>

/* Levels use httpd's numbering so that the module maps them one to one. */
typedef enum {
    ZX_LOG_EMERG = 0,
    ZX_LOG_ALERT,
    ZX_LOG_CRIT,
    ZX_LOG_ERR,
    ZX_LOG_WARNING,
    ZX_LOG_NOTICE,
    ZX_LOG_INFO,
    ZX_LOG_DEBUG,
    ZX_LOG_TRACE1,
    ZX_LOG_TRACE2
} zx_log_level;

/* ZXLOGNO(00042) expands to "ZX00042: ", as APLOGNO does for httpd. */
#define ZXLOGNO(n) "ZX" #n ": "

/* ctx is the host's per-request context (the request_rec for mod_zxmobile) or NULL. */
typedef void zx_log_print_cb(void *baton, void *ctx, zx_log_level level,
                             const char *file, int line, const char *msg);
/* Returns non-zero when a message of that level would be printed (saves formatting). */
typedef int zx_log_level_cb(void *baton, void *ctx, zx_log_level level);

void zx_log_set(zx_log_level_cb *level_cb, zx_log_print_cb *print_cb, void *baton);

void zx_log_(void *ctx, zx_log_level level, const char *file, int line,
             const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void zx_vlog_(void *ctx, zx_log_level level, const char *file, int line,
              const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
int zx_log_is_level(void *ctx, zx_log_level level);

#define zx_log(ctx, level, ...) zx_log_((ctx), (level), __FILE__, __LINE__, __VA_ARGS__)

/* The default sink (before zx_log_set): stderr, at or above the given level.  Meant for the
 * CLI and tests; httpd always installs its own. */
void zx_log_use_stderr(zx_log_level max_level);

#endif
