/* check.h - a tiny assertion harness for the C tests: every failed check is reported with its
 * line, the code it returned (by name) and the library's last error message; the program exits
 * non-zero if any check failed. */
#ifndef ODP_TEST_CHECK_H
#define ODP_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "odp.h"

static int check_failures = 0;
static int check_count = 0;

static const char *last_error(void) {
    static char buf[1024];
    odp_last_error_message(buf, sizeof buf);
    return buf;
}

/* EXPECT_RC(call, code): `call` returns `code`. */
#define EXPECT_RC(call, code)                                                                  \
    do {                                                                                       \
        int rc_ = (call);                                                                      \
        check_count++;                                                                         \
        if (rc_ != (code)) {                                                                   \
            check_failures++;                                                                  \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s (%s)\n", __FILE__, __LINE__,    \
                    #call, odp_result_name(rc_), odp_result_name(code), last_error());         \
        }                                                                                      \
    } while (0)

/* EXPECT_ERROR(call, code, text): `call` returns `code` and the last error contains `text`. */
#define EXPECT_ERROR(call, code, text)                                                         \
    do {                                                                                       \
        EXPECT_RC(call, code);                                                                 \
        check_count++;                                                                         \
        if (strstr(last_error(), (text)) == NULL) {                                            \
            check_failures++;                                                                  \
            fprintf(stderr, "%s:%d: last error \"%s\" does not contain \"%s\"\n", __FILE__,     \
                    __LINE__, last_error(), (text));                                           \
        }                                                                                      \
    } while (0)

#define EXPECT(cond)                                                                           \
    do {                                                                                       \
        check_count++;                                                                         \
        if (!(cond)) {                                                                         \
            check_failures++;                                                                  \
            fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);                 \
        }                                                                                      \
    } while (0)

static const char *collector_url(void) {
    const char *url = getenv("ODP_COLLECTOR_URL");
    if (url == NULL) {
        fprintf(stderr, "ODP_COLLECTOR_URL is not set (run through tests/c/run.sh)\n");
        exit(2);
    }
    return url;
}

/* Lines in the collector's events file (one accepted event per line). */
static long collector_event_lines(void) {
    const char *path = getenv("ODP_COLLECTOR_EVENTS");
    FILE *f = path ? fopen(path, "r") : NULL;
    long lines = 0;
    int c;
    if (f == NULL) return -1;
    while ((c = fgetc(f)) != EOF) {
        if (c == '\n') lines++;
    }
    fclose(f);
    return lines;
}

static int check_summary(const char *name) {
    if (check_failures == 0) {
        printf("%s: %d checks passed\n", name, check_count);
        return 0;
    }
    fprintf(stderr, "%s: %d of %d checks FAILED\n", name, check_failures, check_count);
    return 1;
}

#endif
