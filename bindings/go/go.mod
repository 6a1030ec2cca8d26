module github.com/libodp/libodp/bindings/go

go 1.21
