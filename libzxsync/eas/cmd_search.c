/* zxmobile - Search ([MS-ASCMD] 2.2.1.16): one search:Store in the request, answered by the
 * function of its Name (eas/search.h): Mailbox -> zx_search_mailbox, GAL -> zx_search_gal.
 * DocumentLibrary (UNC/SharePoint links) is not offered: its Store gets Status 2 (invalid
 * request), as does an unknown Name. */
#include "handlers.h"
#include "search.h"
#include "class/class.h"

#include <zxsync/log.h>

#include <apr_strings.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int zx_search_range_parse(const char *s, int *from, int *to)
{
    char *end;
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    long a = strtol(s, &end, 10);
    if (*end != '-' || !isdigit((unsigned char)end[1]))
        return -1;
    long b = strtol(end + 1, &end, 10);
    if (*end || a < 0 || b < a || b > 1000000)
        return -1;
    *from = (int)a;
    *to = (int)b;
    return 0;
}

int zx_search_picture_limits(apr_pool_t *p, const zx_wb_node *pic, unsigned size_tag,
                             unsigned count_tag, long *max_size, long *max_pictures)
{
    const unsigned tags[2] = { size_tag, count_tag };
    long *out[2] = { max_size, max_pictures };
    for (int i = 0; i < 2; i++) {
        const char *v = zx_wb_child_text(p, pic, tags[i]);
        long long n = -1;
        if (v && zx_eas_parse_uint(v, 1000000000, &n) < 0)
            return -1;
        *out[i] = (long)n;
    }
    return 0;
}

void zx_cmd_search(const zx_server *srv, zx_request *req, zx_response *resp)
{
    apr_pool_t *p = req->pool;
    const zx_wb_node *store = zx_wb_child(req->doc, ZX_Search_Store);
    const char *name = store ? zx_wb_child_text(p, store, ZX_Search_Name) : NULL;
    if (!store || !name) {
        zx_respond_status(req, resp, ZX_EAS_INVALID_XML, ZX_LOG_INFO,
                          ZXLOGNO(02400) "Search request without Store/Name");
        return;
    }
    zx_wb_node *root = zx_wb_new(p, ZX_Search_Search);
    zx_wb_node *status = zx_wb_add(p, root, ZX_Search_Status);
    zx_wb_node *sresp = zx_wb_add(p, root, ZX_Search_Response);
    zx_wb_node *sstore = zx_wb_add(p, sresp, ZX_Search_Store);
    int st;
    if (strcasecmp(name, "GAL") == 0) {
        st = zx_search_gal(srv, req, store, sstore);
    }
    else if (strcasecmp(name, "Mailbox") == 0) {
        st = zx_search_mailbox(srv, req, store, sstore);
    }
    else {
        zx_log(req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02401) "Search of store \"%s\" refused "
               "(not offered)", name);
        zx_wb_add_textf(p, sstore, ZX_Search_Status, "%d", ZX_SEARCH_INVALID_REQUEST);
        st = ZX_SEARCH_OK;
    }
    zx_wb_node *t = apr_pcalloc(p, sizeof *t);     /* the Status made first, known last */
    t->kind = ZX_WB_TEXT;
    t->data = apr_itoa(p, st);
    t->len = strlen(t->data);
    zx_wb_append(status, t);
    zx_respond_wbxml(req, resp, root);
}
