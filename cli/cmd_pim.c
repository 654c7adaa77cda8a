/* zxsuite contacts | tasks | notes | calendar: import and export of an account's contacts,
 * tasks, notes and calendar events (the converters are libzxsync/pim/, zxsync/pimconv.h).
 *
 *   zxsuite contacts import <account> <file.vcf> [folder]     vCard 2.1, 3.0, 4.0
 *   zxsuite contacts export <account> [folder] [--output FILE]  vCard 4.0
 *   zxsuite tasks import <account> <file.ics> [folder]        iCalendar VTODO
 *   zxsuite tasks export <account> [folder] [--output FILE]
 *   zxsuite notes import <account> <file> [folder]            iCalendar VJOURNAL, or a plain
 *                                                             text file as one note
 *   zxsuite notes export <account> [folder] [--output FILE]   iCalendar VJOURNAL
 *   zxsuite calendar import <account> <file.ics> [folder]     iCalendar VEVENT (a series with
 *                                                             its exceptions is one record)
 *   zxsuite calendar export <account> [folder] [--output FILE]
 *
 * The folder is the account's standard Contacts / Tasks / Notes / Calendar folder, or a server id or
 * path ("Contacts/Friends") of a folder of that class.  Import reads the whole file first and
 * reports each record it cannot read on stderr (record number, line, reason; what of a record
 * it had to drop as a warning); then it creates the readable ones in one transaction, so a
 * failure leaves nothing half imported.  A progress bar is drawn on stderr when it is a
 * terminal.  Skipped records do not make the command fail: the summary (and --json's
 * "skipped") counts them.  Export writes to stdout, or to FILE; with --json and no FILE the
 * text is the response's "data". */
#include "cli.h"

#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <zxsync/directory.h>
#include <zxsync/pimconv.h>
#include <zxsync/store.h>

#define PAGE 500

typedef struct {
    zx_pim_class cls;
    const char *module;     /* "contacts" */
    const char *one, *many; /* "contact", "contacts" */
    int folder_type;
} kind;

static const kind kinds[] = {
    {ZX_PIM_CONTACT, "contacts", "contact", "contacts", ZX_FOLDER_CONTACTS},
    {ZX_PIM_TASK, "tasks", "task", "tasks", ZX_FOLDER_TASKS},
    {ZX_PIM_NOTE, "notes", "note", "notes", ZX_FOLDER_NOTES},
    {ZX_PIM_CALENDAR, "calendar", "event", "events", ZX_FOLDER_CALENDAR},
};

typedef struct {
    zx_store *st;
    const char *account;        /* normalised */
    const char *account_id;
    zx_folder *folder;
} target;

/* The account's store and the folder (arg NULL: the class's standard folder).  0 / -1. */
static int open_target(cli *c, const kind *k, const char *account, const char *arg, target *t,
                       const char **err)
{
    if (cli_open_account(c, account, &t->account, &t->account_id, &t->st, err) <= 0)
        return -1;
    const char *norm = t->account;
    if (zx_store_ensure_mailbox(t->st, err) != ZX_STORE_OK)
        return -1;
    t->folder = NULL;
    if (!arg) {
        if (zx_store_folder_by_type(t->st, k->folder_type, &t->folder, err) == ZX_STORE_ERROR)
            return -1;
        if (!t->folder) {
            *err = apr_psprintf(c->pool, "the mailbox of %s has no %s folder", norm,
                                zx_store_standard_name(k->folder_type));
            return -1;
        }
        return 0;
    }
    if (zx_store_folder_find(t->st, arg, &t->folder, err) == ZX_STORE_ERROR)
        return -1;
    if (!t->folder || t->folder->deleted) {
        *err = apr_psprintf(c->pool, "no such folder in %s: %s", norm, arg);
        return -1;
    }
    const char *want = zx_pim_classes[k->cls].item_class;
    if (!t->folder->item_class || strcmp(t->folder->item_class, want) != 0) {
        *err = apr_psprintf(c->pool, "%s is not %s %s folder (it holds %s)", arg,
                            strchr("aeiou", k->one[0]) ? "an" : "a", k->one,
                            t->folder->item_class ? t->folder->item_class : "nothing");
        return -1;
    }
    return 0;
}

static ov *target_ov(apr_pool_t *p, const target *t)
{
    ov *o = ov_new(p, OV_OBJ);
    ov_set(o, "account", ov_str(p, t->account));
    ov_set(o, "folder", ov_str(p, t->folder->name));
    ov_set(o, "folderId", ov_str(p, t->folder->id));
    return o;
}

static int read_file(cli *c, const char *path, char **data, apr_size_t *len, const char **err)
{
    apr_file_t *f;
    apr_finfo_t fi;
    char msg[120];
    apr_status_t rv = apr_file_open(&f, path, APR_FOPEN_READ, 0, c->pool);
    if (rv == APR_SUCCESS)
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE | APR_FINFO_TYPE, f);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(c->pool, "cannot read %s: %s", path, apr_strerror(rv, msg, sizeof msg));
        return -1;
    }
    if (fi.filetype != APR_REG) {
        *err = apr_psprintf(c->pool, "%s is not a file", path);
        return -1;
    }
    *len = (apr_size_t)fi.size;
    *data = apr_palloc(c->pool, *len + 1);
    apr_size_t got = 0;
    rv = *len ? apr_file_read_full(f, *data, *len, &got) : APR_SUCCESS;
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        *err = apr_psprintf(c->pool, "reading %s: %s", path, apr_strerror(rv, msg, sizeof msg));
        return -1;
    }
    *len = got;
    (*data)[got] = '\0';
    return 0;
}

/* ---- progress -------------------------------------------------------------------------------- */

typedef struct {
    int tty, shown;
    apr_time_t last;
} bar;

static void bar_draw(bar *b, int done, int total, const char *what, int force)
{
    if (!b->tty || total <= 0)
        return;
    apr_time_t now = apr_time_now();
    if (!force && now - b->last < apr_time_from_msec(100))
        return;
    b->last = now;
    char s[31];
    int fill = (int)((long long)done * 30 / total);
    for (int i = 0; i < 30; i++)
        s[i] = i < fill ? '#' : '-';
    s[30] = '\0';
    fprintf(stderr, "\r[%s] %3d%%  %d/%d %s", s, (int)((long long)done * 100 / total), done, total,
            what);
    fflush(stderr);
    b->shown = 1;
}

static void bar_clear(bar *b)
{
    if (b->shown) {
        fprintf(stderr, "\r%*s\r", 72, "");
        fflush(stderr);
        b->shown = 0;
    }
}

/* ---- import ---------------------------------------------------------------------------------- */

static void own_status(zx_pim_props *pr, zx_pim_field f)
{
    const char *ms = zx_pim_get(pr, f);
    if (ms && strcmp(ms, "3") == 0)
        zx_pim_set(pr, f, "1");
    else if (ms && strcmp(ms, "7") == 0)
        zx_pim_set(pr, f, "5");
}

/* A meeting whose organizer is the account itself is the account's own: the reader's
 * MeetingStatus 3 / 7 (received, cancelled received: [MS-ASCAL] 2.2.2.29) becomes 1 / 5. */
static void own_meetings(cli *c, const target *t, apr_array_header_t *recs)
{
    for (int i = 0; i < recs->nelts; i++) {
        zx_pim_props *pr = APR_ARRAY_IDX(recs, i, zx_pim_record).props;
        const char *org = pr ? zx_pim_get(pr, ZX_PF_CALENDAR_ORGANIZER_EMAIL) : NULL;
        const char *ms = pr ? zx_pim_get(pr, ZX_PF_CALENDAR_MEETING_STATUS) : NULL;
        if (!org || !ms || strcasecmp(org, t->account) != 0)
            continue;
        own_status(pr, ZX_PF_CALENDAR_MEETING_STATUS);
        for (int x = 0; pr->exceptions && x < pr->exceptions->nelts; x++)
            own_status(APR_ARRAY_IDX(pr->exceptions, x, zx_pim_props *),
                       ZX_PF_EXCEPTION_MEETING_STATUS);
    }
    (void)c;
}

static int do_import(cli *c, const kind *k, int argc, const char **argv, ov **out,
                     const char **err)
{
    const char *path = argv[1];
    char *data;
    apr_size_t len;
    if (read_file(c, path, &data, &len, err) < 0)
        return -1;
    apr_array_header_t *recs;
    if (k->cls == ZX_PIM_CONTACT) {
        if (zx_vcard_read(c->pool, data, len, &recs, err) < 0) {
            *err = apr_psprintf(c->pool, "%s: %s", path, *err);
            return -1;
        }
    }
    else if (k->cls != ZX_PIM_NOTE || zx_pimconv_is_ical(data, len)) {
        if (zx_ical_read(c->pool, k->cls, data, len, &recs, err) < 0) {
            *err = apr_psprintf(c->pool, "%s: %s", path, *err);
            return -1;
        }
    }
    else {
        recs = apr_array_make(c->pool, 1, sizeof(zx_pim_record));
        APR_ARRAY_PUSH(recs, zx_pim_record) = zx_note_from_text(c->pool, data, len);
    }
    /* every problem first, one line per record */
    int good = 0, skipped = 0;
    for (int i = 0; i < recs->nelts; i++) {
        const zx_pim_record *r = &APR_ARRAY_IDX(recs, i, zx_pim_record);
        const char *where = r->line ? apr_psprintf(c->pool, "%s: record %d (line %ld)", path,
                                                   r->number, r->line)
                                    : apr_psprintf(c->pool, "%s: record %d", path, r->number);
        if (!r->props) {
            skipped++;
            fprintf(stderr, "zxsuite: %s: skipped: %s\n", where,
                    r->error ? r->error : "unreadable");
            continue;
        }
        good++;
        for (int w = 0; r->warnings && w < r->warnings->nelts; w++)
            fprintf(stderr, "zxsuite: %s: warning: %s\n", where,
                    APR_ARRAY_IDX(r->warnings, w, const char *));
    }
    if (!good) {
        *err = apr_psprintf(c->pool, "%s: no record could be read; nothing imported", path);
        return -1;
    }
    target t = {0};
    if (open_target(c, k, argv[0], argc > 2 ? argv[2] : NULL, &t, err) < 0)
        return -1;
    if (k->cls == ZX_PIM_CALENDAR)
        own_meetings(c, &t, recs);
    /* all of them in one transaction */
    int own, rc = 0, done = 0;
    bar b = {isatty(2), 0, 0};
    if (zx_db_tx_begin(c->db, &own, err) < 0)
        return -1;
    for (int i = 0; i < recs->nelts && rc == 0; i++) {
        const zx_pim_record *r = &APR_ARRAY_IDX(recs, i, zx_pim_record);
        if (!r->props)
            continue;
        apr_pool_t *sub;
        apr_pool_create(&sub, c->pool);
        zx_db_set_pool(c->db, sub);
        zx_store *st = zx_store_open(sub, c->db, t.account_id);
        zx_item *item = NULL;
        const char *e = NULL;
        int s = zx_store_pim_create(st, t.folder->id, r->props, NULL, &item, &e);
        zx_db_set_pool(c->db, c->pool);
        if (s != ZX_STORE_OK) {
            *err = apr_psprintf(c->pool, "record %d (line %ld) could not be stored: %s; nothing "
                                "imported", r->number, r->line,
                                s == ZX_STORE_ERROR ? (e ? e : "failed")
                                : s == ZX_STORE_INVALID ? "refused by the store (invalid)"
                                                        : "the folder no longer exists");
            rc = -1;
        }
        apr_pool_destroy(sub);
        bar_draw(&b, ++done, good, k->many, 0);
    }
    bar_draw(&b, done, good, k->many, 1);
    bar_clear(&b);
    const char *terr = NULL;
    if (zx_db_tx_end(c->db, own, rc, &terr) < 0) {
        if (rc == 0)
            *err = apr_psprintf(c->pool, "%s; nothing imported", terr);
        return -1;
    }
    if (rc < 0)
        return -1;
    if (good > 0 && zx_store_bulk_loaded(t.st, err) < 0)
        return -1;
    if (c->json) {
        *out = target_ov(c->pool, &t);
        ov_set(*out, "records", ov_int(c->pool, recs->nelts));
        ov_set(*out, "imported", ov_int(c->pool, good));
        ov_set(*out, "skipped", ov_int(c->pool, skipped));
    }
    else {
        printf("imported %d %s into %s of %s", good, good == 1 ? k->one : k->many, t.folder->name,
               t.account);
        if (skipped)
            printf(", %d record%s skipped", skipped, skipped == 1 ? "" : "s");
        printf("\n");
    }
    return 0;
}

/* ---- export ---------------------------------------------------------------------------------- */

typedef struct {
    cli *c;
    const kind *k;
    target *t;
    FILE *f;                    /* where the text goes; NULL: into text (--json without FILE) */
    apr_array_header_t *text;   /* const char * */
    zx_ical_writer *w;          /* tasks and notes */
    int n;
} exporter;

static int emit(exporter *x, const char *s, const char **err)
{
    if (!x->f) {
        APR_ARRAY_PUSH(x->text, const char *) = apr_pstrdup(x->c->pool, s);
        return 0;
    }
    if (fputs(s, x->f) == EOF) {
        *err = "write error";
        return -1;
    }
    return 0;
}

/* One page of items: vCards are written as they come (each page's items and properties live
 * in a pool of their own), tasks and notes go into the iCalendar writer. */
static int export_page(exporter *x, apr_array_header_t *live, const char **err)
{
    for (int i = 0; i < live->nelts; i++) {
        zx_item *it = APR_ARRAY_IDX(live, i, zx_item *);
        const zx_pim_props *pr = it->content ? it->content->pim : NULL;
        if (!pr || pr->cls != x->k->cls) {
            fprintf(stderr, "zxsuite: warning: item %s of %s has no %s properties; not "
                    "exported\n", it->id, x->t->folder->name, x->k->one);
            continue;
        }
        apr_pool_t *p = live->pool;
        const char *uid = apr_psprintf(p, "zxmobile-%s-%s", x->t->account_id, it->id);
        if (x->w)
            zx_ical_writer_add(x->w, pr, uid);
        else if (emit(x, zx_vcard_write(p, pr, uid), err) < 0)
            return -1;
        x->n++;
    }
    return 0;
}

/* The live items of the folder, page by page in the order they were created, each with its
 * properties, to export_page. */
static int export_items(exporter *x, const char **err)
{
    cli *c = x->c;
    apr_hash_t *seen = apr_hash_make(c->pool);
    long long since = 0;
    int more = 1, rc = 0;
    while (more && rc == 0) {
        apr_pool_t *sub;
        apr_pool_create(&sub, c->pool);
        zx_db_set_pool(c->db, sub);
        zx_store *st = zx_store_open(sub, c->db, x->t->account_id);
        apr_array_header_t *page;
        const char *e = NULL;
        if (zx_store_changes(st, x->t->folder->id, since, 0, PAGE, &page, &more, &e) !=
            ZX_STORE_OK) {
            rc = -1;
        }
        else {
            apr_array_header_t *live = apr_array_make(sub, page->nelts, sizeof(zx_item *));
            for (int i = 0; i < page->nelts; i++) {
                zx_item *it = APR_ARRAY_IDX(page, i, zx_item *);
                long long key = it->created_modseq > since ? it->created_modseq : it->modseq;
                if (i == page->nelts - 1)
                    since = key;
                if (it->deleted || apr_hash_get(seen, it->id, APR_HASH_KEY_STRING))
                    continue;
                const char *id = apr_pstrdup(c->pool, it->id);
                apr_hash_set(seen, id, APR_HASH_KEY_STRING, id);
                APR_ARRAY_PUSH(live, zx_item *) = it;
            }
            zx_content_want want = {0, 0, 0};
            if (live->nelts && zx_store_item_contents(st, live, &want, &e) != ZX_STORE_OK)
                rc = -1;
            else if (export_page(x, live, &e) < 0)
                rc = -1;
            if (!page->nelts)
                more = 0;
        }
        zx_db_set_pool(c->db, c->pool);
        if (rc < 0)
            *err = apr_pstrdup(c->pool, e ? e : "failed");
        apr_pool_destroy(sub);
    }
    return rc;
}

static int do_export(cli *c, const kind *k, int argc, const char **argv, ov **out,
                     const char **err)
{
    const char *output = NULL, *folder = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--output") == 0 || strcmp(argv[i], "-o") == 0) {
            if (i + 1 >= argc) {
                *err = "--output needs a file name";
                return -1;
            }
            output = argv[++i];
        }
        else if (!folder) {
            folder = argv[i];
        }
        else {
            *err = apr_psprintf(c->pool, "unexpected argument \"%s\"", argv[i]);
            return -1;
        }
    }
    target t = {0};
    if (open_target(c, k, argv[0], folder, &t, err) < 0)
        return -1;
    exporter x = {c, k, &t, NULL, apr_array_make(c->pool, 16, sizeof(const char *)), NULL, 0};
    if (output) {
        x.f = fopen(output, "wb");
        if (!x.f) {
            *err = apr_psprintf(c->pool, "cannot write %s: %s", output, strerror(errno));
            return -1;
        }
    }
    else if (!c->json) {
        x.f = stdout;
    }
    if (k->cls != ZX_PIM_CONTACT)
        x.w = zx_ical_writer_new(c->pool);
    int rc = export_items(&x, err);
    if (rc == 0 && x.w)
        rc = emit(&x, zx_ical_writer_finish(x.w), err);
    if (x.f && fflush(x.f) == EOF && rc == 0) {
        *err = "write error";
        rc = -1;
    }
    if (output && fclose(x.f) == EOF && rc == 0) {
        *err = apr_psprintf(c->pool, "writing %s: %s", output, strerror(errno));
        rc = -1;
    }
    if (rc < 0) {
        if (output)
            *err = apr_psprintf(c->pool, "%s (%s is incomplete)", *err, output);
        return -1;
    }
    if (c->json) {
        *out = target_ov(c->pool, &t);
        ov_set(*out, "exported", ov_int(c->pool, x.n));
        if (output)
            ov_set(*out, "output", ov_str(c->pool, output));
        else
            ov_set(*out, "data", ov_str(c->pool, apr_array_pstrcat(c->pool, x.text, 0)));
    }
    else if (output) {
        printf("exported %d %s from %s of %s to %s\n", x.n, x.n == 1 ? k->one : k->many,
               t.folder->name, t.account, output);
    }
    return 0;
}

/* ---- the commands ---------------------------------------------------------------------------- */

#define CMDS(i, name)                                                                           \
    static int name##_import(cli *c, int argc, const char **argv, ov **out, const char **err)  \
    {                                                                                           \
        return do_import(c, &kinds[i], argc, argv, out, err);                                   \
    }                                                                                           \
    static int name##_export(cli *c, int argc, const char **argv, ov **out, const char **err)  \
    {                                                                                           \
        return do_export(c, &kinds[i], argc, argv, out, err);                                   \
    }
CMDS(0, contacts)
CMDS(1, tasks)
CMDS(2, notes)
CMDS(3, calendar)

const command cli_pim_commands[] = {
    {"contacts", "import", 2, 3, "<account> <file.vcf> [folder]",
     "import the contacts of a vCard file (2.1, 3.0, 4.0) into a contacts folder (default "
     "Contacts), all or nothing; unreadable records are reported and skipped", contacts_import},
    {"contacts", "export", 1, 4, "<account> [folder] [--output FILE]",
     "write the contacts of a folder (default Contacts) as vCard 4.0 to stdout or FILE",
     contacts_export},
    {"tasks", "import", 2, 3, "<account> <file.ics> [folder]",
     "import the VTODOs of an iCalendar file into a tasks folder (default Tasks), all or "
     "nothing; unreadable records are reported and skipped", tasks_import},
    {"tasks", "export", 1, 4, "<account> [folder] [--output FILE]",
     "write the tasks of a folder (default Tasks) as iCalendar VTODOs to stdout or FILE",
     tasks_export},
    {"notes", "import", 2, 3, "<account> <file.ics|file.txt> [folder]",
     "import the VJOURNALs of an iCalendar file, or a plain text file as one note (first line "
     "the subject), into a notes folder (default Notes)", notes_import},
    {"notes", "export", 1, 4, "<account> [folder] [--output FILE]",
     "write the notes of a folder (default Notes) as iCalendar VJOURNALs to stdout or FILE",
     notes_export},
    {"calendar", "import", 2, 3, "<account> <file.ics> [folder]",
     "import the VEVENTs of an iCalendar file (a series with its EXDATEs and RECURRENCE-IDs as "
     "one event with its exceptions) into a calendar folder (default Calendar), all or "
     "nothing; unreadable events are reported and skipped", calendar_import},
    {"calendar", "export", 1, 4, "<account> [folder] [--output FILE]",
     "write the events of a calendar folder (default Calendar) as iCalendar VEVENTs with "
     "their VTIMEZONEs to stdout or FILE", calendar_export},
    {NULL, NULL, 0, 0, NULL, NULL, NULL}
};
