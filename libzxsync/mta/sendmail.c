/* zxmobile - handing a message to the sendmail command (zxsync/sendmail.h): run without a
 * shell, stdin fed while stdout/stderr are drained, killed after a timeout. */
#include <zxsync/sendmail.h>

#include <apr_portable.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How long a sendmail command may take before it is killed. */
#define SENDMAIL_TIMEOUT_MS 60000

static int fd_of(apr_file_t *f)
{
    apr_os_file_t fd = -1;
    if (!f || apr_os_file_get(&fd, f) != APR_SUCCESS)
        return -1;
    return fd;
}

static int has_arg(char **argv, const char *arg)
{
    for (int i = 0; argv[i]; i++)
        if (strcmp(argv[i], arg) == 0)
            return 1;
    return 0;
}

int zx_sendmail_run(apr_pool_t *p, const char *cmdline, const char *sender,
                    const apr_array_header_t *rcpts, const char *data, apr_size_t len,
                    const char **err)
{
    int status;
    return zx_sendmail_exec(p, cmdline, sender, rcpts, data, len, 0, &status, err);
}

int zx_sendmail_exec(apr_pool_t *p, const char *cmdline, const char *sender,
                     const apr_array_header_t *rcpts, const char *data, apr_size_t len,
                     unsigned timeout_s, int *exit_status, const char **err)
{
    char **cmd = NULL;
    int timeout_ms = timeout_s ? (int)timeout_s * 1000 : SENDMAIL_TIMEOUT_MS;
    *exit_status = -1;
    if (!cmdline || !*cmdline) {
        *err = "no sendmail command configured (ZxMobileSendmail)";
        return -1;
    }
    if (apr_tokenize_to_argv(cmdline, &cmd, p) != APR_SUCCESS || !cmd[0] || cmd[0][0] != '/') {
        *err = apr_psprintf(p, "ZxMobileSendmail \"%s\" is not an absolute program path", cmdline);
        return -1;
    }
    int with_t = has_arg(cmd, "-t");
    apr_array_header_t *args = apr_array_make(p, 16, sizeof(const char *));
    for (int i = 0; cmd[i]; i++)
        APR_ARRAY_PUSH(args, const char *) = cmd[i];
    /* a lone "." line is message text, not the end of input */
    if (!has_arg(cmd, "-i") && !has_arg(cmd, "-oi"))
        APR_ARRAY_PUSH(args, const char *) = "-i";
    APR_ARRAY_PUSH(args, const char *) = "-f";
    APR_ARRAY_PUSH(args, const char *) = sender;
    if (!with_t && rcpts) {
        for (int i = 0; i < rcpts->nelts; i++)
            APR_ARRAY_PUSH(args, const char *) = APR_ARRAY_IDX(rcpts, i, const char *);
    }
    APR_ARRAY_PUSH(args, const char *) = NULL;

    apr_procattr_t *attr;
    apr_proc_t proc;
    apr_status_t rv;
    if ((rv = apr_procattr_create(&attr, p)) != APR_SUCCESS ||
        (rv = apr_procattr_io_set(attr, APR_CHILD_BLOCK, APR_CHILD_BLOCK, APR_CHILD_BLOCK))
            != APR_SUCCESS ||
        (rv = apr_procattr_cmdtype_set(attr, APR_PROGRAM_ENV)) != APR_SUCCESS ||
        (rv = apr_procattr_error_check_set(attr, 1)) != APR_SUCCESS) {
        char buf[120];
        *err = apr_psprintf(p, "cannot prepare the sendmail command: %s",
                            apr_strerror(rv, buf, sizeof buf));
        return -1;
    }
    memset(&proc, 0, sizeof proc);
    rv = apr_proc_create(&proc, cmd[0], (const char *const *)args->elts, NULL, attr, p);
    if (rv != APR_SUCCESS) {
        char buf[120];
        *err = apr_psprintf(p, "cannot run %s: %s", cmd[0], apr_strerror(rv, buf, sizeof buf));
        return -1;
    }

    /* Feed stdin while draining stdout/stderr, so that neither side can block the other. */
    int in_fd = fd_of(proc.in), out_fd = fd_of(proc.out), err_fd = fd_of(proc.err);
    apr_size_t sent = 0;
    int write_failed = 0, timed_out = 0;
    char errbuf[1024];
    apr_size_t errlen = 0;
    if (len == 0 && proc.in) {
        apr_file_close(proc.in);
        in_fd = -1;
    }
    apr_time_t deadline = apr_time_now() + apr_time_from_msec(timeout_ms);
    while (in_fd >= 0 || out_fd >= 0 || err_fd >= 0) {
        struct pollfd pf[3];
        int n = 0, ii = -1, io = -1, ie = -1;
        if (in_fd >= 0) { pf[n].fd = in_fd; pf[n].events = POLLOUT; ii = n++; }
        if (out_fd >= 0) { pf[n].fd = out_fd; pf[n].events = POLLIN; io = n++; }
        if (err_fd >= 0) { pf[n].fd = err_fd; pf[n].events = POLLIN; ie = n++; }
        apr_interval_time_t left = deadline - apr_time_now();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        int r = poll(pf, (nfds_t)n, (int)apr_time_as_msec(left) + 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            write_failed = 1;
            break;
        }
        if (ii >= 0 && pf[ii].revents) {
            if (pf[ii].revents & POLLOUT) {
                ssize_t w = write(in_fd, data + sent, len - sent > 65536 ? 65536 : len - sent);
                if (w > 0)
                    sent += (apr_size_t)w;
                else if (w < 0 && errno != EAGAIN && errno != EINTR)
                    write_failed = 1;
            }
            else
                write_failed = 1;          /* POLLERR/POLLHUP: the reader went away */
            if (sent == len || write_failed) {
                apr_file_close(proc.in);
                in_fd = -1;
            }
        }
        if (io >= 0 && pf[io].revents) {
            char junk[4096];
            ssize_t rd = read(out_fd, junk, sizeof junk);
            if (rd == 0 || (rd < 0 && errno != EAGAIN && errno != EINTR))
                out_fd = -1;
        }
        if (ie >= 0 && pf[ie].revents) {
            char tmp[1024];
            ssize_t rd = read(err_fd, tmp, sizeof tmp);
            if (rd > 0) {
                apr_size_t room = sizeof errbuf - 1 - errlen;
                apr_size_t take = (apr_size_t)rd < room ? (apr_size_t)rd : room;
                memcpy(errbuf + errlen, tmp, take);
                errlen += take;
            }
            else if (rd == 0 || (errno != EAGAIN && errno != EINTR))
                err_fd = -1;
        }
    }
    if (in_fd >= 0)
        apr_file_close(proc.in);
    if (timed_out)
        apr_proc_kill(&proc, SIGKILL);
    int code = 0;
    apr_exit_why_e why = APR_PROC_EXIT;
    rv = apr_proc_wait(&proc, &code, &why, APR_WAIT);
    if (proc.out)
        apr_file_close(proc.out);
    if (proc.err)
        apr_file_close(proc.err);
    errbuf[errlen] = '\0';
    for (apr_size_t i = 0; i < errlen; i++)
        if (errbuf[i] == '\n' || errbuf[i] == '\r')
            errbuf[i] = ' ';
    if (timed_out) {
        *err = apr_psprintf(p, "%s did not finish within %d s and was killed", cmd[0],
                            timeout_ms / 1000);
        return -1;
    }
    if (rv != APR_CHILD_DONE) {
        *err = apr_psprintf(p, "cannot wait for %s", cmd[0]);
        return -1;
    }
    if (why != APR_PROC_EXIT) {
        *err = apr_psprintf(p, "%s was killed by signal %d%s%s", cmd[0], code,
                            errlen ? ": " : "", errbuf);
        return -1;
    }
    if (code != 0) {
        *exit_status = code;
        *err = apr_psprintf(p, "%s exited with status %d%s%s", cmd[0], code,
                            errlen ? ": " : "", errbuf);
        return -1;
    }
    if (write_failed || sent != len) {
        *err = apr_psprintf(p, "%s did not read the whole message (%" APR_SIZE_T_FMT " of %"
                            APR_SIZE_T_FMT " bytes)", cmd[0], sent, len);
        return -1;
    }
    return 0;
}

int zx_sendmail_reads_recipients(apr_pool_t *p, const char *cmdline)
{
    char **cmdv = NULL;
    if (!cmdline)
        return 0;
    apr_tokenize_to_argv(cmdline, &cmdv, p);
    return cmdv && has_arg(cmdv, "-t");
}
