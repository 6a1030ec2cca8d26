module github.com/libodp/libodp/examples/go

go 1.21

require github.com/libodp/libodp/bindings/go v0.0.0

replace github.com/libodp/libodp/bindings/go => ../../bindings/go
