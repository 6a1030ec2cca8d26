/*
 * quickstart.c - the SPEC §1 flow: create a client by SDK key, wait for the datafile, send one
 * ODP event, close (drain, bounded), free.
 *
 *   quickstart [COLLECTOR_URL]     (default: http://127.0.0.1:8080; `make demo` passes one)
 *
 * The collector serves the datafile for SDK key "AbC123", whose ODP integration points back
 * at the collector, and receives the event.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "odp.h"

static int report(const char *what, int rc) {
    if (rc != ODP_OK) {
        char detail[512];
        odp_last_error_message(detail, sizeof detail);
        fprintf(stderr, "%s failed: %s (%s)\n", what, odp_result_name(rc), detail);
    }
    return rc;
}

int main(int argc, char **argv) {
    const char *collector = argc > 1 ? argv[1] : "http://127.0.0.1:8080";
    char config[512];
    snprintf(config, sizeof config,
             "{\"sdk_key\":\"AbC123\",\"datafile_url_template\":\"%s/datafiles/{sdk_key}.json\"}",
             collector);

    printf("libodp %s (ABI %u)\n", odp_version(), odp_abi_version());

    OdpClient *client = NULL;
    if (report("odp_client_new", odp_client_new(config, &client)) != ODP_OK) return 1;
    if (report("odp_client_wait_ready", odp_client_wait_ready(client, 5000)) != ODP_OK) {
        odp_client_free(client);
        return 1;
    }

    int rc = odp_send_event(client, "fullstack", "purchased",
                            "{\"fs_user_id\":\"user123\",\"email\":\"user123@example.com\"}",
                            "{\"item\":\"shirt\",\"price\":50.0}");
    if (report("odp_send_event", rc) == ODP_OK) printf("event accepted\n");

    /* An invalid event, to show the error path: empty action. */
    rc = odp_send_event(client, NULL, "", "{\"fs_user_id\":\"user123\"}", NULL);
    if (rc != ODP_OK) {
        char detail[256];
        odp_last_error_message(detail, sizeof detail);
        printf("invalid event refused: %s: %s\n", odp_result_name(rc), detail);
    }

    rc = report("odp_client_close", odp_client_close(client, 2000));

    OdpStats stats;
    if (odp_client_stats(client, &stats) == ODP_OK) {
        printf("accepted=%llu delivered=%llu pending=%llu dropped=%llu batches=%llu\n",
               (unsigned long long)stats.accepted, (unsigned long long)stats.delivered,
               (unsigned long long)stats.pending,
               (unsigned long long)(stats.dropped_rejected + stats.dropped_shutdown),
               (unsigned long long)stats.batches_sent);
    }
    odp_client_free(client);
    return rc == ODP_OK ? 0 : 1;
}
