/* zxmobile - the iCalendar object of a message (mime/mime_int.h): METHOD and the first
 * attendee's PARTSTAT, which make it a meeting request, cancellation or response. */
#include "mime_int.h"

#include <apr_strings.h>
#include <string.h>
#include <strings.h>

/* ---- calendar --------------------------------------------------------------------------------- */

/* METHOD and the first attendee's PARTSTAT of an iCalendar object (lines unfolded on the fly). */
void zx_mime_scan_calendar(pctx *c, GMimeObject *o)
{
    if (c->cal_method)
        return;
    const char *m = zx_mime_param(o, "method");
    GByteArray *ba = zx_mime_leaf_bytes(o);
    char *ics = apr_palloc(c->p, ba->len + 1);
    if (ba->len)
        memcpy(ics, ba->data, ba->len);
    ics[ba->len] = '\0';
    g_byte_array_free(ba, TRUE);
    /* unfold: CRLF or LF followed by a space or tab */
    char *w = ics;
    for (char *r = ics; *r; r++) {
        if ((r[0] == '\r' && r[1] == '\n' && (r[2] == ' ' || r[2] == '\t'))) {
            r += 2;
            continue;
        }
        if (r[0] == '\n' && (r[1] == ' ' || r[1] == '\t')) {
            r += 1;
            continue;
        }
        *w++ = *r;
    }
    *w = '\0';
    const char *method = NULL, *partstat = NULL;
    int in_event = 0;
    for (char *line = ics; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        size_t len = strlen(line);
        if (len && line[len - 1] == '\r')
            line[len - 1] = '\0';
        if (strncasecmp(line, "BEGIN:VEVENT", 12) == 0)
            in_event = 1;
        else if (strncasecmp(line, "END:VEVENT", 10) == 0)
            in_event = 0;
        else if (!method && strncasecmp(line, "METHOD:", 7) == 0)
            method = apr_pstrdup(c->p, line + 7);
        else if (in_event && !partstat && strncasecmp(line, "ATTENDEE", 8) == 0 &&
                 (line[8] == ';' || line[8] == ':')) {
            char *colon = strchr(line, ':');
            if (colon)
                *colon = '\0';
            for (char *s = line; (s = strchr(s, ';')) != NULL; s++) {
                if (strncasecmp(s + 1, "PARTSTAT=", 9) == 0) {
                    char *v = s + 10, *e = strchr(v, ';');
                    partstat = e ? apr_pstrndup(c->p, v, (apr_size_t)(e - v)) : apr_pstrdup(c->p, v);
                    break;
                }
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    if (!method)
        method = m;
    if (method) {
        c->cal_method = apr_pstrdup(c->p, method);
        apr_collapse_spaces((char *)c->cal_method, c->cal_method);
        c->cal_partstat = partstat;
    }
}

const char *zx_mime_meeting_class(const char *method, const char *partstat)
{
    if (!method)
        return NULL;
    if (strcasecmp(method, "REQUEST") == 0)
        return "IPM.Schedule.Meeting.Request";
    if (strcasecmp(method, "CANCEL") == 0)
        return "IPM.Schedule.Meeting.Canceled";
    if (strcasecmp(method, "REPLY") == 0 || strcasecmp(method, "COUNTER") == 0) {
        if (partstat && strcasecmp(partstat, "ACCEPTED") == 0 && strcasecmp(method, "REPLY") == 0)
            return "IPM.Schedule.Meeting.Resp.Pos";
        if (partstat && strcasecmp(partstat, "DECLINED") == 0)
            return "IPM.Schedule.Meeting.Resp.Neg";
        return "IPM.Schedule.Meeting.Resp.Tent";
    }
    return NULL;
}
