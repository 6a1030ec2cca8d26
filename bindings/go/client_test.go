package odp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	odp "github.com/libodp/libodp/bindings/go"
)

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// allSentinels lists every sentinel with its name, to check that an error matches exactly one.
var allSentinels = map[string]error{
	"ODP_ERR_INVALID_ARGUMENT":    odp.ErrInvalidArgument,
	"ODP_ERR_INVALID_UTF8":        odp.ErrInvalidUTF8,
	"ODP_ERR_INVALID_JSON":        odp.ErrInvalidJSON,
	"ODP_ERR_INVALID_HANDLE":      odp.ErrInvalidHandle,
	"ODP_ERR_INVALID_CONFIG":      odp.ErrInvalidConfig,
	"ODP_ERR_INVALID_DATAFILE":    odp.ErrInvalidDatafile,
	"ODP_ERR_SDK_NOT_READY":       odp.ErrSDKNotReady,
	"ODP_ERR_ODP_NOT_ENABLED":     odp.ErrOdpNotEnabled,
	"ODP_ERR_ODP_NOT_INTEGRATED":  odp.ErrOdpNotIntegrated,
	"ODP_ERR_INVALID_ACTION":      odp.ErrInvalidAction,
	"ODP_ERR_INVALID_IDENTIFIERS": odp.ErrInvalidIdentifiers,
	"ODP_ERR_INVALID_DATA":        odp.ErrInvalidData,
	"ODP_ERR_QUEUE_FULL":          odp.ErrQueueFull,
	"ODP_ERR_CLOSED":              odp.ErrClosed,
	"ODP_ERR_TIMEOUT":             odp.ErrTimeout,
	"ODP_ERR_INTERNAL":            odp.ErrInternal,
}

// checkError asserts err is an *Error matching want (and no other sentinel) with the message
// msg; a msg ending in "..." is a prefix.
func checkError(t *testing.T, err, want error, msg string) *odp.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil; want %v", want)
	}
	var e *odp.Error
	if !errors.As(err, &e) {
		t.Fatalf("%T %v is not an *odp.Error", err, err)
	}
	var matched []string
	for name, s := range allSentinels {
		if errors.Is(err, s) {
			matched = append(matched, name)
		}
	}
	wantName := want.(*odp.Error).Name
	if len(matched) != 1 || matched[0] != wantName || e.Name != wantName {
		t.Fatalf("error %q (code %d, name %s) matches %v; want only %s", err, e.Code, e.Name, matched, wantName)
	}
	if e.Code != want.(*odp.Error).Code {
		t.Fatalf("code %d; want %d", e.Code, want.(*odp.Error).Code)
	}
	if prefix, ok := strings.CutSuffix(msg, "..."); ok {
		if !strings.HasPrefix(err.Error(), prefix) {
			t.Fatalf("message %q; want it to start with %q", err.Error(), prefix)
		}
	} else if err.Error() != msg {
		t.Fatalf("message %q; want %q", err.Error(), msg)
	}
	return e
}

func TestSentinels(t *testing.T) {
	for name, s := range allSentinels {
		e := s.(*odp.Error)
		if e.Name != name {
			t.Errorf("sentinel %s has name %s", name, e.Name)
		}
		if !errors.Is(s, s) || e.Error() == "" {
			t.Errorf("sentinel %s: Is itself %v, message %q", name, errors.Is(s, s), e.Error())
		}
	}
	for s, msg := range map[error]string{
		odp.ErrQueueFull:        "ODP EventQueue is full",
		odp.ErrOdpNotEnabled:    "ODP is not enabled",
		odp.ErrOdpNotIntegrated: "ODP is not integrated",
		odp.ErrInvalidAction:    "ODP action is not valid (cannot be empty)",
		odp.ErrSDKNotReady:      "Optimizely SDK not configured properly yet.",
		odp.ErrInvalidData:      "ODP data is not valid",
	} {
		if s.Error() != msg {
			t.Errorf("%s: message %q; want %q", s.(*odp.Error).Name, s.Error(), msg)
		}
	}
	detailed := &odp.Error{Code: 13, Name: "ODP_ERR_QUEUE_FULL", Detail: "ODP EventQueue is full"}
	if !errors.Is(detailed, odp.ErrQueueFull) || errors.Is(detailed, odp.ErrClosed) {
		t.Errorf("an *Error with code 13 must match ErrQueueFull and nothing else")
	}
	if errors.Is(odp.ErrQueueFull, odp.ErrClosed) {
		t.Errorf("ErrQueueFull matches ErrClosed")
	}
	unknown := &odp.Error{Code: 99, Name: "ODP_ERR_UNKNOWN", Detail: "x"}
	for name, s := range allSentinels {
		if errors.Is(unknown, s) {
			t.Errorf("code 99 matches %s", name)
		}
	}
}

func TestVersion(t *testing.T) {
	if !regexp.MustCompile(`^\d+\.\d+\.\d+`).MatchString(odp.Version()) {
		t.Fatalf("Version() = %q", odp.Version())
	}
}

// What crossed the wire for the seed event.
func TestSendOdpEventWire(t *testing.T) {
	srv := newServer(t, nil)
	cfg := srv.direct()
	cfg.FlushInterval = odp.Ptr(time.Hour) // only Flush sends
	c := newClient(t, cfg)

	if err := c.SendOdpEvent("fullstack", "purchased", seedIdentifiers, seedData()); err != nil {
		t.Fatalf("SendOdpEvent: %v", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Fatalf("%d requests before Flush with a 1 h flush interval", n)
	}
	flush(t, c)

	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests; want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/v3/events" {
		t.Errorf("%s %s; want POST /v3/events", r.Method, r.Path)
	}
	for header, want := range map[string]string{
		"Content-Type": "application/json",
		"X-Api-Key":    "test-key",
		"Accept":       "application/json",
		"User-Agent":   "libodp/" + odp.Version(),
	} {
		if got := r.Header.Values(header); len(got) != 1 || got[0] != want {
			t.Errorf("header %s: %q; want exactly [%q]", header, got, want)
		}
	}
	prefix := `[{"type":"fullstack","action":"purchased","identifiers":{"email":"user123@example.com","fs_user_id":"user123"},"data":{`
	if !strings.HasPrefix(string(r.Body), prefix) {
		t.Errorf("body %s\nwant it to start with %s", r.Body, prefix)
	}
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &raw); err != nil || len(raw) != 1 || len(raw[0]) != 4 {
		t.Fatalf("body is not an array of one event with type/action/identifiers/data: %s", r.Body)
	}
	ev := decodeBody(t, r.Body)[0]
	id, _ := ev.Data["idempotence_id"].(string)
	if !uuidV4.MatchString(id) {
		t.Errorf("idempotence_id %q is not a UUID v4", id)
	}
	want := map[string]any{
		"item": "shirt", "price": 50.0, "idempotence_id": id,
		"data_source": "libodp", "data_source_type": "sdk", "data_source_version": odp.Version(),
	}
	if fmt.Sprint(ev.Data) != fmt.Sprint(want) {
		t.Errorf("data %v; want %v", ev.Data, want)
	}
	s := stats(t, c)
	if s.Accepted != 1 || s.Delivered != 1 || s.BatchesSent != 1 || s.Pending != 0 || s.FailedAttempts != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestEventTypeAndData(t *testing.T) {
	srv := newServer(t, nil)
	cfg := srv.direct()
	cfg.FlushInterval = odp.Ptr(time.Hour)
	cfg.DataSource = "go-wrapper"
	cfg.DataSourceVersion = "9.9.9"
	c := newClient(t, cfg)

	ids := map[string]string{"fs_user_id": "u"}
	sends := []struct {
		eventType string
		data      map[string]interface{}
	}{
		{"", nil},
		{"custom", map[string]interface{}{}},
		{"", map[string]interface{}{"data_source": "mine", "n": nil, "ok": true, "big": int64(1) << 53, "<tag>": "a&b"}},
	}
	for _, s := range sends {
		if err := c.SendOdpEvent(s.eventType, "viewed", ids, s.data); err != nil {
			t.Fatalf("SendOdpEvent(%q, %v): %v", s.eventType, s.data, err)
		}
	}
	flush(t, c)
	events := srv.Events()
	if len(events) != 3 {
		t.Fatalf("%d events; want 3", len(events))
	}
	for i, want := range []string{"fullstack", "custom", "fullstack"} {
		if events[i].Type != want || events[i].Action != "viewed" {
			t.Errorf("event %d: type %q action %q; want %q viewed", i, events[i].Type, events[i].Action, want)
		}
	}
	for i := 0; i < 2; i++ { // nil and empty data: the common data only
		d := events[i].Data
		if len(d) != 4 || d["data_source"] != "go-wrapper" || d["data_source_version"] != "9.9.9" || d["data_source_type"] != "sdk" {
			t.Errorf("event %d data %v; want only the common data", i, d)
		}
	}
	d := events[2].Data
	if d["data_source"] != "mine" || d["n"] != nil || d["ok"] != true || d["big"] != float64(1<<53) || d["<tag>"] != "a&b" {
		t.Errorf("event 2 data %v", d)
	}
	if _, ok := d["n"]; !ok {
		t.Errorf("null value dropped: %v", d)
	}
	if !strings.Contains(string(srv.Requests()[0].Body), `"<tag>":"a&b"`) {
		t.Errorf("body %s", srv.Requests()[0].Body)
	}
}

func TestSendErrors(t *testing.T) {
	srv := newServer(t, nil)
	cfg := srv.direct()
	cfg.MaxEventBytes = odp.Ptr(300)
	c := newClient(t, cfg)
	ids := map[string]string{"fs_user_id": "u"}

	cases := []struct {
		name      string
		err       error
		want      error
		msg       string
		inLibrary bool // reached libodp (counted in rejected_invalid)
	}{
		{"empty action", c.SendOdpEvent("", "", ids, nil), odp.ErrInvalidAction,
			"ODP action is not valid (cannot be empty)", true},
		{"nil identifiers", c.SendOdpEvent("", "a", nil, nil), odp.ErrInvalidIdentifiers,
			"ODP events must have at least one key-value pair in identifiers", true},
		{"empty identifiers", c.SendOdpEvent("", "a", map[string]string{}, nil), odp.ErrInvalidIdentifiers,
			"ODP events must have at least one key-value pair in identifiers", true},
		{"nested data", c.SendOdpEvent("", "a", ids, map[string]interface{}{"n": map[string]int{"x": 1}}), odp.ErrInvalidData,
			`ODP data is not valid: the value of "n" is an object; values must be strings, numbers, booleans or null`, true},
		{"array data", c.SendOdpEvent("", "a", ids, map[string]interface{}{"n": []int{1}}), odp.ErrInvalidData,
			`ODP data is not valid: the value of "n" is an array; values must be strings, numbers, booleans or null`, true},
		{"number beyond 2^53", c.SendOdpEvent("", "a", ids, map[string]interface{}{"n": int64(1)<<53 + 1}), odp.ErrInvalidData,
			`ODP data is not valid: the value of "n" (9007199254740993) is beyond ±2^53, the largest number sent exactly`, true},
		{"too large", c.SendOdpEvent("", "a", ids, map[string]interface{}{"s": strings.Repeat("x", 300)}), odp.ErrInvalidData,
			"ODP data is not valid: the event's inputs total ...", true},
		{"action not UTF-8", c.SendOdpEvent("", "\xff", ids, nil), odp.ErrInvalidUTF8,
			"action is not valid UTF-8 (invalid byte at offset 0)", true},
		{"type not UTF-8", c.SendOdpEvent("ok\xfe", "a", ids, nil), odp.ErrInvalidUTF8,
			"event_type is not valid UTF-8 (invalid byte at offset 2)", true},
		{"NaN", c.SendOdpEvent("", "a", ids, map[string]interface{}{"n": math.NaN()}), odp.ErrInvalidData,
			"ODP data is not valid: json: unsupported value: NaN", false},
		{"NUL in action", c.SendOdpEvent("", "a\x00b", ids, nil), odp.ErrInvalidArgument,
			"action holds a NUL byte at offset 1; the C API takes NUL-terminated strings", false},
		{"NUL in type", c.SendOdpEvent("\x00", "a", ids, nil), odp.ErrInvalidArgument,
			"eventType holds a NUL byte at offset 0; the C API takes NUL-terminated strings", false},
	}
	inLibrary := 0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkError(t, tc.err, tc.want, tc.msg) })
		if tc.inLibrary {
			inLibrary++
		}
	}

	var marshalErr *json.UnsupportedValueError
	if nan := c.SendOdpEvent("", "a", ids, map[string]interface{}{"n": math.Inf(1)}); !errors.As(nan, &marshalErr) {
		t.Errorf("the json.Marshal error is not wrapped: %#v", nan)
	}
	// A NUL inside identifiers or data is fine: JSON escapes it.
	if err := c.SendOdpEvent("", "a", map[string]string{"fs_user_id": "a\x00b"}, map[string]interface{}{"k": "\x00"}); err != nil {
		t.Errorf("NUL inside JSON values: %v", err)
	}
	flush(t, c)
	s := stats(t, c)
	if s.Accepted != 1 || s.Delivered != 1 || s.RejectedInvalid != uint64(inLibrary) || s.RejectedQueueFull != 0 {
		t.Errorf("stats %+v; want 1 accepted and delivered, %d rejected as invalid", s, inLibrary)
	}
	if ev := srv.Events(); len(ev) != 1 || ev[0].Identifiers["fs_user_id"] != "a\x00b" || ev[0].Data["k"] != "\x00" {
		t.Errorf("events %+v", ev)
	}
}

// Many goroutines fail at once with different errors: each must get its own message, which
// holds only if the call and the read of the thread-local message happen in one cgo call.
func TestErrorMessagesUnderConcurrency(t *testing.T) {
	c := newClient(t, odp.Config{OdpAPIKey: "k", OdpAPIHost: "http://127.0.0.1:9"})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				var err error
				var want string
				switch (g + i) % 3 {
				case 0:
					err, want = c.SendOdpEvent("", "", map[string]string{"a": "b"}, nil), "ODP action is not valid (cannot be empty)"
				case 1:
					err, want = c.SendOdpEvent("", "a", nil, nil), "ODP events must have at least one key-value pair in identifiers"
				case 2:
					key := fmt.Sprintf("k%d_%d", g, i)
					err = c.SendOdpEvent("", "a", map[string]string{"a": "b"}, map[string]interface{}{key: []int{}})
					want = fmt.Sprintf(`ODP data is not valid: the value of "%s" is an array; values must be strings, numbers, booleans or null`, key)
				}
				if err == nil || err.Error() != want {
					errs <- fmt.Errorf("goroutine %d call %d: got %v; want %q", g, i, err, want)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestOdpNotEnabled(t *testing.T) {
	srv := newServer(t, nil)
	cfg := srv.direct()
	cfg.OdpDisabled = true
	c := newClient(t, cfg)
	checkError(t, c.SendOdpEvent("", "a", seedIdentifiers, nil), odp.ErrOdpNotEnabled, "ODP is not enabled")
	// Identifiers are checked before "disabled", as in the Go SDK.
	checkError(t, c.SendOdpEvent("", "a", nil, nil), odp.ErrInvalidIdentifiers,
		"ODP events must have at least one key-value pair in identifiers")
}

func TestOdpNotIntegrated(t *testing.T) {
	c := newClient(t, odp.Config{Datafile: []byte(`{"version":"4","revision":"1","integrations":[]}`)})
	checkError(t, c.SendOdpEvent("", "a", seedIdentifiers, nil), odp.ErrOdpNotIntegrated, "ODP is not integrated")
}

func TestQueueFull(t *testing.T) {
	release := make(chan struct{})
	srv := newServer(t, func(n int) int {
		if n == 0 {
			<-release // the first batch stays in flight until the test lets it go
		}
		return http.StatusAccepted
	})
	cfg := srv.direct()
	cfg.QueueCapacity = odp.Ptr(3)
	cfg.BatchSize = odp.Ptr(3)
	cfg.FlushInterval = odp.Ptr(time.Hour)
	c := newClient(t, cfg)
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()

	for i := 0; i < 3; i++ {
		if err := c.SendOdpEvent("", "a", map[string]string{"fs_user_id": fmt.Sprint(i)}, nil); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	srv.waitEvents(3) // the full batch is in flight, still held by the queue
	checkError(t, c.SendOdpEvent("", "a", map[string]string{"fs_user_id": "3"}, nil), odp.ErrQueueFull,
		"ODP EventQueue is full")
	if s := stats(t, c); s.Accepted != 3 || s.Pending != 3 || s.RejectedQueueFull != 1 {
		t.Errorf("stats %+v", s)
	}
	close(release)
	flush(t, c)
	if err := c.SendOdpEvent("", "a", map[string]string{"fs_user_id": "4"}, nil); err != nil {
		t.Fatalf("send after the queue drained: %v", err)
	}
	flush(t, c)
	if s := stats(t, c); s.Accepted != 4 || s.Delivered != 4 || s.RejectedQueueFull != 1 {
		t.Errorf("stats %+v", s)
	}
	var got []string
	for _, ev := range srv.Events() {
		got = append(got, ev.Identifiers["fs_user_id"])
	}
	if strings.Join(got, ",") != "0,1,2,4" {
		t.Errorf("delivered %v; want 0,1,2,4", got)
	}
}

func TestRetryAfter5xx(t *testing.T) {
	srv := newServer(t, func(n int) int {
		if n == 0 {
			return http.StatusServiceUnavailable
		}
		return http.StatusAccepted
	})
	cfg := srv.direct()
	cfg.FlushInterval = odp.Ptr(time.Hour)
	c := newClient(t, cfg)
	if err := c.SendOdpEvent("", "purchased", seedIdentifiers, seedData()); err != nil {
		t.Fatal(err)
	}
	flush(t, c)
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests; want 503 then 202", len(reqs))
	}
	first, second := decodeBody(t, reqs[0].Body), decodeBody(t, reqs[1].Body)
	if len(first) != 1 || len(second) != 1 || first[0].Data["idempotence_id"] != second[0].Data["idempotence_id"] {
		t.Errorf("the retry must resend the same event with the same idempotence_id:\n%s\n%s", reqs[0].Body, reqs[1].Body)
	}
	s := stats(t, c)
	if s.Accepted != 1 || s.Delivered != 1 || s.FailedAttempts != 1 || s.BatchesSent != 1 || s.Pending != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestStatsAccounting(t *testing.T) {
	srv := newServer(t, func(n int) int {
		if n == 0 {
			return http.StatusBadRequest // dropped for good
		}
		return http.StatusAccepted
	})
	cfg := srv.direct()
	cfg.BatchSize = odp.Ptr(2)
	cfg.FlushInterval = odp.Ptr(time.Hour)
	c := newClient(t, cfg)
	send := func(n int) {
		for i := 0; i < n; i++ {
			if err := c.SendOdpEvent("", "a", seedIdentifiers, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	if s := stats(t, c); s != (odp.Stats{}) {
		t.Fatalf("new client stats %+v", s)
	}
	send(2)
	flush(t, c)
	s := stats(t, c)
	if s.Accepted != 2 || s.DroppedRejected != 2 || s.Delivered != 0 || s.FailedAttempts != 1 || s.BatchesSent != 0 {
		t.Fatalf("after a 400: %+v", s)
	}
	send(3)
	_ = c.SendOdpEvent("", "", seedIdentifiers, nil)
	flush(t, c)
	s = stats(t, c)
	want := odp.Stats{Accepted: 5, Delivered: 3, DroppedRejected: 2, BatchesSent: 2, FailedAttempts: 1, RejectedInvalid: 1}
	if s != want {
		t.Fatalf("stats %+v; want %+v", s, want)
	}
	if n := len(srv.Requests()); n != 3 {
		t.Errorf("%d requests; want 3 (batches of 2, 2, 1)", n)
	}
}

func TestFlushHonoursContext(t *testing.T) {
	srv := newServer(t, func(int) int { return hang })
	cfg := srv.direct()
	cfg.FlushInterval = odp.Ptr(time.Hour)
	cfg.RequestTimeout = odp.Ptr(time.Minute)
	cfg.ShutdownTimeout = odp.Ptr(100 * time.Millisecond)
	c := newClient(t, cfg)

	// Nothing pending: an already expired context still succeeds.
	expired, cancel := contextWithTimeout(-time.Second)
	defer cancel()
	if err := c.Flush(expired); err != nil {
		t.Fatalf("Flush with nothing pending: %v", err)
	}

	if err := c.SendOdpEvent("", "a", seedIdentifiers, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := contextWithTimeout(300 * time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Flush(ctx)
	elapsed := time.Since(start)
	e := checkError(t, err, odp.ErrTimeout, "context deadline exceeded before the flush finished (flush timed out after ...")
	if !errors.Is(err, context.DeadlineExceeded) || e.Unwrap() != context.DeadlineExceeded {
		t.Errorf("%v does not wrap context.DeadlineExceeded", err)
	}
	// Not a performance bound: a flush that waited for the 1 min request timeout would fail it.
	if elapsed > 10*time.Second {
		t.Errorf("Flush returned after %v with a 300 ms deadline", elapsed)
	}

	cancelled, cancelNow := context.WithCancel(context.Background())
	go func() {
		time.Sleep(100 * time.Millisecond)
		cancelNow()
	}()
	err = c.Flush(cancelled)
	checkError(t, err, odp.ErrTimeout, "context canceled before the flush finished ...")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("%v does not wrap context.Canceled", err)
	}
	if s := stats(t, c); s.Pending != 1 || s.Delivered != 0 {
		t.Errorf("stats %+v; want the event still pending", s)
	}

	// Close cannot deliver either: it returns ErrTimeout by its deadline and frees the client.
	checkError(t, c.CloseTimeout(200*time.Millisecond), odp.ErrTimeout,
		"close could not deliver 1 event within 200 ms; dropped (reason shutdown)")
	checkError(t, c.Flush(context.Background()), odp.ErrClosed, "client is closed")
}

func TestCloseDeliversAndIsIdempotent(t *testing.T) {
	srv := newServer(t, nil)
	cfg := srv.direct()
	cfg.FlushInterval = odp.Ptr(time.Hour)
	c, err := odp.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendOdpEvent("", "closing", seedIdentifiers, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if ev := srv.Events(); len(ev) != 1 || ev[0].Action != "closing" {
		t.Fatalf("Close did not deliver the queued event: %+v", ev)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := c.CloseTimeout(time.Second); err != nil {
		t.Errorf("CloseTimeout after Close: %v", err)
	}
	const closed = "client is closed"
	checkError(t, c.SendOdpEvent("", "a", seedIdentifiers, nil), odp.ErrClosed, closed)
	checkError(t, c.Flush(context.Background()), odp.ErrClosed, closed)
	checkError(t, c.WaitReady(context.Background()), odp.ErrClosed, closed)
	checkError(t, c.UpdateDatafile(datafileFor(srv.URL, "k")), odp.ErrClosed, closed)
	_, err = c.Stats()
	checkError(t, err, odp.ErrClosed, closed)
}

func TestConcurrentCloseAndSend(t *testing.T) {
	srv := newServer(t, nil)
	cfg := srv.direct()
	cfg.FlushInterval = odp.Ptr(time.Duration(0))
	total := 0
	for round := 0; round < 5; round++ {
		c, err := odp.NewClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		accepted := 0
		for g := 0; g < 8; g++ {
			wg.Add(2)
			go func() {
				defer wg.Done()
				for i := 0; i < 50; i++ {
					err := c.SendOdpEvent("", "a", seedIdentifiers, nil)
					if err == nil {
						mu.Lock()
						accepted++
						mu.Unlock()
					} else if !errors.Is(err, odp.ErrClosed) {
						t.Errorf("send racing with Close: %v", err)
					}
					if _, err := c.Stats(); err != nil && !errors.Is(err, odp.ErrClosed) {
						t.Errorf("Stats racing with Close: %v", err)
					}
				}
			}()
			go func(g int) {
				defer wg.Done()
				var err error
				if g%2 == 0 {
					err = c.Close()
				} else {
					err = c.CloseTimeout(5 * time.Second)
				}
				if err != nil {
					t.Errorf("Close: %v", err)
				}
			}(g)
		}
		wg.Wait()
		checkError(t, c.SendOdpEvent("", "a", seedIdentifiers, nil), odp.ErrClosed, "client is closed")
		total += accepted
	}
	t.Logf("%d events accepted while closing", total)
	// Close drains: every accepted event arrived, none twice.
	if n := len(srv.Events()); n != total {
		t.Errorf("%d events arrived; %d were accepted", n, total)
	}
}

func TestConcurrentSendsExactCounts(t *testing.T) {
	srv := newServer(t, nil)
	cfg := srv.direct()
	cfg.BatchSize = odp.Ptr(100)
	cfg.FlushInterval = odp.Ptr(20 * time.Millisecond)
	c := newClient(t, cfg)

	const goroutines, each = 16, 100
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				err := c.SendOdpEvent("", "concurrent",
					map[string]string{"fs_user_id": fmt.Sprintf("g%d-%d", g, i)},
					map[string]interface{}{"g": g, "i": i})
				if err != nil {
					t.Errorf("goroutine %d send %d: %v", g, i, err)
					return
				}
				if i%25 == 0 {
					if _, err := c.Stats(); err != nil {
						t.Errorf("Stats: %v", err)
					}
				}
			}
		}(g)
	}
	wg.Wait()
	flush(t, c)

	events := srv.Events()
	if len(events) != goroutines*each {
		t.Fatalf("%d events arrived; want %d", len(events), goroutines*each)
	}
	users := map[string]int{}
	ids := map[string]bool{}
	for _, ev := range events {
		users[ev.Identifiers["fs_user_id"]]++
		ids[ev.Data["idempotence_id"].(string)] = true
		if want := fmt.Sprintf("g%v-%v", ev.Data["g"], ev.Data["i"]); ev.Identifiers["fs_user_id"] != want {
			t.Fatalf("event %+v mixes two sends", ev)
		}
	}
	if len(users) != goroutines*each || len(ids) != goroutines*each {
		t.Errorf("%d distinct users, %d distinct idempotence ids; want %d each", len(users), len(ids), goroutines*each)
	}
	s := stats(t, c)
	if s.Accepted != goroutines*each || s.Delivered != goroutines*each || s.Pending != 0 {
		t.Errorf("stats %+v", s)
	}
	for _, r := range srv.Requests() {
		if n := len(decodeBody(t, r.Body)); n > 100 {
			t.Errorf("a request carried %d events; batch size is 100", n)
		}
	}
}

func TestSDKKeyFlow(t *testing.T) {
	srv := newServer(t, nil)
	srv.serveDatafile("AbC123", datafileFor(srv.URL, "W4WzcEs-ABgXorzY7h1LCQ"))
	c := newClient(t, odp.Config{
		SDKKey:              "AbC123",
		DatafileURLTemplate: srv.URL + "/datafiles/{sdk_key}.json",
	})
	ctx, cancel := contextWithTimeout(20 * time.Second)
	defer cancel()
	if err := c.WaitReady(ctx); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	if err := c.SendOdpEvent("fullstack", "purchased", seedIdentifiers, seedData()); err != nil {
		t.Fatal(err)
	}
	flush(t, c)
	dreqs := srv.DatafileRequests()
	if len(dreqs) < 1 || dreqs[0].Method != http.MethodGet || dreqs[0].Path != "/datafiles/AbC123.json" {
		t.Errorf("datafile requests %+v", dreqs)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Header.Get("X-Api-Key") != "W4WzcEs-ABgXorzY7h1LCQ" {
		t.Fatalf("events requests %+v; want one with the datafile's public key", reqs)
	}
	if ev := decodeBody(t, reqs[0].Body); len(ev) != 1 || ev[0].Action != "purchased" {
		t.Errorf("events %+v", ev)
	}
}

func TestSDKNotReady(t *testing.T) {
	srv := newServer(t, nil)
	srv.failDatafile(http.StatusForbidden)
	c := newClient(t, odp.Config{
		SDKKey:                  "AbC123",
		DatafileURLTemplate:     srv.URL + "/datafiles/{sdk_key}.json",
		DatafilePollingInterval: odp.Ptr(time.Duration(0)), // fetch once
	})
	ctx, cancel := contextWithTimeout(20 * time.Second)
	defer cancel()
	err := c.WaitReady(ctx)
	checkError(t, err, odp.ErrSDKNotReady, "Optimizely SDK not configured properly yet. ...")
	if !strings.Contains(err.Error(), "403") {
		t.Errorf("%q does not give the fetch failure", err)
	}
	checkError(t, c.SendOdpEvent("", "a", seedIdentifiers, nil), odp.ErrSDKNotReady,
		"Optimizely SDK not configured properly yet....")
	if n := len(srv.DatafileRequests()); n != 1 {
		t.Errorf("%d datafile requests with polling off; want 1", n)
	}
}

func TestWaitReadyHonoursContext(t *testing.T) {
	srv := newServer(t, nil)
	srv.failDatafile(http.StatusInternalServerError)
	c := newClient(t, odp.Config{
		SDKKey:                  "AbC123",
		DatafileURLTemplate:     srv.URL + "/datafiles/{sdk_key}.json",
		DatafilePollingInterval: odp.Ptr(time.Hour),
	})
	ctx, cancel := contextWithTimeout(300 * time.Millisecond)
	defer cancel()
	err := c.WaitReady(ctx)
	checkError(t, err, odp.ErrTimeout, "context deadline exceeded before a datafile arrived ...")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("%v does not wrap context.DeadlineExceeded", err)
	}
}

func TestUpdateDatafile(t *testing.T) {
	a, b := newServer(t, nil), newServer(t, nil)
	cfg := odp.Config{Datafile: datafileFor(a.URL, "key-a"), FlushInterval: odp.Ptr(time.Hour)}
	c := newClient(t, cfg)
	if err := c.SendOdpEvent("", "first", seedIdentifiers, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateDatafile(datafileFor(b.URL, "key-b")); err != nil {
		t.Fatalf("UpdateDatafile: %v", err)
	}
	if err := c.SendOdpEvent("", "second", seedIdentifiers, nil); err != nil {
		t.Fatal(err)
	}
	checkError(t, c.UpdateDatafile([]byte(`{"version":"3"}`)), odp.ErrInvalidDatafile,
		`invalid datafile: unsupported datafile version "3" (only "4" is supported)`)
	checkError(t, c.UpdateDatafile([]byte("{\"version\":\"4\"}\x00")), odp.ErrInvalidArgument,
		"datafile holds a NUL byte at offset 15; the C API takes NUL-terminated strings")
	checkError(t, c.UpdateDatafile([]byte("\xff")), odp.ErrInvalidUTF8, "datafile_json is not valid UTF-8 ...")
	if err := c.SendOdpEvent("", "third", seedIdentifiers, nil); err != nil {
		t.Fatal(err)
	}
	flush(t, c)

	actions := func(s *odpServer, key string) string {
		var got []string
		for _, r := range s.Requests() {
			if k := r.Header.Get("X-Api-Key"); k != key {
				t.Errorf("x-api-key %q; want %q", k, key)
			}
			for _, ev := range decodeBody(t, r.Body) {
				got = append(got, ev.Action)
			}
		}
		return strings.Join(got, ",")
	}
	if got := actions(a, "key-a"); got != "first" {
		t.Errorf("old destination got %q; want first", got)
	}
	if got := actions(b, "key-b"); got != "second,third" {
		t.Errorf("new destination got %q; want second,third", got)
	}
}

func TestFlushIntervalZeroSendsAtOnce(t *testing.T) {
	srv := newServer(t, nil)
	cfg := srv.direct()
	cfg.FlushInterval = odp.Ptr(time.Duration(0))
	c := newClient(t, cfg)
	if err := c.SendOdpEvent("", "now", seedIdentifiers, nil); err != nil {
		t.Fatal(err)
	}
	if ev := srv.waitEvents(1); ev[0].Action != "now" {
		t.Errorf("events %+v", ev)
	}
}

// A client nobody closes is closed by its finalizer, which delivers the queued event (the flush
// interval is an hour, so nothing else would send it).
func TestFinalizerClosesForgottenClient(t *testing.T) {
	srv := newServer(t, nil)
	func() {
		cfg := srv.direct()
		cfg.FlushInterval = odp.Ptr(time.Hour)
		c, err := odp.NewClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.SendOdpEvent("", "forgotten", seedIdentifiers, nil); err != nil {
			t.Fatal(err)
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for len(srv.Requests()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the forgotten client was never closed")
		}
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
	if ev := srv.waitEvents(1); ev[0].Action != "forgotten" {
		t.Errorf("events %+v", ev)
	}
}
