package odp_test

import (
	"encoding/json"
	"testing"
	"time"

	odp "github.com/libodp/libodp/bindings/go"
)

func TestConfigJSON(t *testing.T) {
	cases := []struct {
		name   string
		config odp.Config
		want   string
	}{
		{"unset is left out", odp.Config{}, `{}`},
		{"every field", odp.Config{
			SDKKey:                  "AbC123",
			DatafileAccessToken:     "token",
			DatafileURLTemplate:     "http://127.0.0.1:1/{sdk_key}.json",
			DatafilePollingInterval: odp.Ptr(5 * time.Minute),
			Datafile:                []byte(`{"version":"4"}`),
			OdpAPIKey:               "key",
			OdpAPIHost:              "https://api.zaius.com",
			OdpDisabled:             true,
			BatchSize:               odp.Ptr(50),
			FlushInterval:           odp.Ptr(250 * time.Millisecond),
			QueueCapacity:           odp.Ptr(1000),
			RequestTimeout:          odp.Ptr(3 * time.Second),
			MaxAttempts:             odp.Ptr(5),
			ShutdownTimeout:         odp.Ptr(time.Second),
			DataSource:              "go",
			DataSourceVersion:       "1.2.3",
			MaxEventBytes:           odp.Ptr(1024),
			AllowInsecureHTTP:       true,
		}, `{"allow_insecure_http":true,"batch_size":50,"data_source":"go","data_source_version":"1.2.3",` +
			`"datafile":"{\"version\":\"4\"}","datafile_access_token":"token","datafile_polling_interval_ms":300000,` +
			`"datafile_url_template":"http://127.0.0.1:1/{sdk_key}.json","flush_interval_ms":250,"max_attempts":5,` +
			`"max_event_bytes":1024,"odp_api_host":"https://api.zaius.com","odp_api_key":"key","odp_disabled":true,` +
			`"queue_capacity":1000,"request_timeout_ms":3000,"sdk_key":"AbC123","shutdown_timeout_ms":1000}`},
		{"explicit zeros are kept", odp.Config{
			FlushInterval:           odp.Ptr(time.Duration(0)),
			DatafilePollingInterval: odp.Ptr(time.Duration(0)),
			BatchSize:               odp.Ptr(0),
		}, `{"batch_size":0,"datafile_polling_interval_ms":0,"flush_interval_ms":0}`},
		{"no rounding, no checks", odp.Config{
			FlushInterval:   odp.Ptr(1500 * time.Microsecond),
			ShutdownTimeout: odp.Ptr(-time.Second),
			MaxAttempts:     odp.Ptr(-1),
		}, `{"flush_interval_ms":1.5,"max_attempts":-1,"shutdown_timeout_ms":-1000}`},
	}
	for _, tc := range cases {
		got, err := json.Marshal(tc.config)
		if err != nil || string(got) != tc.want {
			t.Errorf("%s:\n got %s (%v)\nwant %s", tc.name, got, err, tc.want)
		}
	}
}

// The binding checks nothing: libodp rejects bad values, naming the key.
func TestConfigErrors(t *testing.T) {
	df := datafileFor("http://127.0.0.1:9", "k")
	cases := []struct {
		name   string
		config odp.Config
		want   error
		msg    string
	}{
		{"no source", odp.Config{}, odp.ErrInvalidConfig,
			`invalid configuration: give one of "sdk_key", "datafile" or "odp_api_key" + "odp_api_host"`},
		{"two sources", odp.Config{SDKKey: "AbC123", Datafile: df}, odp.ErrInvalidConfig,
			`invalid configuration: give only one of "sdk_key" and "datafile"`},
		{"key without host", odp.Config{OdpAPIKey: "k"}, odp.ErrInvalidConfig,
			`invalid configuration: "odp_api_host" is required together with "odp_api_key"`},
		{"batch size 0", odp.Config{Datafile: df, BatchSize: odp.Ptr(0)}, odp.ErrInvalidConfig,
			`invalid configuration: "batch_size" must be an integer from 1 to 1000 (got 0)`},
		{"fractional ms", odp.Config{Datafile: df, FlushInterval: odp.Ptr(1500 * time.Microsecond)}, odp.ErrInvalidConfig,
			`invalid configuration: "flush_interval_ms" must be an integer from 0 to 4294967295 (got 1.5)`},
		{"negative duration", odp.Config{Datafile: df, RequestTimeout: odp.Ptr(-time.Second)}, odp.ErrInvalidConfig,
			`invalid configuration: "request_timeout_ms" must be an integer from 1 to 4294967295 (got -1000)`},
		{"polling without sdk key", odp.Config{Datafile: df, DatafilePollingInterval: odp.Ptr(time.Second)}, odp.ErrInvalidConfig,
			`invalid configuration: "datafile_polling_interval_ms" is only valid with "sdk_key"`},
		{"bad datafile", odp.Config{Datafile: []byte(`{"version":"3"}`)}, odp.ErrInvalidDatafile,
			`invalid datafile: unsupported datafile version "3" (only "4" is supported)`},
		{"datafile not JSON", odp.Config{Datafile: []byte(`{`)}, odp.ErrInvalidDatafile,
			`invalid datafile: not valid JSON: ...`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := odp.NewClient(tc.config)
			if c != nil {
				t.Errorf("a client was returned with the error")
			}
			checkError(t, err, tc.want, tc.msg)
		})
	}
}
