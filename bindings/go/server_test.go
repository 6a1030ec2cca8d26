package odp_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	odp "github.com/libodp/libodp/bindings/go"
)

// hang is a status that makes the server never answer (until the test ends).
const hang = -1

// request is one request as it crossed the wire.
type request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// event is one element of an events request body.
type event struct {
	Type        string            `json:"type"`
	Action      string            `json:"action"`
	Identifiers map[string]string `json:"identifiers"`
	Data        map[string]any    `json:"data"`
}

// odpServer is an ODP endpoint (POST /v3/events) and a datafile CDN
// (GET /datafiles/{sdk_key}.json) on 127.0.0.1, recording what it receives.
type odpServer struct {
	*httptest.Server
	t *testing.T

	mu        sync.Mutex
	requests  []request // events requests, in arrival order
	datafiles []request // datafile requests
	status    func(n int) int
	datafile  func(path string) (int, []byte)
	arrived   chan struct{} // receives after each events request is recorded (non-blocking)
	release   chan struct{} // closed when the test ends: hanging handlers return
}

// newServer starts a server; status gives the HTTP status of the n-th events request (0-based),
// or hang; nil answers 202 to all.
func newServer(t *testing.T, status func(n int) int) *odpServer {
	t.Helper()
	s := &odpServer{
		t:       t,
		status:  status,
		arrived: make(chan struct{}, 1),
		release: make(chan struct{}),
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	// Cleanups run last-in first-out: release hanging handlers, then stop the server (which
	// waits for them). Clients created after this are closed before either.
	t.Cleanup(s.Close)
	t.Cleanup(func() { close(s.release) })
	return s
}

func (s *odpServer) handle(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.t.Errorf("reading the request body: %v", err)
	}
	rec := request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
	if strings.HasPrefix(r.URL.Path, "/datafiles/") {
		s.mu.Lock()
		s.datafiles = append(s.datafiles, rec)
		serve := s.datafile
		s.mu.Unlock()
		status, text := http.StatusNotFound, []byte(`{"message":"not found"}`)
		if serve != nil {
			status, text = serve(r.URL.Path)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(text)
		return
	}
	s.mu.Lock()
	n := len(s.requests)
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
	select {
	case s.arrived <- struct{}{}:
	default:
	}
	status := http.StatusAccepted
	if s.status != nil {
		status = s.status(n)
	}
	if status == hang {
		select {
		case <-s.release:
		case <-r.Context().Done():
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"title":"Accepted","status":202,"timestamp":"2024-01-01T00:00:00.000Z"}`))
}

// serveDatafile makes GET /datafiles/{sdkKey}.json answer with datafile.
func (s *odpServer) serveDatafile(sdkKey string, datafile []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.datafile = func(path string) (int, []byte) {
		if path == "/datafiles/"+sdkKey+".json" {
			return http.StatusOK, datafile
		}
		return http.StatusNotFound, []byte(`{"message":"not found"}`)
	}
}

// failDatafile makes every datafile request answer status.
func (s *odpServer) failDatafile(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.datafile = func(string) (int, []byte) { return status, []byte(`{"message":"failed"}`) }
}

// Requests returns the events requests received so far.
func (s *odpServer) Requests() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.requests...)
}

// DatafileRequests returns the datafile requests received so far.
func (s *odpServer) DatafileRequests() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.datafiles...)
}

// Events decodes every events request body, in order.
func (s *odpServer) Events() []event {
	s.t.Helper()
	var all []event
	for _, r := range s.Requests() {
		all = append(all, decodeBody(s.t, r.Body)...)
	}
	return all
}

// waitEvents waits until at least n events arrived, failing the test after a generous bound.
func (s *odpServer) waitEvents(n int) []event {
	s.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		if events := s.Events(); len(events) >= n {
			return events
		}
		select {
		case <-s.arrived:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			s.t.Fatalf("waited 20 s for %d events; got %d", n, len(s.Events()))
		}
	}
}

func decodeBody(t *testing.T, body []byte) []event {
	t.Helper()
	var events []event
	if err := json.Unmarshal(body, &events); err != nil {
		t.Fatalf("events body is not a JSON array of events: %v\n%s", err, body)
	}
	return events
}

// datafileFor is a datafile whose ODP integration points at host with publicKey.
func datafileFor(host, publicKey string) []byte {
	d, err := json.Marshal(map[string]any{
		"version":   "4",
		"revision":  "1",
		"projectId": "123",
		"integrations": []map[string]any{
			{"key": "odp", "publicKey": publicKey, "host": host},
		},
	})
	if err != nil {
		panic(err)
	}
	return d
}

// newClient creates a client that the test closes when it ends.
func newClient(t *testing.T, config odp.Config) *odp.Client {
	t.Helper()
	c, err := odp.NewClient(config)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// direct is the configuration of a client sending to s with api key "test-key".
func (s *odpServer) direct() odp.Config {
	return odp.Config{OdpAPIKey: "test-key", OdpAPIHost: s.URL}
}

func flush(t *testing.T, c *odp.Client) {
	t.Helper()
	ctx, cancel := contextWithTimeout(20 * time.Second)
	defer cancel()
	if err := c.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

func stats(t *testing.T, c *odp.Client) odp.Stats {
	t.Helper()
	s, err := c.Stats()
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if s.Accepted != s.Delivered+s.DroppedRejected+s.DroppedShutdown+s.Pending {
		t.Fatalf("accounting broken: %+v", s)
	}
	return s
}

var seedIdentifiers = map[string]string{"fs_user_id": "user123", "email": "user123@example.com"}

func seedData() map[string]interface{} {
	return map[string]interface{}{"item": "shirt", "price": 50.0}
}
