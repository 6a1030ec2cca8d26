/* test_api.c - the C API against hostile and ordinary use: NULL for every pointer, bad UTF-8 and
 * JSON, stale, double-freed and forged handles, every result code a C caller can reach, the
 * last-error buffer, the logger. Run under valgrind by `make test`. */
#include <stdint.h>

#include "check.h"

static char config_buf[1024];

static const char *direct_config(const char *extra) {
    snprintf(config_buf, sizeof config_buf,
             "{\"odp_api_key\":\"test-public-key\",\"odp_api_host\":\"%s\"%s}", collector_url(), extra);
    return config_buf;
}

static OdpClient *new_client(const char *config) {
    OdpClient *client = NULL;
    EXPECT_RC(odp_client_new(config, &client), ODP_OK);
    return client;
}

static const char *IDS = "{\"fs_user_id\":\"user123\",\"email\":\"user123@example.com\"}";
static const char *DATA = "{\"item\":\"shirt\",\"price\":50.0}";

static void test_static_strings(void) {
    EXPECT(strcmp(odp_version(), ODP_VERSION) == 0);
    EXPECT(odp_abi_version() == ODP_ABI_VERSION);
    EXPECT(strcmp(odp_result_name(ODP_OK), "ODP_OK") == 0);
    EXPECT(strcmp(odp_result_name(ODP_ERR_QUEUE_FULL), "ODP_ERR_QUEUE_FULL") == 0);
    EXPECT(strcmp(odp_result_name(-1), "ODP_ERR_UNKNOWN") == 0);
    EXPECT(strcmp(odp_result_name(1000), "ODP_ERR_UNKNOWN") == 0);
    EXPECT(strcmp(odp_result_message(ODP_ERR_QUEUE_FULL), "ODP EventQueue is full") == 0);
    EXPECT(strcmp(odp_result_message(ODP_ERR_ODP_NOT_INTEGRATED), "ODP is not integrated") == 0);
    EXPECT(strcmp(odp_result_message(12345), "unknown result code") == 0);
}

static void test_new_rejects_bad_input(void) {
    OdpClient *client = NULL;
    const char bad_utf8[] = {'{', '"', 'a', (char)0xff, '"', ':', '1', '}', 0};
    EXPECT_ERROR(odp_client_new(NULL, &client), ODP_ERR_INVALID_ARGUMENT, "config_json is NULL");
    EXPECT(client == NULL);
    EXPECT_ERROR(odp_client_new(direct_config(""), NULL), ODP_ERR_INVALID_ARGUMENT, "client_out is NULL");
    EXPECT_ERROR(odp_client_new(bad_utf8, &client), ODP_ERR_INVALID_UTF8, "config_json is not valid UTF-8");
    EXPECT_ERROR(odp_client_new("{\"sdk_key\":", &client), ODP_ERR_INVALID_JSON, "line 1 column 11");
    EXPECT_ERROR(odp_client_new("{\"sdk_key\":\"k\",\"bach_size\":5}", &client), ODP_ERR_INVALID_CONFIG,
                 "unknown key \"bach_size\"");
    EXPECT_ERROR(odp_client_new("{\"sdk_key\":\"k\",\"batch_size\":0}", &client), ODP_ERR_INVALID_CONFIG,
                 "\"batch_size\" must be an integer from 1 to 1000");
    EXPECT_ERROR(odp_client_new("{\"datafile\":{\"version\":\"3\"}}", &client), ODP_ERR_INVALID_DATAFILE,
                 "unsupported datafile version");
    EXPECT(client == NULL);
}

static void test_send_validation(void) {
    OdpClient *client = new_client(direct_config(",\"flush_interval_ms\":60000"));
    const char bad_utf8[] = {'b', 'u', 'y', (char)0xc3, 0};
    EXPECT_ERROR(odp_send_event(NULL, NULL, "a", IDS, NULL), ODP_ERR_INVALID_ARGUMENT, "client is NULL");
    EXPECT_ERROR(odp_send_event(client, NULL, NULL, IDS, NULL), ODP_ERR_INVALID_ACTION,
                 "ODP action is not valid (cannot be empty)");
    EXPECT_RC(odp_send_event(client, NULL, " ", IDS, NULL), ODP_OK);
    EXPECT_ERROR(odp_send_event(client, NULL, "a", NULL, NULL), ODP_ERR_INVALID_IDENTIFIERS,
                 "ODP events must have at least one key-value pair in identifiers");
    EXPECT_ERROR(odp_send_event(client, NULL, "a", "{}", NULL), ODP_ERR_INVALID_IDENTIFIERS, "at least one");
    EXPECT_ERROR(odp_send_event(client, NULL, "a", "{\"age\":3}", NULL), ODP_ERR_INVALID_IDENTIFIERS,
                 "the value of \"age\" is a number");
    EXPECT_ERROR(odp_send_event(client, NULL, bad_utf8, IDS, NULL), ODP_ERR_INVALID_UTF8,
                 "action is not valid UTF-8 (invalid byte at offset 3)");
    EXPECT_ERROR(odp_send_event(client, bad_utf8, "a", IDS, NULL), ODP_ERR_INVALID_UTF8, "event_type");
    EXPECT_ERROR(odp_send_event(client, NULL, "a", IDS, bad_utf8), ODP_ERR_INVALID_UTF8, "data is not valid UTF-8");
    EXPECT_ERROR(odp_send_event(client, NULL, "a", "{\"a\":", NULL), ODP_ERR_INVALID_JSON,
                 "identifiers is not valid JSON");
    EXPECT_ERROR(odp_send_event(client, NULL, "a", IDS, "{\"a\":1,}"), ODP_ERR_INVALID_JSON, "line 1 column");
    EXPECT_ERROR(odp_send_event(client, NULL, "a", IDS, "{\"nested\":{}}"), ODP_ERR_INVALID_DATA,
                 "the value of \"nested\" is an object");
    EXPECT_ERROR(odp_send_event(client, NULL, "a", IDS, "{\"n\":9007199254740993}"), ODP_ERR_INVALID_DATA,
                 "beyond");
    EXPECT_RC(odp_send_event(client, NULL, "a", IDS, "{\"n\":9007199254740992}"), ODP_OK);
    EXPECT_RC(odp_send_event(client, "fullstack", "purchased", IDS, DATA), ODP_OK);
    /* Success clears the last error. */
    EXPECT(odp_last_error_message(NULL, 0) == 0);
    EXPECT_RC(odp_client_flush(client, 5000), ODP_OK);
    {
        OdpStats stats;
        EXPECT_RC(odp_client_stats(client, &stats), ODP_OK);
        EXPECT(stats.accepted == 3);
        EXPECT(stats.delivered == 3);
        EXPECT(stats.pending == 0);
        EXPECT(stats.rejected_invalid == 11);
    }
    EXPECT(collector_event_lines() == 3); /* what crossed the wire */
    EXPECT_RC(odp_client_free(client), ODP_OK);
}

static void test_states(void) {
    OdpClient *client;
    char config[512];

    /* ODP_ERR_ODP_NOT_ENABLED */
    client = new_client(direct_config(",\"odp_disabled\":true"));
    EXPECT_ERROR(odp_send_event(client, NULL, "a", IDS, NULL), ODP_ERR_ODP_NOT_ENABLED, "ODP is not enabled");
    EXPECT_RC(odp_client_free(client), ODP_OK);

    /* ODP_ERR_ODP_NOT_INTEGRATED */
    client = new_client("{\"datafile\":\"{\\\"version\\\":\\\"4\\\",\\\"integrations\\\":[]}\"}");
    EXPECT_ERROR(odp_send_event(client, NULL, "a", IDS, NULL), ODP_ERR_ODP_NOT_INTEGRATED, "ODP is not integrated");
    EXPECT_ERROR(odp_client_update_datafile(client, "{\"version\":\"5\"}"), ODP_ERR_INVALID_DATAFILE, "version");
    EXPECT_ERROR(odp_client_update_datafile(client, NULL), ODP_ERR_INVALID_ARGUMENT, "datafile_json is NULL");
    snprintf(config, sizeof config,
             "{\"version\":\"4\",\"integrations\":[{\"key\":\"odp\",\"publicKey\":\"k\",\"host\":\"%s\"}]}",
             collector_url());
    EXPECT_RC(odp_client_update_datafile(client, config), ODP_OK);
    EXPECT_RC(odp_send_event(client, NULL, "a", IDS, NULL), ODP_OK);
    EXPECT_RC(odp_client_free(client), ODP_OK);

    /* ODP_ERR_SDK_NOT_READY and ODP_ERR_TIMEOUT: the collector refuses an unknown SDK key. */
    snprintf(config, sizeof config,
             "{\"sdk_key\":\"unknown\",\"datafile_url_template\":\"%s/datafiles/{sdk_key}.json\"}", collector_url());
    client = new_client(config);
    EXPECT_ERROR(odp_client_wait_ready(client, 300), ODP_ERR_TIMEOUT, "403 Forbidden");
    EXPECT_ERROR(odp_send_event(client, NULL, "a", IDS, NULL), ODP_ERR_SDK_NOT_READY,
                 "Optimizely SDK not configured properly yet.");
    EXPECT_RC(odp_client_free(client), ODP_OK);

    /* A known SDK key becomes ready. */
    snprintf(config, sizeof config,
             "{\"sdk_key\":\"AbC123\",\"datafile_url_template\":\"%s/datafiles/{sdk_key}.json\"}", collector_url());
    client = new_client(config);
    EXPECT_RC(odp_client_wait_ready(client, 5000), ODP_OK);
    EXPECT_RC(odp_send_event(client, NULL, "a", IDS, NULL), ODP_OK);
    EXPECT_RC(odp_client_close(client, 5000), ODP_OK);

    /* ODP_ERR_CLOSED, and what still works after close. */
    EXPECT_ERROR(odp_send_event(client, NULL, "a", IDS, NULL), ODP_ERR_CLOSED, "client is closed");
    EXPECT_RC(odp_client_flush(client, 100), ODP_ERR_CLOSED);
    EXPECT_RC(odp_client_wait_ready(client, 100), ODP_ERR_CLOSED);
    EXPECT_RC(odp_client_update_datafile(client, config), ODP_ERR_INVALID_DATAFILE);
    EXPECT_RC(odp_client_close(client, 100), ODP_OK);
    {
        OdpStats stats;
        EXPECT_RC(odp_client_stats(client, &stats), ODP_OK);
        EXPECT(stats.delivered == 1);
    }
    EXPECT_RC(odp_client_free(client), ODP_OK);

    /* ODP_ERR_QUEUE_FULL */
    client = new_client(direct_config(",\"queue_capacity\":1,\"flush_interval_ms\":60000"));
    EXPECT_RC(odp_send_event(client, NULL, "a", IDS, NULL), ODP_OK);
    EXPECT_ERROR(odp_send_event(client, NULL, "b", IDS, NULL), ODP_ERR_QUEUE_FULL, "ODP EventQueue is full");
    EXPECT_RC(odp_client_free(client), ODP_OK);
}

static void test_handles(void) {
    OdpClient *client = new_client(direct_config(""));
    OdpClient *other;
    OdpStats stats;
    int on_stack = 0;
    OdpClient *forged[3];
    size_t i;

    memset(&stats, 0x5a, sizeof stats);
    EXPECT_ERROR(odp_client_stats(client, NULL), ODP_ERR_INVALID_ARGUMENT, "stats_out is NULL");
    EXPECT_RC(odp_client_stats(NULL, &stats), ODP_ERR_INVALID_ARGUMENT);
    EXPECT(stats.accepted == 0x5a5a5a5a5a5a5a5aULL); /* untouched on failure */
    EXPECT_RC(odp_client_wait_ready(NULL, 0), ODP_ERR_INVALID_ARGUMENT);
    EXPECT_RC(odp_client_flush(NULL, 0), ODP_ERR_INVALID_ARGUMENT);
    EXPECT_RC(odp_client_close(NULL, 0), ODP_ERR_INVALID_ARGUMENT);
    EXPECT_RC(odp_client_update_datafile(NULL, "{}"), ODP_ERR_INVALID_ARGUMENT);
    EXPECT_RC(odp_client_free(NULL), ODP_OK);

    EXPECT_RC(odp_client_free(client), ODP_OK);
    /* Use after free and double free. */
    EXPECT_ERROR(odp_send_event(client, NULL, "a", IDS, NULL), ODP_ERR_INVALID_HANDLE, "not a live client handle");
    EXPECT_RC(odp_client_flush(client, 10), ODP_ERR_INVALID_HANDLE);
    EXPECT_RC(odp_client_close(client, 10), ODP_ERR_INVALID_HANDLE);
    EXPECT_RC(odp_client_wait_ready(client, 10), ODP_ERR_INVALID_HANDLE);
    EXPECT_RC(odp_client_stats(client, &stats), ODP_ERR_INVALID_HANDLE);
    EXPECT_RC(odp_client_update_datafile(client, "{}"), ODP_ERR_INVALID_HANDLE);
    EXPECT_RC(odp_client_free(client), ODP_ERR_INVALID_HANDLE);

    /* A new client may reuse the slot; the stale handle stays dead. */
    other = new_client(direct_config(""));
    EXPECT(other != client);
    EXPECT_RC(odp_send_event(client, NULL, "a", IDS, NULL), ODP_ERR_INVALID_HANDLE);
    EXPECT_RC(odp_client_stats(other, &stats), ODP_OK);

    forged[0] = (OdpClient *)(uintptr_t)0x1234;
    forged[1] = (OdpClient *)(void *)&on_stack;
    forged[2] = (OdpClient *)(uintptr_t)((uintptr_t)other ^ ((uintptr_t)1 << 20));
    for (i = 0; i < sizeof forged / sizeof forged[0]; i++) {
        EXPECT_RC(odp_send_event(forged[i], NULL, "a", IDS, NULL), ODP_ERR_INVALID_HANDLE);
        EXPECT_RC(odp_client_free(forged[i]), ODP_ERR_INVALID_HANDLE);
    }
    EXPECT_RC(odp_client_free(other), ODP_OK);
}

static void test_last_error_buffer(void) {
    char small[8];
    size_t full;
    EXPECT_RC(odp_client_new("{\"nope\":1}", NULL), ODP_ERR_INVALID_ARGUMENT);
    full = odp_last_error_message(NULL, 0);
    EXPECT(full == strlen("client_out is NULL"));
    memset(small, 'x', sizeof small);
    EXPECT(odp_last_error_message(small, sizeof small) == full);
    EXPECT(strcmp(small, "client_") == 0);
    EXPECT(odp_last_error_message(small, 1) == full && small[0] == '\0');
}

static void test_close_with_the_configured_timeout(void) {
    /* Nothing listens on port 9: the queued event cannot be delivered before the deadline. */
    OdpClient *client = new_client("{\"odp_api_key\":\"k\",\"odp_api_host\":\"http://127.0.0.1:9\","
                                   "\"shutdown_timeout_ms\":150,\"flush_interval_ms\":60000}");
    EXPECT_RC(odp_send_event(client, NULL, "a", IDS, NULL), ODP_OK);
    EXPECT_ERROR(odp_client_close(client, ODP_CONFIGURED_SHUTDOWN_TIMEOUT), ODP_ERR_TIMEOUT,
                 "close could not deliver 1 event within 150 ms");
    EXPECT_RC(odp_client_free(client), ODP_OK);
}

static int log_calls = 0;
static int log_saw_key = 0;

static void count_logs(int level, const char *message, size_t len, void *user_data) {
    (void)level;
    EXPECT(user_data == &log_calls);
    EXPECT(strlen(message) == len);
    if (strstr(message, "test-public-key") != NULL) log_saw_key = 1;
    log_calls++;
}

static void test_logger(void) {
    OdpClient *client;
    EXPECT_ERROR(odp_set_logger(7, count_logs, &log_calls), ODP_ERR_INVALID_ARGUMENT, "min_level 7");
    EXPECT_RC(odp_set_logger(ODP_LOG_DEBUG, count_logs, &log_calls), ODP_OK);
    client = new_client(direct_config(",\"flush_interval_ms\":0"));
    EXPECT_RC(odp_send_event(client, NULL, "", IDS, NULL), ODP_ERR_INVALID_ACTION);
    EXPECT_RC(odp_send_event(client, NULL, "a", IDS, NULL), ODP_OK);
    EXPECT_RC(odp_client_flush(client, 5000), ODP_OK);
    EXPECT_RC(odp_client_free(client), ODP_OK);
    EXPECT_RC(odp_set_logger(ODP_LOG_ERROR, NULL, NULL), ODP_OK);
    EXPECT(log_calls >= 2);
    EXPECT(log_saw_key == 0);
}

int main(void) {
    test_static_strings();
    test_new_rejects_bad_input();
    test_send_validation();
    test_states();
    test_handles();
    test_last_error_buffer();
    test_close_with_the_configured_timeout();
    test_logger();
    return check_summary("test_api");
}
