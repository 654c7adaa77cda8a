/* zxmobile - the Contacts, Tasks, Notes and Calendar classes (eas/class/pim.c): the class tables the
 * registry (class.c) lists. */
#ifndef ZX_EAS_CLASS_PIM_H
#define ZX_EAS_CLASS_PIM_H

#include "class.h"

#include <zxsync/pim.h>

extern const zx_item_class zx_class_contacts;
extern const zx_item_class zx_class_tasks;
extern const zx_item_class zx_class_notes;
extern const zx_item_class zx_class_calendar;

#endif
