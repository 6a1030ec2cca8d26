package odp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// flushSlice bounds each blocking C call made for Flush and WaitReady, so that a context that is
// cancelled (rather than reaching its deadline) is noticed within about this long.
const flushSlice = 50 * time.Millisecond

// Client is an ODP client: one libodp client with its background dispatcher. All methods are
// safe for concurrent use. Close it when done; a client that is never closed is closed and freed
// by a finalizer (with the configured shutdown timeout), but only when the garbage collector gets
// to it.
type Client struct {
	h handle

	// closed is set when Close starts: from then on the handle may be freed at any moment.
	closed   atomic.Bool
	freeOnce sync.Once
	freeErr  error
}

// Stats are the counters of a client. At every moment
// Accepted == Delivered + DroppedRejected + DroppedShutdown + Pending.
type Stats struct {
	Accepted          uint64 // events SendOdpEvent accepted
	Delivered         uint64 // events the ODP server accepted
	Pending           uint64 // events queued or being sent
	DroppedRejected   uint64 // events whose batch the server refused for good (a 4xx other than 408, 429)
	DroppedShutdown   uint64 // events left when a close timed out, or with no destination left
	BatchesSent       uint64 // HTTP requests that delivered a batch
	FailedAttempts    uint64 // HTTP requests that failed (network errors, status >= 400)
	RejectedQueueFull uint64 // SendOdpEvent calls refused with ErrQueueFull
	RejectedInvalid   uint64 // SendOdpEvent calls refused for any other reason
}

// Version returns the version of the loaded libodp, e.g. "0.1.0" (it is also in the user-agent
// header, "libodp/0.1.0").
func Version() string { return cVersion() }

// NewClient creates a client and starts its background work. It never blocks on the network:
// with SDKKey the datafile is fetched in the background (see WaitReady).
//
// Errors: ErrInvalidConfig (the detail names the key), ErrInvalidDatafile (an invalid
// Config.Datafile), ErrInternal; and a plain error when the loaded libodp has another ABI
// version than this binding was written for.
func NewClient(config Config) (*Client, error) {
	if v := cABIVersion(); v != abiVersion {
		return nil, fmt.Errorf("odp: the loaded libodp has ABI version %d; this binding needs %d", v, abiVersion)
	}
	configJSON, err := json.Marshal(config)
	if err != nil {
		// Config holds only strings, numbers and bools: json.Marshal cannot fail on it.
		return nil, newError(codeInvalidArgument, err, "cannot encode the configuration: %v", err)
	}
	h, r := cClientNew(string(configJSON))
	if err := errorOf(r); err != nil {
		return nil, err
	}
	c := &Client{h: h}
	// A backstop only: a forgotten client is closed and freed. The close may take up to the
	// shutdown timeout, so it runs on its own goroutine rather than the finalizer goroutine.
	runtime.SetFinalizer(c, func(c *Client) { go c.Close() })
	return c, nil
}

// SendOdpEvent validates an event, adds the standard ODP data and queues it for delivery; it
// never waits for the network. nil means "accepted into the queue". It has the signature of the
// Optimizely Go SDK's OptimizelyClient.SendOdpEvent and returns the same messages.
//
//   - eventType: "" sends "fullstack".
//   - action: required, not empty.
//   - identifiers: at least one pair (nil, sent as JSON null, fails like an empty map).
//   - data: nil means no data; values are strings, bools, nil or numbers up to 2^53 in
//     magnitude, checked by libodp.
//
// identifiers and data are encoded with encoding/json (without HTML escaping), like the Go SDK
// does, so a float64 50.0 is sent as 50. Data it cannot encode (NaN, ±Inf, a channel, a failing
// MarshalJSON) is an *Error matching ErrInvalidData whose Unwrap is the json.Marshal error; such
// a call never reaches libodp, so Stats.RejectedInvalid does not count it. As with encoding/json,
// bytes that are not UTF-8 inside identifiers or data are sent as U+FFFD; in eventType and action
// they are ErrInvalidUTF8.
//
// Errors (errors.Is): ErrInvalidData, ErrInvalidUTF8, ErrClosed, ErrSDKNotReady,
// ErrInvalidIdentifiers, ErrOdpNotEnabled, ErrOdpNotIntegrated, ErrInvalidAction, ErrQueueFull,
// ErrInvalidArgument (eventType or action holds a NUL byte, which C strings cannot carry).
func (c *Client) SendOdpEvent(eventType, action string, identifiers map[string]string, data map[string]interface{}) error {
	if err := noNUL("eventType", eventType); err != nil {
		return err
	}
	if err := noNUL("action", action); err != nil {
		return err
	}
	args, err := encodeEvent(eventType, action, identifiers, data)
	if err != nil {
		return newError(codeInvalidData, err, "%s: %v", cResultMessage(codeInvalidData), err)
	}
	defer args.release()
	if c.closed.Load() {
		return c.closedError()
	}
	r := cSendEvent(c.h, args)
	runtime.KeepAlive(c)
	return c.check(r)
}

// WaitReady blocks until the client has a datafile, or ctx is done. Clients configured with
// Datafile or OdpAPIKey are ready at once; with SDKKey, events sent before the datafile arrives
// fail with ErrSDKNotReady.
//
// Errors: ErrTimeout when ctx ends first (the detail carries the last fetch failure; Unwrap gives
// ctx.Err()), ErrSDKNotReady when fetching stopped for good (polling off and the one fetch
// failed), ErrClosed.
func (c *Client) WaitReady(ctx context.Context) error {
	return c.sliced(ctx, "a datafile arrived", cWaitReady)
}

// Flush delivers everything accepted before the call, or returns when ctx is done. nil means each
// such event was delivered or dropped (see Stats for which).
//
// Flush waits in slices of about 50 ms (each slice also waits for events accepted during the
// previous ones); it returns by ctx's deadline, and within about 50 ms of a cancellation.
//
// Errors: ErrTimeout when ctx ends first (the events stay queued and delivery goes on; Unwrap
// gives ctx.Err()), ErrClosed.
func (c *Client) Flush(ctx context.Context) error {
	return c.sliced(ctx, "the flush finished", cFlush)
}

// sliced calls a blocking C function (flush or wait_ready) in short slices until it succeeds,
// fails with something other than a timeout, or ctx is done.
func (c *Client) sliced(ctx context.Context, what string, call func(handle, time.Duration) result) error {
	for {
		if c.closed.Load() {
			return c.closedError()
		}
		slice := flushSlice
		done := ctx.Err() != nil
		if deadline, ok := ctx.Deadline(); ok {
			// The deadline may pass a moment before ctx.Err() reports it.
			if left := time.Until(deadline); left <= 0 {
				done = true
			} else if left < slice {
				slice = left
			}
		}
		if done {
			slice = 0 // one last non-blocking try: nothing pending is still a success
		}
		r := call(c.h, slice)
		runtime.KeepAlive(c)
		if r.code != codeTimeout {
			return c.check(r)
		}
		if done {
			cause := ctx.Err()
			if cause == nil {
				cause = context.DeadlineExceeded
			}
			return newError(codeTimeout, cause, "%v before %s (%s)", cause, what, r.msg)
		}
	}
}

// Close stops accepting events, delivers what is queued within the configured ShutdownTimeout
// (default 2 s), stops the background work and frees the client. Calling it again, or
// concurrently, is safe: the other calls wait for the first and return nil. Every other method
// returns ErrClosed afterwards.
//
// Errors: ErrTimeout when events were left undelivered (they are dropped; the client is freed
// anyway).
func (c *Client) Close() error {
	return c.free(func() error { return errorOf(cFree(c.h)) })
}

// CloseTimeout is Close with its own timeout instead of the configured ShutdownTimeout.
func (c *Client) CloseTimeout(timeout time.Duration) error {
	return c.free(func() error {
		closeErr := errorOf(cClose(c.h, timeout))
		freeErr := errorOf(cFree(c.h))
		if closeErr != nil {
			return closeErr
		}
		return freeErr
	})
}

func (c *Client) free(body func() error) error {
	first := false
	c.freeOnce.Do(func() {
		first = true
		c.closed.Store(true)
		runtime.SetFinalizer(c, nil)
		c.freeErr = body()
	})
	if first {
		return c.freeErr
	}
	return nil
}

// UpdateDatafile replaces the datafile. If the ODP key or host changes, events already queued
// go to the old destination first.
//
// Errors: ErrInvalidDatafile (the current datafile stays), ErrInvalidUTF8, ErrClosed,
// ErrInvalidArgument (a NUL byte, which C strings cannot carry).
func (c *Client) UpdateDatafile(datafile []byte) error {
	if i := strings.IndexByte(string(datafile), 0); i >= 0 {
		return nulError("datafile", i)
	}
	if c.closed.Load() {
		return c.closedError()
	}
	r := cUpdateDatafile(c.h, datafile)
	runtime.KeepAlive(c)
	return c.check(r)
}

// Stats returns a consistent snapshot of the client's counters. Errors: ErrClosed after Close.
func (c *Client) Stats() (Stats, error) {
	if c.closed.Load() {
		return Stats{}, c.closedError()
	}
	s, r := cStats(c.h)
	runtime.KeepAlive(c)
	if err := c.check(r); err != nil {
		return Stats{}, err
	}
	return s, nil
}

// check maps a C result to an error. A call that raced with Close may find the handle already
// freed (libodp answers ODP_ERR_INVALID_HANDLE, harmlessly): that is ErrClosed to the caller.
func (c *Client) check(r result) error {
	if r.code == codeInvalidHandle && c.closed.Load() {
		return c.closedError()
	}
	return errorOf(r)
}

func (c *Client) closedError() error {
	return newError(codeClosed, nil, "%s", cResultMessage(codeClosed))
}

// marshal is json.Marshal without HTML escaping: "<" stays one byte, as the caller wrote it, so
// the max_event_bytes limit counts what the caller sent.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func noNUL(name, s string) error {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return nulError(name, i)
	}
	return nil
}

func nulError(name string, offset int) error {
	return newError(codeInvalidArgument, nil,
		"%s holds a NUL byte at offset %d; the C API takes NUL-terminated strings", name, offset)
}
