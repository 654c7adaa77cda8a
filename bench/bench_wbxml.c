/* bench_wbxml - throughput of libzxsync's WBXML codec on a realistic Sync response.
 *
 * Builds, with the tree API, the Sync response a server sends when a phone first syncs an
 * Inbox (N emails with headers, truncated plain-text previews and a few full bodies, plus
 * opaque Email2 conversation ids), encodes it once, then measures on one core:
 *
 *   zx decode            WBXML -> zx_wb_node tree            (MB/s of WBXML input)
 *   zx encode            tree -> WBXML                       (MB/s of WBXML output)
 *   zx decode + to_xml   WBXML -> tree -> compact XML text   (MB/s of WBXML input)
 *   libwbxml wbxml2xml   WBXML -> compact XML text           (MB/s of WBXML input)
 *
 * libwbxml produces XML text; zx decode produces a tree, so "zx decode + to_xml" is the
 * like-for-like comparison.  Each figure is the best of several timed rounds; every
 * iteration runs in an APR subpool cleared with apr_pool_clear, so memory stays flat.
 *
 *   bench_wbxml [--items N] [--seconds S] [--json] [--dump FILE] [--only NAME]
 */
#include "config.h"

#include <zxsync/wbxml.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_LIBWBXML
#include <wbxml/wbxml.h>
#endif

#define MB 1e6   /* throughput unit: 10^6 bytes per second */

/* ---- deterministic pseudo-random data ----------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint32_t rnd(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32);
}

static unsigned rnd_range(unsigned lo, unsigned hi)   /* inclusive */
{
    return lo + rnd() % (hi - lo + 1);
}

#define PICK(arr) (arr[rnd() % (sizeof(arr) / sizeof(arr[0]))])

static const char *const first_names[] = {
    "Alice", "Bob", "Carol", "David", "Eve", "Frank", "Grace", "Heidi", "Ivan", "Judy",
    "Mallory", "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter",
    "Zoë", "José", "Françoise", "Jürgen", "Søren", "Łukasz", "Ming", "Aiko", "Priya",
};
static const char *const last_names[] = {
    "Smith", "Johnson", "Müller", "García", "Rossi", "Dubois", "Kowalski", "Nakamura",
    "O'Brien", "van der Berg", "Andersson", "Novák", "Silva", "Chen", "Patel", "Ivanova",
};
static const char *const domains[] = {
    "example.com", "example.org", "mail.example.net", "corp.example.co.uk",
    "lists.example.edu", "subsidiary.example.de",
};
static const char *const subject_words[] = {
    "Quarterly", "report", "draft", "meeting", "notes", "budget", "review", "invoice",
    "project", "status", "update", "holiday", "schedule", "contract", "renewal", "server",
    "outage", "postmortem", "lunch", "Friday", "roadmap", "Q3", "hiring", "plan", "feedback",
    "Réunion", "Überprüfung", "presupuesto", "会議", "design", "release", "v2.4", "urgent",
};
static const char *const subject_prefixes[] = {"", "", "", "Re: ", "RE: ", "Fwd: ", "AW: "};
static const char *const body_words[] = {
    "the", "of", "and", "to", "a", "in", "is", "it", "you", "that", "we", "for", "on",
    "this", "with", "please", "find", "attached", "let", "me", "know", "if", "have", "any",
    "questions", "regarding", "schedule", "next", "week", "meeting", "agenda", "items",
    "customer", "feedback", "release", "numbers", "budget", "approved", "pending", "review",
    "thanks", "regards", "deadline", "Thursday", "document", "version", "changes", "server",
    "migration", "completed", "successfully", "café", "naïve", "Größe", "déjà", "vu",
};

/* Plain-text body of about len bytes: sentences, paragraphs, CRLF line ends. */
static char *make_body(apr_pool_t *p, apr_size_t len)
{
    char *s = apr_palloc(p, len + 64);
    apr_size_t n = 0;
    int words_in_sentence = 0, sentences = 0;
    while (n < len) {
        const char *w = PICK(body_words);
        apr_size_t wl = strlen(w);
        memcpy(s + n, w, wl);
        if (words_in_sentence == 0 && w[0] >= 'a' && w[0] <= 'z')
            s[n] = (char)(s[n] - 'a' + 'A');
        n += wl;
        if (++words_in_sentence >= (int)rnd_range(6, 18)) {
            s[n++] = '.';
            words_in_sentence = 0;
            if (++sentences % 4 == 0) {
                memcpy(s + n, "\r\n\r\n", 4);
                n += 4;
                continue;
            }
        }
        else if (rnd() % 11 == 0) {
            s[n++] = ',';
        }
        s[n++] = ' ';
    }
    s[n] = '\0';
    return s;
}

/* Cut a body at a word boundary at most max bytes in (always on a UTF-8 boundary). */
static char *preview(apr_pool_t *p, const char *body, apr_size_t max)
{
    apr_size_t n = strlen(body);
    if (n > max) {
        n = max;
        while (n > 0 && body[n] != ' ')
            n--;
    }
    return apr_pstrmemdup(p, body, n);
}

static const char *person(apr_pool_t *p, int quoted)
{
    const char *fn = PICK(first_names), *ln = PICK(last_names);
    char *local = apr_psprintf(p, "%s.%s", fn, ln);
    for (char *c = local; *c; c++)   /* keep the address ASCII */
        if ((unsigned char)*c >= 0x80 || *c == ' ' || *c == '\'')
            *c = 'x';
        else if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    if (!quoted)
        return apr_psprintf(p, "%s %s", fn, ln);
    return apr_psprintf(p, "\"%s %s\" <%s@%s>", fn, ln, local, PICK(domains));
}

typedef struct {
    apr_size_t full_bodies;
    apr_size_t body_bytes;
} doc_stats;

/* The Sync response: one Inbox collection with n Add commands. */
static zx_wb_node *build_sync(apr_pool_t *p, int n, doc_stats *ds)
{
    zx_wb_node *sync = zx_wb_new(p, ZX_AirSync_Sync);
    zx_wb_node *colls = zx_wb_add(p, sync, ZX_AirSync_Collections);
    zx_wb_node *coll = zx_wb_add(p, colls, ZX_AirSync_Collection);
    zx_wb_add_text(p, coll, ZX_AirSync_SyncKey, "1716392418");
    zx_wb_add_text(p, coll, ZX_AirSync_CollectionId, "5");
    zx_wb_add_text(p, coll, ZX_AirSync_Status, "1");
    zx_wb_node *cmds = zx_wb_add(p, coll, ZX_AirSync_Commands);
    memset(ds, 0, sizeof *ds);

    for (int i = 0; i < n; i++) {
        zx_wb_node *add = zx_wb_add(p, cmds, ZX_AirSync_Add);
        zx_wb_add_textf(p, add, ZX_AirSync_ServerId, "5:%d", 1000 + i);
        zx_wb_node *ad = zx_wb_add(p, add, ZX_AirSync_ApplicationData);

        /* recipients: mostly one, sometimes a few */
        int nto = rnd() % 5 == 0 ? (int)rnd_range(2, 4) : 1;
        const char *to = person(p, 1), *display_to = NULL;
        display_to = person(p, 0);
        for (int k = 1; k < nto; k++) {
            to = apr_pstrcat(p, to, ", ", person(p, 1), NULL);
            display_to = apr_pstrcat(p, display_to, "; ", person(p, 0), NULL);
        }
        zx_wb_add_text(p, ad, ZX_Email_To, to);
        if (rnd() % 4 == 0)
            zx_wb_add_text(p, ad, ZX_Email_Cc, person(p, 1));
        zx_wb_add_text(p, ad, ZX_Email_From, person(p, 1));

        char *topic = apr_pstrdup(p, PICK(subject_words));
        for (unsigned k = rnd_range(1, 8); k > 0; k--)
            topic = apr_pstrcat(p, topic, " ", PICK(subject_words), NULL);
        zx_wb_add_text(p, ad, ZX_Email_Subject,
                       apr_pstrcat(p, PICK(subject_prefixes), topic, NULL));
        zx_wb_add_textf(p, ad, ZX_Email_DateReceived, "2024-%02u-%02uT%02u:%02u:%02u.000Z",
                        rnd_range(1, 12), rnd_range(1, 28), rnd_range(0, 23),
                        rnd_range(0, 59), rnd_range(0, 59));
        zx_wb_add_text(p, ad, ZX_Email_DisplayTo, display_to);
        zx_wb_add_text(p, ad, ZX_Email_ThreadTopic, topic);
        zx_wb_add_textf(p, ad, ZX_Email_Importance, "%u", rnd() % 8 == 0 ? 2u : 1u);
        zx_wb_add_text(p, ad, ZX_Email_Read, rnd() % 3 ? "1" : "0");

        /* body: a ~500-byte truncated preview, or (about 1 in 7) the full 5-20 KB text */
        int full = i % 7 == 3;
        apr_size_t body_len = full ? rnd_range(5000, 20000) : rnd_range(800, 40000);
        char *body = make_body(p, body_len);
        body_len = strlen(body);
        const char *data = full ? body : preview(p, body, rnd_range(400, 600));
        zx_wb_node *b = zx_wb_add(p, ad, ZX_AirSyncBase_Body);
        zx_wb_add_text(p, b, ZX_AirSyncBase_Type, "1");
        zx_wb_add_textf(p, b, ZX_AirSyncBase_EstimatedDataSize, "%lu", (unsigned long)body_len);
        if (!full)
            zx_wb_add_text(p, b, ZX_AirSyncBase_Truncated, "1");
        zx_wb_add_text(p, b, ZX_AirSyncBase_Data, data);
        ds->full_bodies += full;
        ds->body_bytes += strlen(data);

        zx_wb_add_text(p, ad, ZX_Email_MessageClass, "IPM.Note");
        zx_wb_add_text(p, ad, ZX_Email_InternetCPID, "65001");
        zx_wb_node *flag = zx_wb_add(p, ad, ZX_Email_Flag);
        if (rnd() % 6 == 0) {
            zx_wb_add_text(p, flag, ZX_Email_Status, "2");
            zx_wb_add_text(p, flag, ZX_Email_FlagType, "Follow up");
        }
        zx_wb_add_text(p, ad, ZX_Email_ContentClass, "urn:content-classes:message");
        zx_wb_add_text(p, ad, ZX_AirSyncBase_NativeBodyType, "1");
        unsigned char *cid = apr_palloc(p, 16);
        for (int k = 0; k < 16; k++)
            cid[k] = (unsigned char)rnd();
        zx_wb_add_opaque(p, ad, ZX_Email2_ConversationId, cid, 16);
        unsigned char *cix = apr_palloc(p, 22);
        for (int k = 0; k < 22; k++)
            cix[k] = (unsigned char)rnd();
        zx_wb_add_opaque(p, ad, ZX_Email2_ConversationIndex, cix, rnd() % 2 ? 22 : 5);
    }
    return sync;
}

static unsigned long count_nodes(const zx_wb_node *n)
{
    unsigned long c = 1;
    for (const zx_wb_node *k = n->first; k; k = k->next)
        c += count_nodes(k);
    return c;
}

/* ---- timing ---------------------------------------------------------------------------- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct {
    const unsigned char *wb;   /* encoded document */
    apr_size_t wb_len;
    const zx_wb_node *tree;    /* the built tree (encode input) */
    apr_pool_t *iter;          /* cleared before every iteration */
    int failed;
#ifdef HAVE_LIBWBXML
    WBXMLConvWBXML2XML *conv;
#endif
} bench_ctx;

typedef void (*bench_fn)(bench_ctx *c);

static void op_decode(bench_ctx *c)
{
    zx_wb_node *root;
    if (zx_wbxml_decode(c->iter, c->wb, c->wb_len, NULL, &root, NULL) != ZX_WBXML_OK)
        c->failed = 1;
}

static void op_encode(bench_ctx *c)
{
    unsigned char *out;
    apr_size_t len;
    if (zx_wbxml_encode(c->iter, c->tree, &out, &len) != ZX_WBXML_OK)
        c->failed = 1;
}

static void op_decode_xml(bench_ctx *c)
{
    zx_wb_node *root;
    if (zx_wbxml_decode(c->iter, c->wb, c->wb_len, NULL, &root, NULL) != ZX_WBXML_OK ||
        !zx_wbxml_to_xml(c->iter, root, 0))
        c->failed = 1;
}

#ifdef HAVE_LIBWBXML
static void op_libwbxml(bench_ctx *c)
{
    WB_UTINY *xml = NULL;
    WB_ULONG xml_len = 0;
    if (wbxml_conv_wbxml2xml_run(c->conv, (WB_UTINY *)c->wb, (WB_ULONG)c->wb_len, &xml,
                                 &xml_len) != WBXML_OK)
        c->failed = 1;
    free(xml);
}
#endif

typedef struct {
    const char *name;
    const char *key;      /* JSON key */
    const char *basis;    /* what the MB are */
    double mb_s;
    double us_per_doc;
    unsigned long iterations;
    int rounds;
} result;

/* Best of several rounds, `seconds` in all.  bytes = the MB basis per iteration. */
static void measure(bench_ctx *c, bench_fn fn, double seconds, apr_size_t bytes, result *r)
{
    /* warm up and calibrate: how many iterations fill about 1/10 of the time? */
    double t0 = now();
    unsigned long calib = 0;
    do {
        apr_pool_clear(c->iter);
        fn(c);
        calib++;
    } while (now() - t0 < 0.05);
    double per_iter = (now() - t0) / (double)calib;
    int rounds = seconds >= 1.0 ? 10 : 5;
    double round_time = seconds / rounds;
    unsigned long per_round = (unsigned long)(round_time / per_iter);
    if (per_round < 1)
        per_round = 1;

    double best = 1e30;
    unsigned long total = 0;
    double start = now();
    int done = 0;
    while (done < rounds || (now() - start < seconds && done < 100)) {
        double a = now();
        for (unsigned long i = 0; i < per_round; i++) {
            apr_pool_clear(c->iter);
            fn(c);
        }
        double t = (now() - a) / (double)per_round;
        if (t < best)
            best = t;
        total += per_round;
        done++;
        if (done >= rounds && now() - start >= seconds)
            break;
    }
    apr_pool_clear(c->iter);
    r->us_per_doc = best * 1e6;
    r->mb_s = (double)bytes / best / MB;
    r->iterations = total;
    r->rounds = done;
}

/* ---- machine description ---------------------------------------------------------------- */

static char *cpu_model(apr_pool_t *p)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    char *model = NULL;
    if (!f)
        return "unknown";
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *colon = strchr(line, ':');
            if (colon) {
                colon++;
                while (*colon == ' ' || *colon == '\t')
                    colon++;
                colon[strcspn(colon, "\n")] = '\0';
                model = apr_pstrdup(p, colon);
                break;
            }
        }
    }
    fclose(f);
    return model ? model : "unknown";
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", (unsigned char)*s);
        else
            putchar(*s);
    }
    putchar('"');
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_wbxml [--items N] [--seconds S] [--json] [--dump FILE] [--only NAME]\n"
               "  --items N     emails in the Sync response (default 100)\n"
               "  --seconds S   time per measurement, best of several rounds (default 3)\n"
               "  --json        machine-readable output\n"
               "  --dump FILE   also write the encoded WBXML document to FILE\n"
               "  --only NAME   run one measurement (for profiling): zx_decode, zx_encode,\n"
               "                zx_decode_to_xml or libwbxml_wbxml2xml\n");
}

int main(int argc, const char *const *argv)
{
    int items = 100, json = 0;
    double seconds = 3.0;
    const char *dump = NULL, *only = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            json = 1;
        }
        else if ((strcmp(a, "--items") == 0 || strcmp(a, "--seconds") == 0 ||
                  strcmp(a, "--dump") == 0 || strcmp(a, "--only") == 0) && i + 1 < argc) {
            const char *v = argv[++i];
            char *end;
            errno = 0;
            if (strcmp(a, "--dump") == 0) {
                dump = v;
                continue;
            }
            if (strcmp(a, "--only") == 0) {
                only = v;
                continue;
            }
            if (strcmp(a, "--items") == 0) {
                long n = strtol(v, &end, 10);
                if (errno || *end || n < 1 || n > 1000000) {
                    fprintf(stderr, "bench_wbxml: bad --items %s\n", v);
                    return 1;
                }
                items = (int)n;
            }
            else {
                seconds = strtod(v, &end);
                if (errno || *end || !(seconds > 0.0) || seconds > 3600) {
                    fprintf(stderr, "bench_wbxml: bad --seconds %s\n", v);
                    return 1;
                }
            }
        }
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        else {
            usage(stderr);
            return 1;
        }
    }

    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_t *pool;
    apr_pool_create(&pool, NULL);

    /* Stay on the CPU we start on: one core, no migrations. */
    int cpu = sched_getcpu();
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0)
            cpu = -1;
    }

    doc_stats ds;
    zx_wb_node *tree = build_sync(pool, items, &ds);
    unsigned char *wb;
    apr_size_t wb_len;
    if (zx_wbxml_encode(pool, tree, &wb, &wb_len) != ZX_WBXML_OK) {
        fprintf(stderr, "bench_wbxml: encoding the test document failed\n");
        return 1;
    }
    if (dump) {
        FILE *f = fopen(dump, "wb");
        if (!f || fwrite(wb, 1, wb_len, f) != wb_len || fclose(f) != 0) {
            fprintf(stderr, "bench_wbxml: cannot write %s\n", dump);
            return 1;
        }
    }

    bench_ctx c = {.wb = wb, .wb_len = wb_len, .tree = tree};
    apr_pool_create(&c.iter, pool);

    /* sanity: our own round trip, and the XML size for the report */
    zx_wb_node *root;
    apr_size_t err_off = 0;
    zx_wbxml_status st = zx_wbxml_decode(c.iter, wb, wb_len, NULL, &root, &err_off);
    if (st != ZX_WBXML_OK) {
        fprintf(stderr, "bench_wbxml: decode failed: %s at %lu\n", zx_wbxml_strerror(st),
                (unsigned long)err_off);
        return 1;
    }
    apr_size_t zx_xml_len = strlen(zx_wbxml_to_xml(c.iter, root, 0));
    unsigned long nodes = count_nodes(root);
    apr_pool_clear(c.iter);

    /* libwbxml: convert once and check it accepts our bytes */
    const char *libwbxml_status = "not built with libwbxml (HAVE_LIBWBXML undefined)";
    const char *libwbxml_version = "";
    unsigned long libwbxml_xml_len = 0;
#ifdef HAVE_LIBWBXML
    int have_libwbxml = 0;
    libwbxml_version = WBXML_LIB_VERSION;
    if (wbxml_conv_wbxml2xml_create(&c.conv) != WBXML_OK) {
        libwbxml_status = "wbxml_conv_wbxml2xml_create failed";
    }
    else {
        wbxml_conv_wbxml2xml_set_language(c.conv, WBXML_LANG_ACTIVESYNC);
        wbxml_conv_wbxml2xml_set_charset(c.conv, WBXML_CHARSET_UTF_8);
        wbxml_conv_wbxml2xml_set_gen_type(c.conv, WBXML_GEN_XML_COMPACT);
        WB_UTINY *xml = NULL;
        WB_ULONG xml_len = 0;
        WBXMLError we = wbxml_conv_wbxml2xml_run(c.conv, (WB_UTINY *)wb, (WB_ULONG)wb_len,
                                                 &xml, &xml_len);
        if (we != WBXML_OK) {
            libwbxml_status = apr_psprintf(pool, "libwbxml cannot decode our bytes: %s",
                                           (const char *)wbxml_errors_string(we));
        }
        else {
            have_libwbxml = 1;
            libwbxml_xml_len = xml_len;
            libwbxml_status = "ok: decodes our bytes without error";
        }
        free(xml);
    }
#endif

    result res[4] = {
        {"zx decode (WBXML -> tree)", "zx_decode", "WBXML in", 0, 0, 0, 0},
        {"zx encode (tree -> WBXML)", "zx_encode", "WBXML out", 0, 0, 0, 0},
        {"zx decode + to_xml (compact)", "zx_decode_to_xml", "WBXML in", 0, 0, 0, 0},
        {"libwbxml wbxml2xml (compact)", "libwbxml_wbxml2xml", "WBXML in", 0, 0, 0, 0},
    };
    bench_fn fns[4] = {op_decode, op_encode, op_decode_xml, NULL};
#ifdef HAVE_LIBWBXML
    if (have_libwbxml)
        fns[3] = op_libwbxml;
#endif
    /* run the selected measurements, keeping them first in res[] */
    int nres = 0, known = only == NULL;
    for (int i = 0; i < 4; i++) {
        if (only && strcmp(only, res[i].key) != 0)
            continue;
        known = 1;
        if (!fns[i])
            continue;
        result r = res[i];
        measure(&c, fns[i], seconds, wb_len, &r);
        res[nres++] = r;
    }
    if (!known) {
        fprintf(stderr, "bench_wbxml: unknown measurement %s\n", only);
        return 1;
    }
    if (nres == 0) {
        fprintf(stderr, "bench_wbxml: %s not available: %s\n", only, libwbxml_status);
        return 1;
    }
#ifdef HAVE_LIBWBXML
    if (c.conv)
        wbxml_conv_wbxml2xml_destroy(c.conv);
#endif
    if (c.failed) {
        fprintf(stderr, "bench_wbxml: an operation failed during the measurements\n");
        return 1;
    }

    long nproc = sysconf(_SC_NPROCESSORS_ONLN);
    const char *model = cpu_model(pool);

    if (json) {
        printf("{\n  \"machine\": {\"cpu\": ");
        json_str(model);
        printf(", \"nproc\": %ld, \"pinned_cpu\": %d},\n", nproc, cpu);
        printf("  \"document\": {\"items\": %d, \"full_bodies\": %lu, \"wbxml_bytes\": %lu, "
               "\"nodes\": %lu, \"body_text_bytes\": %lu, \"zx_xml_bytes\": %lu, "
               "\"libwbxml_xml_bytes\": %lu},\n",
               items, (unsigned long)ds.full_bodies, (unsigned long)wb_len, nodes,
               (unsigned long)ds.body_bytes, (unsigned long)zx_xml_len, libwbxml_xml_len);
        printf("  \"seconds_per_measurement\": %g,\n  \"libwbxml\": {\"version\": ", seconds);
        json_str(libwbxml_version);
        printf(", \"status\": ");
        json_str(libwbxml_status);
        printf("},\n  \"results\": {\n");
        for (int i = 0; i < nres; i++)
            printf("    \"%s\": {\"mb_per_s\": %.1f, \"us_per_doc\": %.1f, \"basis\": \"%s\", "
                   "\"iterations\": %lu, \"rounds\": %d}%s\n",
                   res[i].key, res[i].mb_s, res[i].us_per_doc, res[i].basis,
                   res[i].iterations, res[i].rounds, i + 1 < nres ? "," : "");
        printf("  }\n}\n");
    }
    else {
        printf("bench_wbxml: libzxsync WBXML codec, one core\n");
        printf("machine:   %s, nproc %ld, pinned to cpu %d\n", model, nproc, cpu);
        printf("document:  Sync response, %d emails (%lu full bodies), %lu bytes WBXML, "
               "%lu nodes, %lu bytes of body text\n",
               items, (unsigned long)ds.full_bodies, (unsigned long)wb_len, nodes,
               (unsigned long)ds.body_bytes);
        printf("libwbxml:  %s%s%s\n", libwbxml_version, *libwbxml_version ? ", " : "",
               libwbxml_status);
        printf("timing:    best of >= %d rounds, %.3g s per measurement, MB = 10^6 bytes\n\n",
               res[0].rounds, seconds);
        printf("%-32s %10s %12s  %s\n", "measurement", "MB/s", "us/doc", "MB counted");
        for (int i = 0; i < nres; i++)
            printf("%-32s %10.1f %12.1f  %s\n", res[i].name, res[i].mb_s, res[i].us_per_doc,
                   res[i].basis);
        if (libwbxml_xml_len)
            printf("\nzx decode builds a tree (text points into the input, no XML text); libwbxml\n"
                   "produces XML text (%lu bytes here), so compare it with zx decode + to_xml\n"
                   "(%lu bytes of XML).\n",
                   libwbxml_xml_len, (unsigned long)zx_xml_len);
        else
            printf("\nzx decode builds a tree (text points into the input, no XML text);\n"
                   "zx decode + to_xml also writes the XML text (%lu bytes).\n",
                   (unsigned long)zx_xml_len);
    }
    apr_pool_destroy(pool);
    apr_terminate();
    return 0;
}
