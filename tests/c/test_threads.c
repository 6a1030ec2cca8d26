/* test_threads.c - 8 threads send on one client while another flushes and reads stats; the
 * books must balance at every observation and every event must reach the collector once. */
#include <pthread.h>

#include "check.h"

#define THREADS 8
/* 1,000 sends per thread under valgrind (slow); run.sh asks 10,000 under the sanitizers. */
static long per_thread = 1000;

static OdpClient *client;
static volatile int sending_done = 0;
static int thread_failures[THREADS];

static void *sender(void *arg) {
    int t = (int)(size_t)arg;
    int i;
    char action[32];
    for (i = 0; i < per_thread; i++) {
        snprintf(action, sizeof action, "t%d-%d", t, i);
        if (odp_send_event(client, NULL, action, "{\"fs_user_id\":\"user123\"}", "{\"i\":1}") != ODP_OK) {
            thread_failures[t]++;
        }
    }
    return NULL;
}

static void *observer(void *arg) {
    OdpStats s;
    long *unbalanced = (long *)arg;
    while (!sending_done) {
        if (odp_client_stats(client, &s) == ODP_OK &&
            s.accepted != s.delivered + s.dropped_rejected + s.dropped_shutdown + s.pending) {
            (*unbalanced)++;
        }
        odp_client_flush(client, 50);
    }
    return NULL;
}

int main(void) {
    pthread_t threads[THREADS], watch;
    char config[512];
    long unbalanced = 0;
    int t;
    OdpStats s;

    if (getenv("ODP_TEST_PER_THREAD") != NULL) per_thread = atol(getenv("ODP_TEST_PER_THREAD"));
    snprintf(config, sizeof config,
             "{\"odp_api_key\":\"k\",\"odp_api_host\":\"%s\",\"batch_size\":100,\"flush_interval_ms\":10,"
             "\"queue_capacity\":100000}",
             collector_url());
    EXPECT_RC(odp_client_new(config, &client), ODP_OK);
    EXPECT(pthread_create(&watch, NULL, observer, &unbalanced) == 0);
    for (t = 0; t < THREADS; t++) EXPECT(pthread_create(&threads[t], NULL, sender, (void *)(size_t)t) == 0);
    for (t = 0; t < THREADS; t++) pthread_join(threads[t], NULL);
    sending_done = 1;
    pthread_join(watch, NULL);

    EXPECT_RC(odp_client_close(client, 30000), ODP_OK);
    EXPECT_RC(odp_client_stats(client, &s), ODP_OK);
    for (t = 0; t < THREADS; t++) EXPECT(thread_failures[t] == 0);
    EXPECT(unbalanced == 0);
    EXPECT(s.accepted == (uint64_t)(THREADS * per_thread));
    EXPECT(s.delivered == (uint64_t)(THREADS * per_thread));
    EXPECT(s.pending == 0 && s.dropped_rejected == 0 && s.dropped_shutdown == 0);
    EXPECT(collector_event_lines() == THREADS * per_thread);
    EXPECT_RC(odp_client_free(client), ODP_OK);
    return check_summary("test_threads");
}
