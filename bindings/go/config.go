package odp

import (
	"encoding/json"
	"strconv"
	"time"
)

// Config is the client configuration: the JSON object of the C API's odp_client_new, field for
// field (see the README's configuration table for defaults and meanings).
//
// Unset means "the library's default":
//   - strings: "" is unset;
//   - bools: false is unset (false is also every bool's default);
//   - numbers and durations are pointers, so an explicit zero can be told from unset: nil is the
//     default, Ptr(time.Duration(0)) is zero. Zero means something for FlushInterval (send every
//     event at once) and DatafilePollingInterval (fetch once).
//
// Durations are sent as milliseconds and must be whole milliseconds.
//
// The binding does not check values: libodp does, and NewClient returns ErrInvalidConfig with a
// message naming the key (e.g. `"batch_size" must be an integer from 1 to 1000 (got 0)`), also for
// negative values and durations that are not whole milliseconds.
//
// Exactly one of SDKKey, Datafile, or OdpAPIKey + OdpAPIHost must be given.
type Config struct {
	// SDKKey: fetch the datafile of this SDK key in the background (sdk_key).
	SDKKey string
	// DatafileAccessToken: with SDKKey, fetch the authenticated datafile (datafile_access_token).
	DatafileAccessToken string
	// DatafileURLTemplate: with SDKKey, the datafile URL, containing "{sdk_key}"
	// (datafile_url_template).
	DatafileURLTemplate string
	// DatafilePollingInterval: with SDKKey, time between polls; 0 fetches once
	// (datafile_polling_interval_ms, default 5 minutes).
	DatafilePollingInterval *time.Duration
	// Datafile: the datafile itself, JSON text (datafile). Sent as a JSON string, so bytes that
	// are not UTF-8 reach libodp as U+FFFD.
	Datafile []byte
	// OdpAPIKey and OdpAPIHost: no datafile; ODP integrated with these (odp_api_key,
	// odp_api_host).
	OdpAPIKey  string
	OdpAPIHost string
	// OdpDisabled: every send fails with ErrOdpNotEnabled (odp_disabled).
	OdpDisabled bool
	// BatchSize: events per request (batch_size, default 10).
	BatchSize *int
	// FlushInterval: how long a partial batch waits; 0 sends every event at once
	// (flush_interval_ms, default 1 s).
	FlushInterval *time.Duration
	// QueueCapacity: events held, queued and in flight (queue_capacity, default 10000).
	QueueCapacity *int
	// RequestTimeout: one HTTP request (request_timeout_ms, default 10 s).
	RequestTimeout *time.Duration
	// MaxAttempts: attempts per batch in one flush (max_attempts, default 3).
	MaxAttempts *int
	// ShutdownTimeout: the timeout Close uses (shutdown_timeout_ms, default 2 s).
	ShutdownTimeout *time.Duration
	// DataSource and DataSourceVersion: values of the common data (data_source, default
	// "libodp"; data_source_version, default the library version).
	DataSource        string
	DataSourceVersion string
	// MaxEventBytes: largest event input, type + action + identifiers + data, in bytes
	// (max_event_bytes, default 65536).
	MaxEventBytes *int
	// AllowInsecureHTTP: allow http:// ODP hosts other than loopback (allow_insecure_http).
	AllowInsecureHTTP bool
}

// Ptr returns a pointer to v, for the optional fields of Config:
//
//	odp.Config{SDKKey: "AbC123", FlushInterval: odp.Ptr(time.Duration(0)), BatchSize: odp.Ptr(50)}
func Ptr[T any](v T) *T { return &v }

// MarshalJSON encodes the configuration as the JSON object odp_client_new takes, leaving out
// unset fields.
func (c Config) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	str := func(key, v string) {
		if v != "" {
			m[key] = v
		}
	}
	boolean := func(key string, v bool) {
		if v {
			m[key] = true
		}
	}
	integer := func(key string, v *int) {
		if v != nil {
			m[key] = *v
		}
	}
	duration := func(key string, v *time.Duration) {
		if v != nil {
			m[key] = durationMillis(*v)
		}
	}
	str("sdk_key", c.SDKKey)
	str("datafile_access_token", c.DatafileAccessToken)
	str("datafile_url_template", c.DatafileURLTemplate)
	duration("datafile_polling_interval_ms", c.DatafilePollingInterval)
	if c.Datafile != nil {
		m["datafile"] = string(c.Datafile)
	}
	str("odp_api_key", c.OdpAPIKey)
	str("odp_api_host", c.OdpAPIHost)
	boolean("odp_disabled", c.OdpDisabled)
	integer("batch_size", c.BatchSize)
	duration("flush_interval_ms", c.FlushInterval)
	integer("queue_capacity", c.QueueCapacity)
	duration("request_timeout_ms", c.RequestTimeout)
	integer("max_attempts", c.MaxAttempts)
	duration("shutdown_timeout_ms", c.ShutdownTimeout)
	str("data_source", c.DataSource)
	str("data_source_version", c.DataSourceVersion)
	integer("max_event_bytes", c.MaxEventBytes)
	boolean("allow_insecure_http", c.AllowInsecureHTTP)
	return json.Marshal(m)
}

// durationMillis is d in milliseconds as a JSON number: an integer when d is whole
// milliseconds, otherwise the exact fraction, which libodp rejects naming the key (rather than
// the binding rounding 0.5 ms to "send at once").
func durationMillis(d time.Duration) json.Number {
	if d%time.Millisecond == 0 {
		return json.Number(strconv.FormatInt(int64(d/time.Millisecond), 10))
	}
	return json.Number(strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64))
}
