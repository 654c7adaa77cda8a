/* zxmobile - the 2.5 form of an e-mail's body ([MS-ASEMAIL] for protocol 2.5: email:Body,
 * BodySize, BodyTruncated; MIMEData, MIMETruncated, MIMESize), for the Email class (email.c)
 * when the request's version is below 12.0. */
#ifndef ZX_EAS_CLASS_EMAIL25_H
#define ZX_EAS_CLASS_EMAIL25_H

#include "class.h"

/* What zx_store_item_contents must load to render a 2.5 body with these options (the whole
 * text; the MIME when MIMESupport asks for it, as far as MIMETruncation keeps). */
void zx_email25_content_want(const zx_class_opts *o, zx_content_want *want);

/* The body of item at 2.5: MIMEData, MIMETruncated, MIMESize when MIMESupport sends it this
 * item's MIME, else Body (cut to Truncation), BodySize (when cut), BodyTruncated. */
void zx_email25_render_body(apr_pool_t *p, const zx_class_opts *o, const zx_item *it,
                            const zx_item_content *c, zx_wb_node *parent);

#endif
