/* zxmobile - the content of one attachment (zxsync/mime.h): a range of it decoded no further
 * than needed, from a message parsed once for several reads. */
#include "mime_int.h"

#include <apr_strings.h>
#include <string.h>

/* Bytes [from, from + max) of a part's decoded content, read through GMime's decoding filter
 * (what g_mime_data_wrapper_write_to_stream does) and no further than needed: a range at the
 * start of a large attachment costs what it returns, not the whole attachment. */
static void part_range(apr_pool_t *p, GMimePart *part, apr_size_t from, apr_size_t max,
                       const char **content, apr_size_t *content_len)
{
    char *out = apr_palloc(p, 1);
    apr_size_t n = 0, cap = 0, pos = 0;
    GMimeDataWrapper *w = g_mime_part_get_content(part);
    GMimeStream *raw = w ? g_mime_data_wrapper_get_stream(w) : NULL;
    if (raw && max > 0) {
        GMimeStream *fs = g_mime_stream_filter_new(raw);
        GMimeContentEncoding enc = g_mime_data_wrapper_get_encoding(w);
        if (enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
            enc == GMIME_CONTENT_ENCODING_UUENCODE) {
            GMimeFilter *f = g_mime_filter_basic_new(enc, FALSE);
            g_mime_stream_filter_add(GMIME_STREAM_FILTER(fs), f);
            g_object_unref(f);
        }
        g_mime_stream_reset(raw);
        enum { CHUNK = 65536 };         /* not on the stack: httpd's thread stacks are small */
        char *chunk = apr_palloc(p, CHUNK);
        while (n < max) {
            ssize_t got = g_mime_stream_read(fs, chunk, CHUNK);
            if (got <= 0)
                break;
            apr_size_t g = (apr_size_t)got, skip = 0;
            if (pos < from)
                skip = from - pos < g ? from - pos : g;
            pos += g;
            apr_size_t take = g - skip < max - n ? g - skip : max - n;
            if (take == 0)
                continue;
            if (n + take > cap) {
                apr_size_t ncap = cap ? cap * 2 : 65536;
                while (ncap < n + take)
                    ncap *= 2;
                if (ncap > max)
                    ncap = max;
                char *nb = apr_palloc(p, ncap + 1);
                if (n)
                    memcpy(nb, out, n);
                out = nb;
                cap = ncap;
            }
            memcpy(out + n, chunk + skip, take);
            n += take;
        }
        g_object_unref(fs);
    }
    out[n] = '\0';
    *content = out;
    *content_len = n;
}

struct zx_mime_handle {
    pctx c;                     /* the leaves, indexed once */
    GMimeMessage *msg;
};

static apr_status_t handle_cleanup(void *data)
{
    zx_mime_handle *h = data;
    if (h->msg)
        g_object_unref(h->msg);
    h->msg = NULL;
    if (h->c.opts)
        g_mime_parser_options_free(h->c.opts);
    h->c.opts = NULL;
    return APR_SUCCESS;
}

zx_mime_handle *zx_mime_open(apr_pool_t *p, const char *data, apr_size_t len)
{
    zx_mime_init();
    if (!data || len == 0 || len > G_MAXUINT)
        return NULL;
    zx_mime_handle *h = apr_pcalloc(p, sizeof *h);
    h->c.p = p;
    h->c.leaf_index = apr_hash_make(p);
    h->c.leaves = apr_array_make(p, 8, sizeof(GMimeObject *));
    h->c.opts = zx_mime_options(&h->c);
    apr_pool_cleanup_register(p, h, handle_cleanup, apr_pool_cleanup_null);
    h->msg = zx_mime_gparse(&h->c, data, len);
    GMimeObject *top = h->msg ? g_mime_message_get_mime_part(h->msg) : NULL;
    if (top)
        zx_mime_index_leaves(&h->c, top, 0);
    return h;
}

int zx_mime_handle_range(zx_mime_handle *h, apr_pool_t *p, int part, apr_size_t from,
                         apr_size_t max, const char **content, apr_size_t *content_len,
                         const char **err)
{
    *content = NULL;
    *content_len = 0;
    int rc = -1;
    int leaf = part > TNEF_LEAF_MAX ? (part & TNEF_LEAF_MAX) : part;
    const char *whole = NULL;
    apr_size_t whole_len = 0;
    GMimeObject *o = h && part >= 0 && leaf < h->c.leaves->nelts
                         ? APR_ARRAY_IDX(h->c.leaves, leaf, GMimeObject *) : NULL;
    if (o && part > TNEF_LEAF_MAX) {
        if (zx_mime_is_tnef_part(p, o))
            rc = zx_mime_tnef_file(p, o, (part >> 16) - 1, &whole, &whole_len);
    }
    else if (o && GMIME_IS_PART(o)) {
        part_range(p, GMIME_PART(o), from, max, content, content_len);
        rc = 0;
    }
    else if (o) {
        /* an attached message or a multipart beyond the depth limit: serialised whole */
        GByteArray *ba = zx_mime_leaf_bytes(o);
        char *buf = apr_palloc(p, ba->len + 1);
        if (ba->len)
            memcpy(buf, ba->data, ba->len);
        buf[ba->len] = '\0';
        whole = buf;
        whole_len = ba->len;
        g_byte_array_free(ba, TRUE);
        rc = 0;
    }
    if (rc == 0 && whole) {
        apr_size_t a = from < whole_len ? from : whole_len;
        apr_size_t n = whole_len - a < max ? whole_len - a : max;
        *content = a == 0 && n == whole_len ? whole : apr_pstrmemdup(p, whole + a, n);
        *content_len = n;
    }
    if (rc < 0)
        *err = apr_psprintf(p, "no attachment %d in this message", part);
    return rc;
}

int zx_mime_attachment_range(apr_pool_t *p, const char *data, apr_size_t len, int part,
                             apr_size_t from, apr_size_t max, const char **content,
                             apr_size_t *content_len, const char **err)
{
    zx_mime_handle *h = zx_mime_open(p, data, len);
    int rc = zx_mime_handle_range(h, p, part, from, max, content, content_len, err);
    if (h)
        handle_cleanup(h);      /* GMime's objects go now, not with the pool */
    return rc;
}

int zx_mime_attachment_data(apr_pool_t *p, const char *data, apr_size_t len, int part,
                            const char **content, apr_size_t *content_len, const char **err)
{
    return zx_mime_attachment_range(p, data, len, part, 0, (apr_size_t)-1, content, content_len,
                                    err);
}
