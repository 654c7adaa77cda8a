/* zxmobile - the ActiveSync command table (data in eas_commands.def). */
#include <zxsync/eas.h>

#include <apr_strings.h>
#include <string.h>
#include <strings.h>

static const zx_command_info commands[ZX_CMD_COUNT_] = {
#define ZX_COMMAND(id, name, code, root, minv, maxv, maxbody, maxnodes) \
    [ZX_CMD_##id] = {name, code, root, minv, maxv, maxbody, maxnodes},
#include <zxsync/eas_commands.def>
#undef ZX_COMMAND
};

const zx_command_info *zx_command_info_get(zx_cmd cmd)
{
    if (cmd < 0 || cmd >= ZX_CMD_COUNT_)
        return NULL;
    return &commands[cmd];
}

zx_cmd zx_command_by_name(const char *name)
{
    for (int i = 0; name && i < ZX_CMD_COUNT_; i++)
        if (strcasecmp(commands[i].name, name) == 0)
            return (zx_cmd)i;
    return ZX_CMD_UNKNOWN;
}

zx_cmd zx_command_by_code(int code)
{
    for (int i = 0; code >= 0 && i < ZX_CMD_COUNT_; i++)
        if (commands[i].code == code)
            return (zx_cmd)i;
    return ZX_CMD_UNKNOWN;
}

int zx_command_in_version(zx_cmd cmd, zx_version v)
{
    const zx_command_info *ci = zx_command_info_get(cmd);
    if (!ci)
        return 0;
    return v >= ci->min_version && (ci->max_version == 0 || v <= ci->max_version);
}

const char *zx_command_list(apr_pool_t *p, zx_vset set, zx_command_lookup *handled)
{
    char *out = "";
    for (int i = 0; i < ZX_CMD_COUNT_; i++) {
        if (handled && !handled((zx_cmd)i))
            continue;
        int any = 0;
        for (int k = 0; zx_versions[k]; k++)
            if ((set & (1u << k)) && zx_command_in_version((zx_cmd)i, zx_versions[k]))
                any = 1;
        if (any)
            out = *out ? apr_pstrcat(p, out, ",", commands[i].name, NULL)
                       : apr_pstrdup(p, commands[i].name);
    }
    return out;
}
