/* test_fork.c - fork() while another thread is sending: the child's inherited client works with
 * an empty queue and its own threads, the parent's keeps its own; nobody deadlocks, nothing is
 * sent twice. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define CHILDREN 3
#define CHILD_EVENTS 5

static OdpClient *client;
static volatile int stop_sending = 0;
static long parent_sent = 0;

static void *sender(void *arg) {
    char action[32];
    (void)arg;
    while (!stop_sending) {
        snprintf(action, sizeof action, "parent-%ld", parent_sent);
        if (odp_send_event(client, NULL, action, "{\"fs_user_id\":\"p\"}", NULL) == ODP_OK) parent_sent++;
    }
    return NULL;
}

static int child_main(int n) {
    OdpStats s;
    char action[32];
    int i, failures = 0;
    alarm(20); /* a deadlock kills the child, and the parent reports it */
    for (i = 0; i < CHILD_EVENTS; i++) {
        snprintf(action, sizeof action, "child%d-%d", n, i);
        if (odp_send_event(client, NULL, action, "{\"fs_user_id\":\"c\"}", NULL) != ODP_OK) failures++;
    }
    if (odp_client_close(client, 10000) != ODP_OK) failures++;
    if (odp_client_stats(client, &s) != ODP_OK || s.accepted != CHILD_EVENTS || s.delivered != CHILD_EVENTS)
        failures++;
    if (odp_client_free(client) != ODP_OK) failures++;
    return failures == 0 ? 0 : 1;
}

static int wait_child(pid_t pid) {
    int status = 0, waited_ms = 0;
    struct timespec tick = {0, 10 * 1000 * 1000};
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (waited_ms > 30000) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fprintf(stderr, "child %d hung\n", (int)pid);
            return -1;
        }
        nanosleep(&tick, NULL);
        waited_ms += 10;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(void) {
    char config[512];
    pthread_t thread;
    pid_t pids[CHILDREN];
    OdpStats s;
    int i;
    struct timespec pause = {0, 20 * 1000 * 1000};

    snprintf(config, sizeof config,
             "{\"odp_api_key\":\"k\",\"odp_api_host\":\"%s\",\"batch_size\":50,\"flush_interval_ms\":5,"
             "\"queue_capacity\":1000000}",
             collector_url());
    EXPECT_RC(odp_client_new(config, &client), ODP_OK);
    EXPECT(pthread_create(&thread, NULL, sender, NULL) == 0);
    for (i = 0; i < CHILDREN; i++) {
        nanosleep(&pause, NULL);
        fflush(NULL);
        pids[i] = fork();
        if (pids[i] == 0) _exit(child_main(i));
        EXPECT(pids[i] > 0);
    }
    for (i = 0; i < CHILDREN; i++) {
        int code = wait_child(pids[i]);
        if (code != 0) fprintf(stderr, "child %d exited with %d\n", i, code);
        EXPECT(code == 0);
    }
    stop_sending = 1;
    pthread_join(thread, NULL);
    EXPECT_RC(odp_client_close(client, 30000), ODP_OK);
    EXPECT_RC(odp_client_stats(client, &s), ODP_OK);
    EXPECT(s.accepted == (uint64_t)parent_sent && s.delivered == s.accepted);
    /* Exactly the parent's events plus each child's own: nothing inherited was sent twice. */
    EXPECT(collector_event_lines() == parent_sent + CHILDREN * CHILD_EVENTS);
    EXPECT_RC(odp_client_free(client), ODP_OK);
    return check_summary("test_fork");
}
