package odp

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The four NUL-terminated arguments of one encoded event.
func argsOf(t *testing.T, a *eventArgs) (eventType, action, ids string, data *string) {
	t.Helper()
	at := func(i int) string { return string(a.buf[i : i+bytes.IndexByte(a.buf[i:], 0)]) }
	eventType, action, ids = at(a.typeAt), at(a.actionAt), at(a.idsAt)
	if a.dataAt >= 0 {
		d := at(a.dataAt)
		data = &d
	}
	return
}

func decode(t *testing.T, text string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		t.Fatalf("not JSON: %q: %v", text, err)
	}
	return v
}

func TestEncodeEventMatchesEncodingJSON(t *testing.T) {
	ids := map[string]string{"fs_user_id": "user123", "e\"mail": "a\\b\n\x01é<>&", "nul": "a\x00b"}
	data := map[string]interface{}{
		"s": "x\ty", "b": true, "n": nil, "f": 50.0, "small": 1e-7, "big": 1e21, "i": -5,
		"i64": int64(math.MaxInt64), "u8": uint8(7), "f32": float32(0.1),
		"nested": map[string]interface{}{"a": []int{1}}, "num": json.Number("12.5"),
	}
	a, err := encodeEvent("fullstack", "purchased", ids, data)
	if err != nil {
		t.Fatal(err)
	}
	defer a.release()
	eventType, action, gotIDs, gotData := argsOf(t, a)
	if eventType != "fullstack" || action != "purchased" || gotData == nil {
		t.Fatalf("arguments: %q %q %v", eventType, action, gotData)
	}
	for _, c := range []struct {
		got  string
		want any
	}{{gotIDs, ids}, {*gotData, data}} {
		want, _ := json.Marshal(c.want)
		if !reflect.DeepEqual(decode(t, c.got), decode(t, string(want))) {
			t.Errorf("encoded %s\nwant     %s", c.got, want)
		}
	}
}

func TestEncodeEventNilMapsAndUnencodableValues(t *testing.T) {
	a, err := encodeEvent("", "a", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _, ids, data := argsOf(t, a)
	a.release()
	if ids != "null" || data != nil {
		t.Fatalf("nil maps: identifiers %q, data %v", ids, data)
	}
	for _, bad := range []interface{}{math.NaN(), math.Inf(-1), float32(math.Inf(1)), make(chan int)} {
		_, err := encodeEvent("", "a", map[string]string{"k": "v"}, map[string]interface{}{"x": bad})
		var unsupported *json.UnsupportedValueError
		var badType *json.UnsupportedTypeError
		if err == nil || !(errors.As(err, &unsupported) || errors.As(err, &badType)) {
			t.Errorf("%v: got %v", bad, err)
		}
	}
	if strings.Contains(string(appendQuoted(nil, "\x7f\u2028")), `\`) {
		t.Error("only quotes, backslashes and control characters are escaped")
	}
}

func BenchmarkEncodeEvent(b *testing.B) {
	ids := map[string]string{"fs_user_id": "user123", "email": "user123@example.com"}
	data := map[string]interface{}{"item": "shirt", "price": 50.0}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		a, _ := encodeEvent("fullstack", "purchased", ids, data)
		a.release()
	}
}

func BenchmarkSendOdpEvent(b *testing.B) {
	// Nothing listens on port 9: events stay queued, so only the call itself is measured.
	c, err := NewClient(Config{OdpAPIKey: "k", OdpAPIHost: "http://127.0.0.1:9",
		QueueCapacity: Ptr(b.N + 1), FlushInterval: Ptr(time.Hour), BatchSize: Ptr(1000),
		ShutdownTimeout: Ptr(time.Duration(0))})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ids := map[string]string{"fs_user_id": "user123", "email": "user123@example.com"}
	data := map[string]interface{}{"item": "shirt", "price": 50.0}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := c.SendOdpEvent("fullstack", "purchased", ids, data); err != nil {
			b.Fatal(err)
		}
	}
}
