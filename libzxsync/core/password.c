/* zxmobile - crypt(3) password hashes */
#include <zxsync/password.h>

#include <apr_strings.h>
#include <crypt.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <string.h>

int zx_password_hash(apr_pool_t *p, const char *password, const char *prefix,
                     const char **hash, const char **err)
{
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    if (!crypt_gensalt_rn(prefix ? prefix : ZX_PASSWORD_DEFAULT_PREFIX, 0, NULL, 0,
                          setting, sizeof setting)) {
        *err = apr_psprintf(p, "cannot make a salt for %s: %s",
                            prefix ? prefix : ZX_PASSWORD_DEFAULT_PREFIX, strerror(errno));
        return -1;
    }
    /* struct crypt_data is ~32 KiB: keep it off the (small) httpd thread stacks */
    struct crypt_data *cd = apr_pcalloc(p, sizeof *cd);
    const char *h = crypt_rn(password, setting, cd, (int)sizeof *cd);
    if (!h || h[0] == '*') {
        *err = "password hashing failed";
        return -1;
    }
    *hash = apr_pstrdup(p, h);
    memset(cd, 0, sizeof *cd);
    return 0;
}

int zx_password_verify(apr_pool_t *p, const char *password, const char *hash)
{
    if (!password || !hash || !zx_password_is_hash(hash))
        return 0;
    struct crypt_data *cd = apr_pcalloc(p, sizeof *cd);
    const char *h = crypt_rn(password, hash, cd, (int)sizeof *cd);
    int ok = 0;
    if (h && h[0] != '*') {
        size_t n = strlen(hash);
        ok = strlen(h) == n && CRYPTO_memcmp(h, hash, n) == 0;
    }
    memset(cd, 0, sizeof *cd);
    return ok;
}

int zx_password_is_hash(const char *s)
{
    int st = s && s[0] == '$' ? crypt_checksalt(s) : CRYPT_SALT_INVALID;
    return st == CRYPT_SALT_OK || st == CRYPT_SALT_METHOD_LEGACY;
}
