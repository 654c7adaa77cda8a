/* zxmobile - the properties of contacts, tasks and notes (zxsync/pim.h): the field table
 * built from pim_fields.def and the values of one item. */
#include <zxsync/pim.h>

#include <string.h>

const zx_pim_field_def zx_pim_fields[ZX_PF_COUNT] = {
#define ZX_PIM_FIELD(cls, name, col, type, tag, item_tag, since, until, flags) \
    {ZX_PIM_##cls, #name, col, ZX_PT_##type, tag, item_tag, since, until, flags},
#include <zxsync/pim_fields.def>
#undef ZX_PIM_FIELD
};

const zx_pim_class_def zx_pim_classes[ZX_PIM_NCLASSES] = {
    {"Contacts", "contacts", ZX_PF_CONTACT_ANNIVERSARY, ZX_PF_TASK_SUBJECT, ZX_PF_CONTACT_BODY,
     ZX_PF_CONTACT_BODY_TYPE},
    {"Tasks", "tasks", ZX_PF_TASK_SUBJECT, ZX_PF_NOTE_SUBJECT, ZX_PF_TASK_BODY,
     ZX_PF_TASK_BODY_TYPE},
    {"Notes", "notes", ZX_PF_NOTE_SUBJECT, ZX_PF_COUNT, ZX_PF_NOTE_BODY, ZX_PF_NOTE_BODY_TYPE},
};

int zx_pim_class_of(const char *item_class)
{
    if (!item_class)
        return -1;
    for (int c = 0; c < ZX_PIM_NCLASSES; c++)
        if (strcmp(zx_pim_classes[c].item_class, item_class) == 0)
            return c;
    return -1;
}

zx_pim_props *zx_pim_props_new(apr_pool_t *p, zx_pim_class cls)
{
    zx_pim_props *pr = apr_pcalloc(p, sizeof *pr);
    pr->cls = cls;
    return pr;
}

void zx_pim_set(zx_pim_props *pr, zx_pim_field f, const char *text)
{
    pr->v[f].text = text;
    pr->v[f].list = NULL;
    pr->set[f] = 1;
}

void zx_pim_set_list(zx_pim_props *pr, zx_pim_field f, apr_array_header_t *list)
{
    pr->v[f].text = NULL;
    pr->v[f].list = list;
    pr->set[f] = 1;
}

const char *zx_pim_get(const zx_pim_props *pr, zx_pim_field f)
{
    return pr->v[f].text;
}

int zx_pim_field_by_column(zx_pim_class cls, const char *column)
{
    const zx_pim_class_def *c = &zx_pim_classes[cls];
    for (int f = c->first; f < (int)c->last; f++)
        if (strcmp(zx_pim_fields[f].column, column) == 0)
            return f;
    return -1;
}
