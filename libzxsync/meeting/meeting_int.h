/* zxmobile - what the files of libzxsync/meeting/ share. */
#ifndef ZX_MEETING_INT_H
#define ZX_MEETING_INT_H

#include <zxsync/meeting.h>
#include <zxsync/pimcal.h>
#include <zxsync/pimconv.h>

#define EV(name) ZX_PF_CALENDAR_##name
#define EX(name) ZX_PF_EXCEPTION_##name

/* event id with its stored properties (exceptions included): ZX_STORE_OK, ZX_STORE_NOT_FOUND,
 * ZX_STORE_ERROR */
int zx_meeting_load_event(zx_store *st, const char *id, zx_pim_props **ev, const char **err);
/* after a change of event id: its window key again (as a device's change does) */
int zx_meeting_rewindow(zx_store *st, const char *id, const char **err);
/* a new changes value for a calendar item (flags unchanged) */
zx_item_changes zx_meeting_changes(const zx_pim_props *pr);
/* a copy of ev's exceptions (zx_pim_props *, every field they have set, to be stored again),
 * without the one at start (a dateTime) when start is not NULL; *old is (a copy of) that one
 * (NULL: none) */
apr_array_header_t *zx_meeting_exceptions_but(apr_pool_t *p, const zx_pim_props *ev,
                                              const char *start, zx_pim_props **old);
/* the same instant */
int zx_meeting_same_time(const char *a, const char *b);

#endif
