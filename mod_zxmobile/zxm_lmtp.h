/* mod_zxmobile - the LMTP listener (zxm_lmtp.c): its hooks. */
#ifndef ZXM_LMTP_H
#define ZXM_LMTP_H

#include <apr_pools.h>

void zxm_lmtp_register_hooks(apr_pool_t *p);

#endif
