package odp

import (
	"encoding/json"
	"math"
	"strconv"
	"sync"
)

// An event on its way to odp_send_event: the four arguments as NUL-terminated strings in one
// buffer, so a send costs one allocation-free cgo call instead of four C.CString copies. The
// library copies what it keeps; the buffer is reused.
type eventArgs struct {
	buf                     []byte
	typeAt, actionAt, idsAt int
	dataAt                  int // -1: no data (NULL)
}

var argsPool = sync.Pool{New: func() any { return &eventArgs{buf: make([]byte, 0, 512)} }}

// encodeEvent builds the arguments. Identifiers and data are written as compact JSON directly
// for the common value types (no reflection); any other value goes through encoding/json.
// Which values are acceptable is the library's to say, not this encoder's: it only refuses
// what JSON cannot hold (NaN, ±Inf, values encoding/json cannot marshal).
func encodeEvent(eventType, action string, identifiers map[string]string, data map[string]interface{}) (*eventArgs, error) {
	a := argsPool.Get().(*eventArgs)
	b := a.buf[:0]
	a.typeAt = len(b)
	b = append(append(b, eventType...), 0)
	a.actionAt = len(b)
	b = append(append(b, action...), 0)
	a.idsAt = len(b)
	if identifiers == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '{')
		first := true
		for k, v := range identifiers {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendQuoted(append(appendQuoted(b, k), ':'), v)
		}
		b = append(b, '}')
	}
	b = append(b, 0)
	a.dataAt = -1
	if data != nil {
		a.dataAt = len(b)
		b = append(b, '{')
		first := true
		for k, v := range data {
			if !first {
				b = append(b, ',')
			}
			first = false
			var err error
			if b, err = appendValue(append(appendQuoted(b, k), ':'), v); err != nil {
				a.release()
				return nil, err
			}
		}
		b = append(b, '}', 0)
	}
	a.buf = b
	return a, nil
}

func (a *eventArgs) release() {
	if cap(a.buf) <= 64<<10 { // let one huge event's buffer go
		argsPool.Put(a)
	}
}

func appendValue(b []byte, v interface{}) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendQuoted(b, v), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case float64:
		return appendFloat(b, v, 64)
	case float32:
		return appendFloat(b, float64(v), 32)
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case int32:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int8:
		return strconv.AppendInt(b, int64(v), 10), nil
	case uint:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint64:
		return strconv.AppendUint(b, v, 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint16:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint8:
		return strconv.AppendUint(b, uint64(v), 10), nil
	default:
		// Nested maps, slices, json.Number, structs…: the library decides what it accepts.
		text, err := marshal(v)
		if err != nil {
			return b, err
		}
		return append(b, text...), nil
	}
}

func appendFloat(b []byte, f float64, bits int) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, &json.UnsupportedValueError{Str: strconv.FormatFloat(f, 'g', -1, bits)}
	}
	return strconv.AppendFloat(b, f, 'g', -1, bits), nil
}

// appendQuoted appends s as a JSON string: `"`, `\` and control characters escaped, everything
// else as it is (bytes that are not UTF-8 included: the library reports those).
func appendQuoted(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	return append(append(b, s[start:]...), '"')
}
