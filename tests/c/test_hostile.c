/* test_hostile.c - every function before any client exists, after close, after free, with NULL,
 * forged and stale handles, and a free racing with senders: always a result code, never a crash.
 * Run under valgrind by `make test` and under AddressSanitizer by `make test-sanitize`. */
#include <pthread.h>
#include <stdint.h>

#include "check.h"

static const char *IDS = "{\"fs_user_id\":\"user123\"}";

static void every_call_fails(OdpClient *client, int code) {
    OdpStats stats;
    EXPECT_RC(odp_send_event(client, NULL, "a", IDS, NULL), code);
    EXPECT_RC(odp_client_wait_ready(client, 0), code);
    EXPECT_RC(odp_client_flush(client, 0), code);
    EXPECT_RC(odp_client_close(client, 0), code);
    EXPECT_RC(odp_client_update_datafile(client, "{\"version\":\"4\"}"), code);
    EXPECT_RC(odp_client_stats(client, &stats), code);
}

static void before_any_client(void) {
    int code;
    EXPECT(odp_last_error_message(NULL, 0) == 0);
    every_call_fails((OdpClient *)(uintptr_t)0x1, ODP_ERR_INVALID_HANDLE);
    every_call_fails((OdpClient *)(uintptr_t)UINTPTR_MAX, ODP_ERR_INVALID_HANDLE);
    every_call_fails(NULL, ODP_ERR_INVALID_ARGUMENT);
    EXPECT_RC(odp_client_free((OdpClient *)(uintptr_t)0xdeadbeef), ODP_ERR_INVALID_HANDLE);
    EXPECT_RC(odp_client_free(NULL), ODP_OK);
    EXPECT_RC(odp_set_logger(ODP_LOG_WARN, NULL, NULL), ODP_OK);
    for (code = -2; code < 20; code++) {
        EXPECT(odp_result_name(code) != NULL && odp_result_message(code) != NULL);
    }
}

static void after_close_and_free(void) {
    OdpClient *client = NULL;
    char config[512];
    OdpStats stats;
    snprintf(config, sizeof config, "{\"odp_api_key\":\"k\",\"odp_api_host\":\"%s\"}", collector_url());
    EXPECT_RC(odp_client_new(config, &client), ODP_OK);
    EXPECT_RC(odp_client_close(client, 1000), ODP_OK);
    EXPECT_RC(odp_send_event(client, NULL, "a", IDS, NULL), ODP_ERR_CLOSED);
    EXPECT_RC(odp_client_wait_ready(client, 0), ODP_ERR_CLOSED);
    EXPECT_RC(odp_client_flush(client, 0), ODP_ERR_CLOSED);
    EXPECT_RC(odp_client_close(client, 0), ODP_OK);
    EXPECT_RC(odp_client_stats(client, &stats), ODP_OK);
    EXPECT_RC(odp_client_free(client), ODP_OK);
    every_call_fails(client, ODP_ERR_INVALID_HANDLE);
    EXPECT_RC(odp_client_free(client), ODP_ERR_INVALID_HANDLE);
}

static OdpClient *shared_client;
static long sent_ok[4];

static void *send_until_freed(void *arg) {
    long t = (long)(size_t)arg;
    char action[32];
    long i;
    for (i = 0;; i++) {
        int rc;
        snprintf(action, sizeof action, "t%ld-%ld", t, i);
        rc = odp_send_event(shared_client, NULL, action, IDS, NULL);
        if (rc == ODP_OK) {
            sent_ok[t]++;
        } else if (rc == ODP_ERR_INVALID_HANDLE || rc == ODP_ERR_CLOSED) {
            return NULL;
        } else {
            fprintf(stderr, "unexpected %s\n", odp_result_name(rc));
            return (void *)1;
        }
    }
}

static void *free_it(void *arg) {
    return (void *)(size_t)odp_client_free((OdpClient *)arg);
}

static void free_races_with_senders(void) {
    char config[512];
    pthread_t senders[4], freers[2];
    void *result;
    long total = 0, i;
    int ok_frees = 0, invalid_frees = 0;
    snprintf(config, sizeof config,
             "{\"odp_api_key\":\"k\",\"odp_api_host\":\"%s\",\"queue_capacity\":1000000,"
             "\"batch_size\":100,\"shutdown_timeout_ms\":60000}",
             collector_url());
    EXPECT_RC(odp_client_new(config, &shared_client), ODP_OK);
    for (i = 0; i < 4; i++) pthread_create(&senders[i], NULL, send_until_freed, (void *)(size_t)i);
    while (sent_ok[0] < 200) sched_yield();
    /* Two frees at once: exactly one frees (and drains), the other finds the handle gone. */
    for (i = 0; i < 2; i++) pthread_create(&freers[i], NULL, free_it, shared_client);
    for (i = 0; i < 2; i++) {
        pthread_join(freers[i], &result);
        if ((int)(size_t)result == ODP_OK) ok_frees++;
        if ((int)(size_t)result == ODP_ERR_INVALID_HANDLE) invalid_frees++;
    }
    for (i = 0; i < 4; i++) {
        pthread_join(senders[i], &result);
        EXPECT(result == NULL);
        total += sent_ok[i];
    }
    EXPECT(ok_frees == 1 && invalid_frees == 1);
    /* Every accepted event was delivered by the free's drain: exactly these reached the wire. */
    EXPECT(collector_event_lines() == total);
}

int main(void) {
    before_any_client();
    after_close_and_free();
    free_races_with_senders();
    return check_summary("test_hostile");
}
