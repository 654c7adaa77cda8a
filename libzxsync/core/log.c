/* zxmobile - the one logging interface of libzxsync (see zxsync/log.h) */
#include <zxsync/log.h>

#include <stdio.h>

static zx_log_level stderr_max = ZX_LOG_WARNING;

static int stderr_level(void *baton, void *ctx, zx_log_level level)
{
    return level <= stderr_max;
}

static void stderr_print(void *baton, void *ctx, zx_log_level level, const char *file,
                         int line, const char *msg)
{
    static const char *const names[] = {"emerg", "alert", "crit", "error", "warn",
                                        "notice", "info", "debug", "trace1", "trace2"};
    fprintf(stderr, "zxmobile [%s] %s\n", names[level], msg);
}

static zx_log_level_cb *log_level = stderr_level;
static zx_log_print_cb *log_print = stderr_print;
static void *log_baton;

void zx_log_set(zx_log_level_cb *level_cb, zx_log_print_cb *print_cb, void *baton)
{
    log_level = level_cb ? level_cb : stderr_level;
    log_print = print_cb ? print_cb : stderr_print;
    log_baton = baton;
}

void zx_log_use_stderr(zx_log_level max_level)
{
    stderr_max = max_level;
    zx_log_set(NULL, NULL, NULL);
}

int zx_log_is_level(void *ctx, zx_log_level level)
{
    return log_level(log_baton, ctx, level);
}

void zx_vlog_(void *ctx, zx_log_level level, const char *file, int line, const char *fmt,
              va_list ap)
{
    if (!log_level(log_baton, ctx, level))
        return;
    char msg[8192];
    vsnprintf(msg, sizeof msg, fmt, ap);
    log_print(log_baton, ctx, level, file, line, msg);
}

void zx_log_(void *ctx, zx_log_level level, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    zx_vlog_(ctx, level, file, line, fmt, ap);
    va_end(ap);
}
