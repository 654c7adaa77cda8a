/* zxmobile - contacts, tasks, notes and calendar events: their properties (pim_fields.def, one table for the
 * store, the EAS classes and the CLI's converters) and the values of one item.
 *
 * A value is text in the form ActiveSync carries it: TEXT as is, INT as decimal digits, BOOL
 * as "0" or "1", TIME as an [MS-ASDTYPE] dateTime ("2026-12-07T10:00:00.000Z"), LIST as an
 * array of strings.  The store keeps each in a typed column of the class's table and gives it
 * back in the same form (a TIME in the canonical form with milliseconds, whatever form a
 * protocol element gives it: ZX_PFF_COMPACT). */
#ifndef ZXSYNC_PIM_H
#define ZXSYNC_PIM_H

#include <apr_pools.h>
#include <apr_tables.h>

#include <zxsync/wbxml.h>

/* ZX_PIM_EXCEPTION is not an item class: the exceptions of a recurring event (rows of
 * calendar_exceptions, zx_pim_props.exceptions of the event) */
typedef enum {
    ZX_PIM_CONTACT = 0, ZX_PIM_TASK = 1, ZX_PIM_NOTE = 2, ZX_PIM_CALENDAR = 3,
    ZX_PIM_EXCEPTION = 4, ZX_PIM_NCLASSES = 5
} zx_pim_class;

typedef enum { ZX_PT_TEXT, ZX_PT_INT, ZX_PT_BOOL, ZX_PT_TIME, ZX_PT_LIST } zx_pim_type;

#define ZX_PFF_GHOST 0x01u
#define ZX_PFF_REC 0x02u
#define ZX_PFF_BODY 0x04u
#define ZX_PFF_KEEP 0x08u
#define ZX_PFF_RI 0x10u
#define ZX_PFF_COMPACT 0x20u
#define ZX_PFF_TZ 0x40u
#define ZX_PFF_ATT 0x80u
#define ZX_PFF_LOC 0x100u
#define ZX_PFF_CALC 0x200u
#define ZX_PFF_INSTANCE 0x400u

/* ZX_PF_CONTACT_FIRST_NAME, ... ZX_PF_NOTE_BODY_TYPE, then ZX_PF_COUNT */
typedef enum {
#define ZX_PIM_FIELD(cls, name, col, type, tag, item_tag, since, until, flags) ZX_PF_##cls##_##name,
#include <zxsync/pim_fields.def>
#undef ZX_PIM_FIELD
    ZX_PF_COUNT
} zx_pim_field;

typedef struct {
    zx_pim_class cls;
    const char *name;           /* "FIRST_NAME" */
    const char *column;         /* "first_name" */
    zx_pim_type type;
    unsigned tag, item_tag;     /* WBXML tags, 0 = none */
    unsigned since, until;      /* protocol versions (zx_version values), until 0 = current */
    unsigned flags;             /* ZX_PFF_* */
} zx_pim_field_def;

extern const zx_pim_field_def zx_pim_fields[ZX_PF_COUNT];

/* The class's fields are the range [first, last) of zx_pim_fields. */
typedef struct {
    const char *item_class;     /* "Contacts", "Tasks", "Notes", "Calendar": items.item_class
                                 * (NULL: exceptions) */
    const char *table;          /* "contacts", "tasks", "notes", "calendar",
                                 * "calendar_exceptions" */
    zx_pim_field first, last;
    zx_pim_field body, body_type;
} zx_pim_class_def;

extern const zx_pim_class_def zx_pim_classes[ZX_PIM_NCLASSES];

/* The class of an item class name; -1 when it is not one of these. */
int zx_pim_class_of(const char *item_class);

/* [MS-ASAIRS] body types stored */
#define ZX_PIM_BODY_PLAIN 1
#define ZX_PIM_BODY_HTML 2
#define ZX_PIM_BODY_RTF 3

/* One value; both NULL = none. */
typedef struct {
    const char *text;
    apr_array_header_t *list;   /* LIST: const char * */
} zx_pim_value;

/* The values of one item, indexed by zx_pim_field (only the class's range is used).  For a
 * change (zx_item_changes.pim, zx_store_pim_create), set[f] says that v[f] replaces the
 * stored value (a value of none clears it); a field not set keeps its value. */
typedef struct zx_pim_props zx_pim_props;
struct zx_pim_props {
    zx_pim_class cls;
    zx_pim_value v[ZX_PF_COUNT];
    unsigned char set[ZX_PF_COUNT];
    /* CALENDAR: its exceptions (zx_pim_props * of class EXCEPTION, by EXCEPTION_START); for a
     * change, exceptions_set says that they replace the stored ones (NULL: none) */
    apr_array_header_t *exceptions;
    int exceptions_set;
    /* a 16.x change: when it moves the series' start, end or recurrence, the stored
     * exceptions go ([MS-ASCAL] 2.2.2.22) */
    int retime_drops_exceptions;
};

zx_pim_props *zx_pim_props_new(apr_pool_t *p, zx_pim_class cls);
/* set one field (marks it set); text NULL = clear */
void zx_pim_set(zx_pim_props *pr, zx_pim_field f, const char *text);
void zx_pim_set_list(zx_pim_props *pr, zx_pim_field f, apr_array_header_t *list);
/* the text of a field, NULL when it has none */
const char *zx_pim_get(const zx_pim_props *pr, zx_pim_field f);
/* a field by class and column name ("first_name"); -1 when there is none */
int zx_pim_field_by_column(zx_pim_class cls, const char *column);

/* ---- recurrences ------------------------------------------------------------------------
 * Tasks and events carry the same recurrence ([MS-ASTASK] 2.2.2.19, [MS-ASCAL] 2.2.2.37) in
 * fields of their own: which are which, for the code that reads either. */
typedef struct {
    zx_pim_field type, interval, occurrences, until, day_of_week, week_of_month, day_of_month,
        month_of_year, first_day_of_week, calendar_type, is_leap_month;
} zx_pim_rec_fields;

/* the recurrence fields of a class, NULL when it has none (contacts, notes, exceptions) */
const zx_pim_rec_fields *zx_pim_rec_of(zx_pim_class cls);

/* ---- calendar attendees ----------------------------------------------------------------
 * An ATTENDEES value is a list of encoded attendees (one text each, so that the store keeps
 * them in a text[] column like any list): "email<US>name<US>status<US>type" (US = 0x1F; an
 * absent part is empty; status and type are [MS-ASCAL] AttendeeStatus 0-5 and AttendeeType
 * 1-3 as decimal digits). */
typedef struct {
    const char *email;
    const char *name;           /* "" when none */
    int status;                 /* -1 = none */
    int type;                   /* -1 = none */
} zx_pim_attendee;

const char *zx_pim_attendee_encode(apr_pool_t *p, const zx_pim_attendee *a);
void zx_pim_attendee_decode(apr_pool_t *p, const char *enc, zx_pim_attendee *a);

/* The exception of event pr for the occurrence that starts at start (an [MS-ASDTYPE] dateTime
 * as stored), NULL when it has none. */
zx_pim_props *zx_pim_exception_at(const zx_pim_props *pr, const char *start);

#endif
