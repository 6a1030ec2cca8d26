// Command odp-go-bench measures one client's SendOdpEvent for `make bench`: the official
// Optimizely Go SDK (github.com/optimizely/go-sdk/v2, pinned in go.mod) or libodp's Go binding,
// both built from the same static datafile whose ODP integration points at a local collector.
//
//	odp-go-bench -client sdk|libodp -collector URL [-events N] [-window W] [-calls M] [-burst B]
//
// One run prints one JSON object on stdout:
//   - per call: M calls of SendOdpEvent in bursts of B, each call timed on its own; between
//     bursts (untimed) the program waits until the collector has counted every event sent, so the
//     client's queue never fills and every timed call is an accepted event;
//   - delivered events/s: N events sent as fast as the client accepts them while at most W are
//     outstanding (sent but not yet counted by the collector, read from GET /_received only when
//     the window is full), timed from the first send until the collector has counted all N.
//
// W is below both clients' queue capacity (10000 each by default), so no event can be refused;
// any error from SendOdpEvent aborts the run rather than being retried.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"sort"
	"time"

	odp "github.com/libodp/libodp/bindings/go"
	"github.com/optimizely/go-sdk/v2/pkg/client"
	"github.com/optimizely/go-sdk/v2/pkg/logging"
)

// sender is what both clients have in common: the SDK's SendOdpEvent signature.
type sender interface {
	SendOdpEvent(eventType, action string, identifiers map[string]string, data map[string]interface{}) error
}

type collector struct {
	url  string
	http *http.Client
}

// count is the collector's event_count (every event received since it started).
func (c *collector) count() int {
	resp, err := c.http.Get(c.url + "/_received")
	if err != nil {
		fail("collector: %v", err)
	}
	defer resp.Body.Close()
	var r struct {
		EventCount int `json:"event_count"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		fail("collector: %v", err)
	}
	return r.EventCount
}

// waitFor polls until the collector has counted target events, or fails after timeout.
func (c *collector) waitFor(target int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for c.count() < target {
		if time.Now().After(deadline) {
			fail("the collector counted %d of %d events after %v: events were lost", c.count(), target, timeout)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "odp-go-bench: "+format+"\n", args...)
	os.Exit(1)
}

func datafile(host string) []byte {
	df := map[string]any{
		"version": "4", "revision": "1", "projectId": "1", "accountId": "1",
		"groups": []any{}, "experiments": []any{}, "audiences": []any{}, "attributes": []any{},
		"events": []any{}, "featureFlags": []any{}, "rollouts": []any{},
		"integrations": []any{map[string]any{"key": "odp", "publicKey": "bench-key", "host": host}},
	}
	b, _ := json.Marshal(df)
	return b
}

func main() {
	which := flag.String("client", "", "sdk (Optimizely Go SDK) or libodp (libodp's Go binding)")
	url := flag.String("collector", "", "collector base URL, e.g. http://127.0.0.1:PORT")
	events := flag.Int("events", 100000, "events for the delivered events/s measurement")
	window := flag.Int("window", 5000, "most events outstanding (sent, not yet counted by the collector)")
	calls := flag.Int("calls", 50000, "timed calls for the per-call measurement")
	burst := flag.Int("burst", 5000, "calls per burst in the per-call measurement")
	warmup := flag.Int("warmup", 1000, "untimed events sent (and delivered) first")
	flag.Parse()
	if *url == "" || (*which != "sdk" && *which != "libodp") {
		flag.Usage()
		os.Exit(2)
	}
	// The SDK logs to stdout at Info by default; stdout carries the result here.
	logging.SetLogger(logging.NewFilteredLevelLogConsumer(logging.LogLevelWarning, os.Stderr))

	col := &collector{url: *url, http: &http.Client{Timeout: 10 * time.Second}}
	df := datafile(*url)

	var s sender
	var closeClient func()
	switch *which {
	case "sdk":
		factory := &client.OptimizelyFactory{Datafile: df}
		c, err := factory.StaticClient()
		if err != nil {
			fail("optimizely client: %v", err)
		}
		s, closeClient = c, c.Close
	case "libodp":
		c, err := odp.NewClient(odp.Config{Datafile: df})
		if err != nil {
			fail("libodp client: %v", err)
		}
		s, closeClient = c, func() { _ = c.Close() }
	}

	ids := map[string]string{"fs_user_id": "user123", "email": "user123@example.com"}
	data := map[string]interface{}{"item": "shirt", "price": 50.0}
	send := func() {
		if err := s.SendOdpEvent("fullstack", "purchased", ids, data); err != nil {
			fail("SendOdpEvent: %v", err)
		}
	}

	base := col.count()
	sent := 0
	// Warm-up: connections, code paths, allocator.
	for i := 0; i < *warmup; i++ {
		send()
	}
	sent += *warmup
	col.waitFor(base+sent, 30*time.Second)

	// Per call.
	samples := make([]int64, 0, *calls)
	for len(samples) < *calls {
		n := min(*burst, *calls-len(samples))
		for i := 0; i < n; i++ {
			t0 := time.Now()
			send()
			samples = append(samples, int64(time.Since(t0)))
		}
		sent += n
		col.waitFor(base+sent, 30*time.Second)
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	var sum int64
	for _, v := range samples {
		sum += v
	}

	// Delivered events/s.
	runtime.GC()
	start := base + sent
	counted, polls := 0, 0
	t0 := time.Now()
	for i := 0; i < *events; {
		if i-counted >= *window {
			counted = col.count() - start
			polls++
			if i-counted >= *window {
				time.Sleep(100 * time.Microsecond)
				continue
			}
		}
		send()
		i++
	}
	for counted < *events {
		counted = col.count() - start
		polls++
		if counted < *events {
			if time.Since(t0) > 120*time.Second {
				fail("%v", errors.New("events were lost: the collector never counted them all"))
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	elapsed := time.Since(t0)
	sent += *events
	closeClient()

	if extra := col.count() - base - sent; extra != 0 {
		fail("the collector counted %d events more than were sent", extra)
	}
	out := map[string]any{
		"client":          *which,
		"calls":           len(samples),
		"p50_ns":          samples[len(samples)/2],
		"p99_ns":          samples[len(samples)*99/100],
		"max_ns":          samples[len(samples)-1],
		"mean_ns":         float64(sum) / float64(len(samples)),
		"events":          *events,
		"window":          *window,
		"seconds":         elapsed.Seconds(),
		"events_per_s":    float64(*events) / elapsed.Seconds(),
		"collector_polls": polls,
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}
