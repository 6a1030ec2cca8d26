package odp

import "fmt"

// Error is the error every failing call returns: the C API's result code, its name (e.g.
// "ODP_ERR_QUEUE_FULL") and the detailed message libodp gave for this failure.
//
// Test the kind with errors.Is and the sentinels below:
//
//	if errors.Is(err, odp.ErrQueueFull) { ... }
//
// and reach the fields with errors.As:
//
//	var e *odp.Error
//	if errors.As(err, &e) { log.Print(e.Name, e.Detail) }
type Error struct {
	// Code is the OdpResult value (odp.h); 0 is never used for an error.
	Code int
	// Name is the code's name, e.g. "ODP_ERR_INVALID_ACTION".
	Name string
	// Detail is the detailed message, e.g. "ODP action is not valid (cannot be empty)".
	Detail string

	// cause is a Go error behind this one (a json.Marshal failure, a context error), if any.
	cause error
}

// Error returns the detailed message, the same text the Optimizely Go SDK's SendOdpEvent
// returns where the SDK has one (e.g. "ODP EventQueue is full").
func (e *Error) Error() string {
	if e.Detail != "" {
		return e.Detail
	}
	return e.Name
}

// Is reports whether target is the sentinel of e's code, so errors.Is(err, ErrQueueFull) works.
func (e *Error) Is(target error) bool {
	s := sentinelOf(e.Code)
	return s != nil && target == s
}

// Unwrap returns the Go error behind this one, if any: the json.Marshal error for data that
// cannot be encoded, or context.DeadlineExceeded / context.Canceled for Flush and WaitReady.
func (e *Error) Unwrap() error { return e.cause }

// The sentinels, one per result code of the C API. Their Error() is the library's fixed text
// for the code (odp_result_message); a returned *Error carries the specifics in Detail.
var (
	ErrInvalidArgument    = newSentinel(1)  // ODP_ERR_INVALID_ARGUMENT; also a string with a NUL byte, which C cannot carry
	ErrInvalidUTF8        = newSentinel(2)  // ODP_ERR_INVALID_UTF8
	ErrInvalidJSON        = newSentinel(3)  // ODP_ERR_INVALID_JSON
	ErrInvalidHandle      = newSentinel(4)  // ODP_ERR_INVALID_HANDLE (the binding reports a freed client as ErrClosed)
	ErrInvalidConfig      = newSentinel(5)  // ODP_ERR_INVALID_CONFIG: the detail names the key
	ErrInvalidDatafile    = newSentinel(6)  // ODP_ERR_INVALID_DATAFILE
	ErrSDKNotReady        = newSentinel(7)  // ODP_ERR_SDK_NOT_READY: no datafile yet
	ErrOdpNotEnabled      = newSentinel(8)  // ODP_ERR_ODP_NOT_ENABLED: "ODP is not enabled"
	ErrOdpNotIntegrated   = newSentinel(9)  // ODP_ERR_ODP_NOT_INTEGRATED: "ODP is not integrated"
	ErrInvalidAction      = newSentinel(10) // ODP_ERR_INVALID_ACTION
	ErrInvalidIdentifiers = newSentinel(11) // ODP_ERR_INVALID_IDENTIFIERS
	ErrInvalidData        = newSentinel(12) // ODP_ERR_INVALID_DATA; also data json.Marshal cannot encode
	ErrQueueFull          = newSentinel(13) // ODP_ERR_QUEUE_FULL: "ODP EventQueue is full"
	ErrClosed             = newSentinel(14) // ODP_ERR_CLOSED: the client is closed (or freed)
	ErrTimeout            = newSentinel(15) // ODP_ERR_TIMEOUT: a flush, close or wait did not finish in time
	ErrInternal           = newSentinel(16) // ODP_ERR_INTERNAL: a bug in libodp
)

var sentinels = []*Error{
	nil, ErrInvalidArgument, ErrInvalidUTF8, ErrInvalidJSON, ErrInvalidHandle, ErrInvalidConfig,
	ErrInvalidDatafile, ErrSDKNotReady, ErrOdpNotEnabled, ErrOdpNotIntegrated, ErrInvalidAction,
	ErrInvalidIdentifiers, ErrInvalidData, ErrQueueFull, ErrClosed, ErrTimeout, ErrInternal,
}

func newSentinel(code int) *Error {
	return &Error{Code: code, Name: cResultName(code), Detail: cResultMessage(code)}
}

func sentinelOf(code int) *Error {
	if code <= 0 || code >= len(sentinels) {
		return nil
	}
	return sentinels[code]
}

// errorOf turns a C result into nil or an *Error.
func errorOf(r result) error {
	if r.code == codeOK {
		return nil
	}
	detail := r.msg
	if detail == "" {
		detail = cResultMessage(r.code)
	}
	return &Error{Code: r.code, Name: cResultName(r.code), Detail: detail}
}

// newError builds an error the binding detects itself (a NUL byte, a json.Marshal failure, a
// context that ended, a freed client), with the code of the nearest C API condition.
func newError(code int, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Name: cResultName(code), Detail: fmt.Sprintf(format, args...), cause: cause}
}
