/* zxmobile - a winmail.dat in a message (zxsync/mime.h, mime/mime_int.h): its files are the
 * message's attachments, its plain body the message's text when it has no other (the stream
 * itself is read by tnef.c). */
#include "mime_int.h"
#include "tnef.h"

#include <zxsync/text.h>

#include <apr_strings.h>
#include <string.h>
#include <strings.h>

/* ---- TNEF (winmail.dat) ------------------------------------------------------------------------- */

int zx_mime_is_tnef(const char *content_type, const char *filename)
{
    if (!content_type)
        return 0;
    if (strcasecmp(content_type, "application/ms-tnef") == 0 ||
        strcasecmp(content_type, "application/vnd.ms-tnef") == 0)
        return 1;
    return filename && strcasecmp(filename, "winmail.dat") == 0 &&
           strcasecmp(content_type, "application/octet-stream") == 0;
}

int zx_mime_is_tnef_part(apr_pool_t *p, GMimeObject *o)
{
    return GMIME_IS_PART(o) && !GMIME_IS_MESSAGE_PART(o) &&
           zx_mime_is_tnef(zx_mime_type_of(p, o), g_mime_part_get_filename(GMIME_PART(o)));
}

/* A TNEF string in UTF-8 (8-bit ones are in the stream's code page). */
static const char *tnef_text(apr_pool_t *p, const zx_tnef_string *s, int codepage)
{
    if (!s->data || s->len == 0)
        return NULL;
    if (s->utf16) {
        gunichar2 *u = apr_palloc(p, s->len + 2);
        memcpy(u, s->data, s->len);
        char *r = g_utf16_to_utf8(u, (glong)(s->len / 2), NULL, NULL, NULL);
        const char *out = r ? apr_pstrdup(p, r) : NULL;
        g_free(r);
        return out;
    }
    return zx_mime_to_utf8(p, s->data, s->len, apr_psprintf(p, "CP%d", codepage));
}

/* The type a file name says, for files inside a winmail.dat that do not name one. */
static const char *type_of_name(const char *name)
{
    static const struct { const char *ext, *type; } types[] = {
        {"pdf", "application/pdf"}, {"txt", "text/plain"}, {"htm", "text/html"},
        {"html", "text/html"}, {"csv", "text/csv"}, {"rtf", "application/rtf"},
        {"png", "image/png"}, {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"},
        {"gif", "image/gif"}, {"zip", "application/zip"}, {"ics", "text/calendar"},
        {"eml", "message/rfc822"}, {"msg", "application/vnd.ms-outlook"},
        {"doc", "application/msword"}, {"xls", "application/vnd.ms-excel"},
        {"ppt", "application/vnd.ms-powerpoint"},
        {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
        {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
        {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    };
    const char *dot = name ? strrchr(name, '.') : NULL;
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcasecmp(dot + 1, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

apr_array_header_t *zx_mime_tnef_files(apr_pool_t *p, const char *data, apr_size_t len,
                                       const char **body, int *damaged)
{
    zx_tnef t;
    if (body)
        *body = NULL;
    if (damaged)
        *damaged = 0;
    if (zx_tnef_parse(p, (const unsigned char *)data, len, &t) < 0)
        return NULL;
    if (damaged)
        *damaged = t.damaged;
    if (body && t.body.data)
        *body = tnef_text(p, &t.body, t.codepage);
    apr_array_header_t *out = apr_array_make(p, t.attachments->nelts + 1, sizeof(zx_mime_file));
    /* an index must fit the part number (TNEF_PART, an int): 32,766 files are plenty */
    for (int k = 0; k < t.attachments->nelts && k < TNEF_FILES_MAX; k++) {
        zx_tnef_attachment *ta = &APR_ARRAY_IDX(t.attachments, k, zx_tnef_attachment);
        if (!ta->data || ta->embedded)
            continue;
        zx_mime_file *f = apr_array_push(out);
        f->index = k;
        const char *name = tnef_text(p, &ta->long_name, t.codepage);
        if (!name)
            name = tnef_text(p, &ta->title, t.codepage);
        f->name = zx_text_one_line(p, name);
        const char *type = tnef_text(p, &ta->mime_type, t.codepage);
        f->content_type = type && strchr(type, '/') ? zx_text_one_line(p, type) : type_of_name(f->name);
        f->content_id = zx_text_one_line(p, tnef_text(p, &ta->content_id, t.codepage));
        f->data = (const char *)ta->data;
        f->len = ta->len;
    }
    return out->nelts ? out : NULL;
}

/* The files of a winmail.dat as the message's attachments; 0 when it holds none (then the
 * winmail.dat itself stays an attachment). */
int zx_mime_add_tnef(pctx *c, GMimeObject *o)
{
    int leaf = zx_mime_leaf_number(c, o);
    if (leaf < 0 || leaf > TNEF_LEAF_MAX)
        return 0;
    GByteArray *ba = zx_mime_leaf_bytes(o);
    const char *body = NULL;
    int damaged = 0;
    apr_array_header_t *files = zx_mime_tnef_files(c->p, (const char *)ba->data, ba->len, &body,
                                                   &damaged);
    if (damaged)
        c->malformed = 1;
    if (!c->tnef_body && body)
        c->tnef_body = body;
    for (int i = 0; files && i < files->nelts; i++) {
        zx_mime_file *f = &APR_ARRAY_IDX(files, i, zx_mime_file);
        zx_mime_attachment *a = apr_array_push(c->m->attachments);
        memset(a, 0, sizeof *a);
        a->part = TNEF_PART(leaf, f->index);
        a->name = f->name;
        a->content_type = f->content_type;
        a->content_id = f->content_id;
        a->size = f->len;
    }
    g_byte_array_free(ba, TRUE);
    return files ? files->nelts : 0;
}

/* Bytes of file k of the winmail.dat in leaf o, into *content. */
int zx_mime_tnef_file(apr_pool_t *p, GMimeObject *o, int k, const char **content,
                     apr_size_t *content_len)
{
    GByteArray *ba = zx_mime_leaf_bytes(o);
    zx_tnef t;
    int rc = -1;
    if (zx_tnef_parse(p, ba->data, ba->len, &t) == 0 && k < t.attachments->nelts) {
        zx_tnef_attachment *ta = &APR_ARRAY_IDX(t.attachments, k, zx_tnef_attachment);
        if (ta->data && !ta->embedded) {
            char *buf = apr_palloc(p, ta->len + 1);
            memcpy(buf, ta->data, ta->len);
            buf[ta->len] = '\0';
            *content = buf;
            *content_len = ta->len;
            rc = 0;
        }
    }
    g_byte_array_free(ba, TRUE);
    return rc;
}
