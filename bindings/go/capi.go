package odp

// This file is the only one that talks to C. Each C function is wrapped by a small shim in the
// preamble that makes the call AND, on failure, copies odp_last_error_message, all inside one
// cgo call: the message is thread-local in libodp and a goroutine may move to another OS thread
// between two cgo calls, so reading it in a second call could read another call's message.
//
// Handles cross as uintptr_t: an OdpClient * is an opaque token (never a Go pointer, never
// dereferenced), so Go keeps it in a uintptr and the garbage collector never has to look at it.
// No Go pointer is ever stored on the C side; the only Go pointer passed in is the OdpStats
// out-parameter, written during the call.

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: -L${SRCDIR}/../../target/release -lodp -Wl,-rpath,${SRCDIR}/../../target/release

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "odp.h"

typedef struct {
	int rc;
	char *msg;        // malloc'ed copy of the last error message on failure, else NULL; Go frees it
	uintptr_t handle; // odp_go_client_new only
} odp_go_result;

// Must run in the same C call as the failing function, before anything else can touch the
// calling thread's last error.
static odp_go_result odp_go_result_of(int rc) {
	odp_go_result r = { rc, NULL, 0 };
	if (rc != ODP_OK) {
		size_t n = odp_last_error_message(NULL, 0);
		r.msg = malloc(n + 1);
		if (r.msg != NULL) {
			odp_last_error_message(r.msg, n + 1);
		}
	}
	return r;
}

static odp_go_result odp_go_client_new(const char *config_json) {
	OdpClient *client = NULL;
	odp_go_result r = odp_go_result_of(odp_client_new(config_json, &client));
	if (r.rc == ODP_OK) {
		r.handle = (uintptr_t)client;
	}
	return r;
}

static odp_go_result odp_go_wait_ready(uintptr_t h, uint32_t timeout_ms) {
	return odp_go_result_of(odp_client_wait_ready((OdpClient *)h, timeout_ms));
}

static odp_go_result odp_go_send_event(uintptr_t h, const char *event_type, const char *action,
		const char *identifiers_json, const char *data_json) {
	return odp_go_result_of(odp_send_event((OdpClient *)h, event_type, action, identifiers_json,
		data_json));
}

// buf holds the four arguments NUL-terminated at the given offsets; data_at < 0 means NULL.
static odp_go_result odp_go_send_event_args(uintptr_t h, const char *buf, size_t type_at,
		size_t action_at, size_t ids_at, ptrdiff_t data_at) {
	return odp_go_result_of(odp_send_event((OdpClient *)h, buf + type_at, buf + action_at,
		buf + ids_at, data_at < 0 ? NULL : buf + data_at));
}

static odp_go_result odp_go_flush(uintptr_t h, uint32_t timeout_ms) {
	return odp_go_result_of(odp_client_flush((OdpClient *)h, timeout_ms));
}

static odp_go_result odp_go_close(uintptr_t h, uint32_t timeout_ms) {
	return odp_go_result_of(odp_client_close((OdpClient *)h, timeout_ms));
}

static odp_go_result odp_go_free(uintptr_t h) {
	return odp_go_result_of(odp_client_free((OdpClient *)h));
}

static odp_go_result odp_go_update_datafile(uintptr_t h, const char *datafile_json) {
	return odp_go_result_of(odp_client_update_datafile((OdpClient *)h, datafile_json));
}

static odp_go_result odp_go_stats(uintptr_t h, OdpStats *out) {
	return odp_go_result_of(odp_client_stats((OdpClient *)h, out));
}
*/
import "C"

import (
	"math"
	"time"
	"unsafe"
)

// Result codes of the C API (odp.h, OdpResult). Only those the binding itself needs by name.
const (
	codeOK              = int(C.ODP_OK)
	codeInvalidArgument = int(C.ODP_ERR_INVALID_ARGUMENT)
	codeInvalidHandle   = int(C.ODP_ERR_INVALID_HANDLE)
	codeInvalidData     = int(C.ODP_ERR_INVALID_DATA)
	codeClosed          = int(C.ODP_ERR_CLOSED)
	codeTimeout         = int(C.ODP_ERR_TIMEOUT)
)

// abiVersion is the ODP_ABI_VERSION this binding was written for.
const abiVersion = 1

// handle is an OdpClient * token.
type handle uintptr

// result is a C result code with its detailed message ("" on success).
type result struct {
	code int
	msg  string
}

func resultOf(r C.odp_go_result) result {
	res := result{code: int(r.rc)}
	if r.msg != nil {
		res.msg = C.GoString(r.msg)
		C.free(unsafe.Pointer(r.msg))
	}
	return res
}

// cString copies s into C memory; the caller frees it with freeCString.
func cString(s string) *C.char { return C.CString(s) }

func freeCString(p *C.char) {
	if p != nil {
		C.free(unsafe.Pointer(p))
	}
}

// millis converts a Go duration to the C API's uint32 milliseconds, rounding up so that a short
// but positive timeout never becomes 0, and saturating at the largest explicit timeout
// (ODP_CONFIGURED_SHUTDOWN_TIMEOUT, UINT32_MAX, means "the configured one" to close).
func millis(d time.Duration) C.uint32_t {
	if d <= 0 {
		return 0
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	if ms >= math.MaxUint32 {
		return C.uint32_t(math.MaxUint32 - 1)
	}
	return C.uint32_t(ms)
}

func cClientNew(configJSON string) (handle, result) {
	cfg := cString(configJSON)
	defer freeCString(cfg)
	r := C.odp_go_client_new(cfg)
	return handle(r.handle), resultOf(r)
}

func cWaitReady(h handle, timeout time.Duration) result {
	return resultOf(C.odp_go_wait_ready(C.uintptr_t(h), millis(timeout)))
}

// cSendEvent passes the arguments' buffer itself (Go memory holding no Go pointers, read by
// the library only during the call).
func cSendEvent(h handle, a *eventArgs) result {
	p := (*C.char)(unsafe.Pointer(&a.buf[0]))
	return resultOf(C.odp_go_send_event_args(C.uintptr_t(h), p, C.size_t(a.typeAt),
		C.size_t(a.actionAt), C.size_t(a.idsAt), C.ptrdiff_t(a.dataAt)))
}

func cFlush(h handle, timeout time.Duration) result {
	return resultOf(C.odp_go_flush(C.uintptr_t(h), millis(timeout)))
}

func cClose(h handle, timeout time.Duration) result {
	return resultOf(C.odp_go_close(C.uintptr_t(h), millis(timeout)))
}

func cFree(h handle) result {
	return resultOf(C.odp_go_free(C.uintptr_t(h)))
}

func cUpdateDatafile(h handle, datafile []byte) result {
	d := C.CString(string(datafile))
	defer freeCString(d)
	return resultOf(C.odp_go_update_datafile(C.uintptr_t(h), d))
}

func cStats(h handle) (Stats, result) {
	var s C.OdpStats
	r := resultOf(C.odp_go_stats(C.uintptr_t(h), &s))
	return Stats{
		Accepted:          uint64(s.accepted),
		Delivered:         uint64(s.delivered),
		Pending:           uint64(s.pending),
		DroppedRejected:   uint64(s.dropped_rejected),
		DroppedShutdown:   uint64(s.dropped_shutdown),
		BatchesSent:       uint64(s.batches_sent),
		FailedAttempts:    uint64(s.failed_attempts),
		RejectedQueueFull: uint64(s.rejected_queue_full),
		RejectedInvalid:   uint64(s.rejected_invalid),
	}, r
}

func cResultName(code int) string    { return C.GoString(C.odp_result_name(C.int(code))) }
func cResultMessage(code int) string { return C.GoString(C.odp_result_message(C.int(code))) }
func cVersion() string               { return C.GoString(C.odp_version()) }
func cABIVersion() int               { return int(C.odp_abi_version()) }
