/* Interleaved pairs: runs each variant once per round, in an order that rotates every round,
 * and prints per variant the median wall time of one run and the median of its per-round
 * difference to the first variant (the direct exec), in milliseconds.
 *
 *   driver [-raw] ROUNDS NAME [K=V...] PROGRAM [ARG...] ';;' NAME ...
 *
 * K=V words before PROGRAM are added to the driver's environment for that variant, as env(1)
 * does; a word @cwd=DIR runs it in DIR. Each run is posix_spawn + waitpid; a run that does
 * not exit 0 aborts the measurement. With -raw first it prints every round instead (name,
 * wall time, difference to the direct exec), and `driver -merge` reads such lines of several
 * runs on stdin and prints the medians per name, as a run does. */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

struct variant { const char *name; char **argv; char **envp; const char *cwd; double *ms; double *diff; };

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* driver -merge: the medians of -raw lines read on stdin, per name in order of appearance. */
static int merge(void) {
    struct { char name[64]; double *ms, *diff; int n, cap; } g[16];
    int ng = 0;
    char line[256], name[64];
    double ms, diff;
    while (fgets(line, sizeof line, stdin)) {
        if (sscanf(line, "%63[^\t]\t%lf\t%lf", name, &ms, &diff) != 3) { fprintf(stderr, "driver -merge: bad line: %s", line); return 2; }
        int k = 0;
        while (k < ng && strcmp(g[k].name, name)) k++;
        if (k == ng) {
            if (ng == 16) { fprintf(stderr, "driver -merge: more than 16 names\n"); return 2; }
            strcpy(g[k].name, name);
            g[k].ms = g[k].diff = NULL;
            g[k].n = g[k].cap = 0;
            ng++;
        }
        if (g[k].n == g[k].cap) {
            g[k].cap = g[k].cap ? 2 * g[k].cap : 1024;
            g[k].ms = realloc(g[k].ms, g[k].cap * sizeof(double));
            g[k].diff = realloc(g[k].diff, g[k].cap * sizeof(double));
            if (!g[k].ms || !g[k].diff) { perror("driver -merge"); return 1; }
        }
        g[k].ms[g[k].n] = ms;
        g[k].diff[g[k].n++] = diff;
    }
    for (int k = 0; k < ng; k++) {
        double d = median(g[k].diff, g[k].n);
        printf("%s\t%.3f\t%+.3f\n", g[k].name, median(g[k].ms, g[k].n), d);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 2 && !strcmp(argv[1], "-merge")) return merge();
    int raw = argc > 1 && !strcmp(argv[1], "-raw");
    if (raw) { argv++; argc--; }
    if (argc < 4) { fprintf(stderr, "usage: driver [-raw] ROUNDS NAME [K=V...] PROG [ARG...] ';;' ...\n"); return 2; }
    int rounds = atoi(argv[1]);
    struct variant vs[16];
    int nv = 0, nenv = 0;
    while (environ[nenv]) nenv++;
    for (int i = 2; i < argc && nv < 16;) {
        struct variant *v = &vs[nv++];
        v->name = argv[i++];
        v->envp = calloc(nenv + argc, sizeof(char *));
        int e = 0;
        v->cwd = NULL;
        for (; i < argc && strchr(argv[i], '=') && argv[i][0] != '/'; i++) {
            if (!strncmp(argv[i], "@cwd=", 5)) v->cwd = argv[i] + 5;
            else v->envp[e++] = argv[i];
        }
        memcpy(v->envp + e, environ, nenv * sizeof(char *));
        v->argv = &argv[i];
        while (i < argc && strcmp(argv[i], ";;")) i++;
        if (i < argc) argv[i++] = NULL;
        v->ms = calloc(rounds, sizeof(double));
        v->diff = calloc(rounds, sizeof(double));
    }
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < nv; k++) {
            struct variant *v = &vs[(k + r) % nv];
            pid_t pid;
            int status;
            posix_spawn_file_actions_t fa;
            posix_spawn_file_actions_init(&fa);
            if (v->cwd) posix_spawn_file_actions_addchdir_np(&fa, v->cwd);
            double t0 = now_ms();
            if (posix_spawn(&pid, v->argv[0], &fa, NULL, v->argv, v->envp)) { perror(v->argv[0]); return 1; }
            posix_spawn_file_actions_destroy(&fa);
            if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
                fprintf(stderr, "driver: %s did not exit 0 (status %d)\n", v->name, status);
                return 1;
            }
            v->ms[r] = now_ms() - t0;
        }
        for (int k = 0; k < nv; k++) vs[k].diff[r] = vs[k].ms[r] - vs[0].ms[r];
    }
    if (raw) {
        for (int k = 0; k < nv; k++)
            for (int r = 0; r < rounds; r++) printf("%s\t%.4f\t%+.4f\n", vs[k].name, vs[k].ms[r], vs[k].diff[r]);
        return 0;
    }
    for (int k = 0; k < nv; k++) {
        double d = median(vs[k].diff, rounds);
        printf("%s\t%.3f\t%+.3f\n", vs[k].name, median(vs[k].ms, rounds), d);
    }
    return 0;
}
