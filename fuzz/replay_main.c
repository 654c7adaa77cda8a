/* Replays fuzz corpus files through LLVMFuzzerTestOneInput (no libFuzzer needed), printing
 * TAP: one test per file.  Usage: fuzz_wbxml_replay FILE|DIR... */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count;

static void run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("not ok %d - %s: cannot open\n", ++count, path);
        return;
    }
    size_t cap = 4096, n = 0, r;
    uint8_t *buf = malloc(cap);
    while ((r = fread(buf + n, 1, cap - n, f)) > 0)
        if ((n += r) == cap)
            buf = realloc(buf, cap *= 2);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);   /* aborts (test fails) on a violated invariant */
    free(buf);
    printf("ok %d - %s\n", ++count, path);
}

static void run(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        struct dirent **names;
        int n = scandir(path, &names, NULL, alphasort);
        for (int i = 0; i < n; i++) {
            if (names[i]->d_name[0] != '.') {
                char full[4096];
                snprintf(full, sizeof full, "%s/%s", path, names[i]->d_name);
                run(full);
            }
            free(names[i]);
        }
        free(names);
    }
    else {
        run_file(path);
    }
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        run(argv[i]);
    printf("1..%d\n", count);
    return count ? 0 : 1;
}
