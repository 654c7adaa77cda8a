/* zxmobile - lists of recipient addresses (zxsync/recipients.h): the one parser of
 * ZxMobile_NotificationRecipients, for the administrators' notifications and the ABQ
 * notices alike. */
#include <zxsync/recipients.h>

#include <apr_strings.h>
#include <string.h>
#include <strings.h>

#define SEPARATORS ",; \t\r\n"

int zx_recipient_valid(const char *a)
{
    const char *at = a ? strchr(a, '@') : NULL;
    if (!at || at == a || !at[1] || strchr(at + 1, '@') || *a == '-')
        return 0;
    for (const unsigned char *c = (const unsigned char *)a; *c; c++)
        if (*c <= 0x20 || *c >= 0x7f || strchr("<>\"(),;:\\[]", *c))
            return 0;
    return 1;
}

apr_array_header_t *zx_recipients_parse(apr_pool_t *p, const char *value,
                                        apr_array_header_t **invalid)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(const char *));
    if (invalid)
        *invalid = apr_array_make(p, 1, sizeof(const char *));
    char *last = NULL;
    for (char *tok = apr_strtok(apr_pstrdup(p, value ? value : ""), SEPARATORS, &last); tok;
         tok = apr_strtok(NULL, SEPARATORS, &last)) {
        char *a = tok;
        apr_size_t n = strlen(a);
        if (n > 2 && a[0] == '<' && a[n - 1] == '>')
            a = apr_pstrndup(p, a + 1, n - 2);
        if (!zx_recipient_valid(a)) {
            if (invalid)
                APR_ARRAY_PUSH(*invalid, const char *) = tok;
            continue;
        }
        int seen = 0;
        for (int i = 0; i < out->nelts && !seen; i++)
            seen = strcasecmp(APR_ARRAY_IDX(out, i, const char *), a) == 0;
        if (!seen)
            APR_ARRAY_PUSH(out, const char *) = a;
    }
    return out;
}
