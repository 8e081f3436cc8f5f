/*
 * Replay driver: runs LLVMFuzzerTestOneInput() once per input file, so every fuzz target doubles
 * as a regression test in builds without libFuzzer (gcc, -DHOPSCOPE_FUZZ=OFF).
 *   replay_<target> FILE|DIR...
 * A directory stands for every regular file directly inside it, in name order (which matters
 * only for fuzz_decode, whose decoder keeps state from one input to the next). Each input is
 * copied into a buffer of exactly its size, so an ASan build (-DHOPSCOPE_SANITIZE=ON) catches
 * reads past its end. Exits 0 when every input ran (a crash or failed check aborts), 1 when an
 * argument could not be read or no input was found.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static unsigned long n_inputs;

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t k = fread(buf + len, 1, cap - len, f);
        len += k;
        if (k == 0)
            break;
    }
    int bad = !buf || ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "replay: %s: read failed\n", path);
        free(buf);
        return -1;
    }
    /* Exact-size copy: an over-read of the input is an ASan report, not a silent read of slack. */
    uint8_t *in = malloc(len ? len : 1);
    if (!in) {
        free(buf);
        return -1;
    }
    memcpy(in, buf, len);
    free(buf);
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    LLVMFuzzerTestOneInput(in, len);
    free(in);
    n_inputs++;
    return 0;
}

static int run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path);
    struct dirent **ents;
    int n = scandir(path, &ents, NULL, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        size_t need = strlen(path) + 1 + strlen(name) + 1;
        char *full = malloc(need);
        if (full) {
            snprintf(full, need, "%s/%s", path, name);
            if (name[0] != '.' && stat(full, &st) == 0 && S_ISREG(st.st_mode) && run_file(full) != 0)
                rc = -1;
        } else {
            rc = -1;
        }
        free(full);
        free(ents[i]);
    }
    free(ents);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++)
        if (run_path(argv[i]) != 0)
            rc = 1;
    if (n_inputs == 0) {
        fprintf(stderr, "replay: no inputs found\n");
        rc = 1;
    }
    fprintf(stderr, "replay: %lu inputs, %s\n", n_inputs, rc ? "with errors" : "all passed");
    return rc;
}
