/* zxmobile - a 16.x draft as a message (zxsync/mime_draft.h), with GMime. */
#include "mime_int.h"

#include <zxsync/mime_draft.h>

#include <apr_strings.h>
#include <string.h>
#include <strings.h>

static apr_status_t unref_cleanup(void *o)
{
    g_object_unref(o);
    return APR_SUCCESS;
}

static void add_addresses(apr_pool_t *p, GMimeMessage *m, GMimeAddressType type,
                          const char *list)
{
    if (!list || !*list)
        return;
    /* "a@x; b@y" (Outlook's separator) outside quotes, when the list has no group */
    if (!strchr(list, ':')) {
        char *s = apr_pstrdup(p, list);
        int quote = 0;
        for (char *q = s; *q; q++) {
            if (*q == '\\' && quote && q[1])
                q++;
            else if (*q == '"')
                quote = !quote;
            else if (*q == ';' && !quote)
                *q = ',';
        }
        list = s;
    }
    InternetAddressList *parsed = internet_address_list_parse(NULL, list);
    if (!parsed)
        return;
    internet_address_list_append(g_mime_message_get_addresses(m, type), parsed);
    g_object_unref(parsed);
}

/* type/subtype of a client's ContentType (parameters dropped), defaulted */
static void split_type(apr_pool_t *p, const char *ct, const char **type, const char **sub)
{
    *type = "application";
    *sub = "octet-stream";
    if (!ct || !*ct)
        return;
    const char *slash = strchr(ct, '/');
    if (!slash || slash == ct)
        return;
    apr_size_t n = strcspn(slash + 1, "; \t");
    if (n == 0)
        return;
    *type = apr_pstrmemdup(p, ct, (apr_size_t)(slash - ct));
    *sub = apr_pstrmemdup(p, slash + 1, n);
}

static GMimeObject *file_part(apr_pool_t *p, const zx_mime_draft_file *f)
{
    const char *type, *sub;
    split_type(p, f->content_type, &type, &sub);
    GMimeObject *o = NULL;
    if (strcasecmp(type, "message") == 0 && strcasecmp(sub, "rfc822") == 0) {
        GMimeStream *s = g_mime_stream_mem_new_with_buffer(f->data ? f->data : "", f->len);
        GMimeParser *parser = g_mime_parser_new_with_stream(s);
        g_object_unref(s);
        GMimeMessage *em = g_mime_parser_construct_message(parser, NULL);
        g_object_unref(parser);
        if (em) {
            o = GMIME_OBJECT(g_mime_message_part_new_with_message("rfc822", em));
            g_object_unref(em);
        }
        else {
            type = "application";
            sub = "octet-stream";
        }
    }
    if (!o) {
        GMimePart *part = g_mime_part_new_with_type(type, sub);
        GMimeStream *s = g_mime_stream_mem_new_with_buffer(f->data ? f->data : "", f->len);
        GMimeDataWrapper *w = g_mime_data_wrapper_new_with_stream(s, GMIME_CONTENT_ENCODING_DEFAULT);
        g_object_unref(s);
        g_mime_part_set_content(part, w);
        g_object_unref(w);
        g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
        o = GMIME_OBJECT(part);
    }
    g_mime_object_set_disposition(o, f->is_inline ? GMIME_DISPOSITION_INLINE
                                                  : GMIME_DISPOSITION_ATTACHMENT);
    if (f->name && *f->name) {
        g_mime_object_set_content_disposition_parameter(o, "filename", f->name);
        g_mime_object_set_content_type_parameter(o, "name", f->name);
    }
    if (f->content_id && *f->content_id)
        g_mime_object_set_content_id(o, f->content_id);
    if (f->content_location && *f->content_location)
        g_mime_object_set_header(o, "Content-Location", f->content_location, NULL);
    return o;
}

const char *zx_mime_draft_build(apr_pool_t *p, const zx_mime_draft_spec *s, apr_size_t *len)
{
    zx_mime_init();
    GMimeMessage *m = g_mime_message_new(TRUE);
    apr_pool_cleanup_register(p, m, unref_cleanup, apr_pool_cleanup_null);
    if (s->from && *s->from)
        g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_FROM, NULL, s->from);
    add_addresses(p, m, GMIME_ADDRESS_TYPE_TO, s->to);
    add_addresses(p, m, GMIME_ADDRESS_TYPE_CC, s->cc);
    add_addresses(p, m, GMIME_ADDRESS_TYPE_BCC, s->bcc);
    if (s->subject)
        g_mime_message_set_subject(m, s->subject, "utf-8");
    GDateTime *now = g_date_time_new_now_local();
    g_mime_message_set_date(m, now);
    g_date_time_unref(now);
    if (s->message_id && *s->message_id)
        g_mime_message_set_message_id(m, s->message_id);
    else {
        const char *at = s->from ? strchr(s->from, '@') : NULL;
        char *mid = g_mime_utils_generate_message_id(at ? at + 1 : "localhost");
        g_mime_message_set_message_id(m, mid);
        g_free(mid);
    }
    if (s->importance == 0 || s->importance == 2)
        g_mime_object_set_header(GMIME_OBJECT(m), "Importance",
                                 s->importance == 2 ? "high" : "low", NULL);
    GMimeTextPart *tp = g_mime_text_part_new_with_subtype(s->html ? "html" : "plain");
    g_mime_text_part_set_text(tp, s->text ? s->text : "");
    int nfiles = s->files ? s->files->nelts : 0;
    if (nfiles == 0)
        g_mime_message_set_mime_part(m, GMIME_OBJECT(tp));
    else {
        GMimeMultipart *mixed = g_mime_multipart_new_with_subtype("mixed");
        g_mime_multipart_add(mixed, GMIME_OBJECT(tp));
        for (int i = 0; i < nfiles; i++) {
            GMimeObject *o = file_part(p, &APR_ARRAY_IDX(s->files, i, zx_mime_draft_file));
            g_mime_multipart_add(mixed, o);
            g_object_unref(o);
        }
        g_mime_message_set_mime_part(m, GMIME_OBJECT(mixed));
        g_object_unref(mixed);
    }
    g_object_unref(tp);

    return zx_mime_gm_write(p, m, len);
}
