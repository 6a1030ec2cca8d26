// Package odp sends events to the Optimizely Data Platform (ODP) through libodp, a native
// library with a C API (include/odp.h). SendOdpEvent has the signature and the messages of the
// Optimizely Go SDK's method, so code moves over unchanged:
//
//	client, err := odp.NewClient(odp.Config{SDKKey: "AbC123"})
//	if err != nil { ... }
//	defer client.Close()
//	_ = client.WaitReady(ctx) // optional: wait for the datafile
//	err = client.SendOdpEvent("fullstack", "purchased",
//		map[string]string{"fs_user_id": "user123"}, map[string]interface{}{"price": 50.0})
//
// All rules (validation, the event format, batching, retries) live in libodp; this package only
// converts Go values to the JSON strings the C API takes and maps its result codes to errors
// (see Error and the Err* sentinels).
//
// Building: cgo compiles against ../../include and links ../../target/release/libodp.so (with an
// rpath to it), so run `cargo build --release --lib` at the repository root first. To use an
// installed libodp instead, override the flags, e.g.
// CGO_CFLAGS=-I/usr/local/include CGO_LDFLAGS="-L/usr/local/lib -lodp".
package odp
