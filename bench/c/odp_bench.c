/* odp_bench.c - the C side of `make bench`. Prints one JSON object per run on stdout.
 *
 *   odp_bench enqueue THREADS CALLS_PER_THREAD URL   ns per odp_send_event (p50/p99/max), with
 *                                                    the dispatcher delivering in the background
 *   odp_bench throughput EVENTS BATCH URL            events/s delivered, first send to flushed
 *   odp_bench memory EVENTS URL                      RSS of an idle client; bytes per queued event
 *                                                    (URL should refuse connections: nothing is sent)
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "odp.h"

static const char *IDS = "{\"fs_user_id\":\"user123\",\"email\":\"user123@example.com\"}";
static const char *DATA = "{\"item\":\"shirt\",\"price\":50.0}";

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static OdpClient *make_client(const char *url, const char *extra) {
    char config[1024];
    OdpClient *client = NULL;
    const char *more = getenv("ODP_BENCH_CONFIG"); /* extra keys, e.g. ,"max_concurrent_requests":1 */
    snprintf(config, sizeof config, "{\"odp_api_key\":\"bench-key\",\"odp_api_host\":\"%s\"%s%s}", url, extra, more ? more : "");
    if (odp_client_new(config, &client) != ODP_OK) {
        char msg[512];
        odp_last_error_message(msg, sizeof msg);
        fprintf(stderr, "odp_client_new: %s\n", msg);
        exit(1);
    }
    return client;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    OdpClient *client;
    long calls;
    uint64_t *samples;
    long refused;
} enqueue_job;

static void *enqueue_worker(void *arg) {
    enqueue_job *job = arg;
    long i;
    for (i = 0; i < job->calls; i++) {
        uint64_t t0 = now_ns();
        int rc = odp_send_event(job->client, "fullstack", "purchased", IDS, DATA);
        job->samples[i] = now_ns() - t0;
        if (rc != ODP_OK) job->refused++;
    }
    return NULL;
}

static int enqueue(int threads, long calls, const char *url) {
    OdpClient *client = make_client(url, ",\"queue_capacity\":10000000");
    pthread_t tid[64];
    enqueue_job jobs[64];
    uint64_t *all = malloc(sizeof(uint64_t) * (size_t)(threads * calls));
    long i, n = 0, refused = 0;
    int t;
    double sum = 0;
    for (t = 0; t < threads; t++) {
        jobs[t].client = client;
        jobs[t].calls = calls;
        jobs[t].samples = all + (size_t)t * (size_t)calls;
        jobs[t].refused = 0;
        pthread_create(&tid[t], NULL, enqueue_worker, &jobs[t]);
    }
    for (t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        refused += jobs[t].refused;
    }
    n = threads * calls;
    for (i = 0; i < n; i++) sum += (double)all[i];
    qsort(all, (size_t)n, sizeof(uint64_t), cmp_u64);
    printf("{\"threads\":%d,\"calls\":%ld,\"refused\":%ld,\"p50_ns\":%llu,\"p99_ns\":%llu,\"max_ns\":%llu,\"mean_ns\":%.1f}\n",
           threads, n, refused, (unsigned long long)all[n / 2], (unsigned long long)all[(n * 99) / 100],
           (unsigned long long)all[n - 1], sum / (double)n);
    odp_client_close(client, 60000);
    odp_client_free(client);
    free(all);
    return refused == 0 ? 0 : 1;
}

static int throughput(long events, int batch, const char *url) {
    char extra[256];
    OdpClient *client;
    OdpStats s;
    long i, full = 0;
    uint64_t t0, t1;
    snprintf(extra, sizeof extra, ",\"batch_size\":%d,\"queue_capacity\":%ld", batch, events);
    client = make_client(url, extra);
    t0 = now_ns();
    for (i = 0; i < events;) {
        int rc = odp_send_event(client, "fullstack", "purchased", IDS, DATA);
        if (rc == ODP_OK) {
            i++;
        } else if (rc == ODP_ERR_QUEUE_FULL) {
            full++; /* back-pressure: let the dispatcher catch up */
            sched_yield();
        } else {
            fprintf(stderr, "send failed: %s\n", odp_result_name(rc));
            return 1;
        }
    }
    if (odp_client_flush(client, 600000) != ODP_OK) {
        fprintf(stderr, "flush timed out\n");
        return 1;
    }
    t1 = now_ns();
    odp_client_stats(client, &s);
    printf("{\"events\":%ld,\"batch_size\":%d,\"seconds\":%.4f,\"events_per_s\":%.0f,\"delivered\":%llu,"
           "\"batches_sent\":%llu,\"queue_full_retries\":%ld}\n",
           events, batch, (double)(t1 - t0) / 1e9, (double)events / ((double)(t1 - t0) / 1e9),
           (unsigned long long)s.delivered, (unsigned long long)s.batches_sent, full);
    odp_client_close(client, 10000);
    odp_client_free(client);
    return s.delivered == (uint64_t)events ? 0 : 1;
}

static long rss_bytes(void) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL || fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = -1;
    if (f) fclose(f);
    return resident * 4096;
}

static int memory(long events, const char *url) {
    long base, idle, loaded, i;
    OdpClient *client;
    /* Warm the allocator and the library's one-time state, then measure one more client. */
    odp_client_free(make_client(url, ""));
    base = rss_bytes();
    client = make_client(url, ",\"queue_capacity\":1000000,\"flush_interval_ms\":3600000,\"batch_size\":1000");
    idle = rss_bytes();
    for (i = 0; i < events; i++) {
        if (odp_send_event(client, "fullstack", "purchased", IDS, DATA) != ODP_OK) return 1;
    }
    loaded = rss_bytes();
    printf("{\"idle_client_rss_bytes\":%ld,\"idle_client_delta_bytes\":%ld,\"events\":%ld,\"bytes_per_queued_event\":%.1f}\n",
           idle, idle - base, events, (double)(loaded - idle) / (double)events);
    odp_client_close(client, 0);
    odp_client_free(client);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 5 && strcmp(argv[1], "enqueue") == 0) return enqueue(atoi(argv[2]), atol(argv[3]), argv[4]);
    if (argc == 5 && strcmp(argv[1], "throughput") == 0) return throughput(atol(argv[2]), atoi(argv[3]), argv[4]);
    if (argc == 4 && strcmp(argv[1], "memory") == 0) return memory(atol(argv[2]), argv[3]);
    fprintf(stderr, "usage: odp_bench enqueue THREADS CALLS URL | throughput EVENTS BATCH URL | memory EVENTS URL\n");
    return 2;
}
