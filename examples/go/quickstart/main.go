// Command quickstart is the Go version of examples/c/quickstart.c: create a client by SDK key,
// wait for the datafile, send one ODP event, flush, close.
//
//	go run ./quickstart [COLLECTOR_URL]     (default: http://127.0.0.1:8080)
//
// The collector (`target/release/examples/collector --port 0`) serves the datafile for SDK key
// "AbC123", whose ODP integration points back at the collector, and receives the event.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	odp "github.com/libodp/libodp/bindings/go"
)

func main() {
	collector := "http://127.0.0.1:8080"
	if len(os.Args) > 1 {
		collector = os.Args[1]
	}
	if err := run(collector); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(collector string) error {
	fmt.Printf("libodp %s\n", odp.Version())

	client, err := odp.NewClient(odp.Config{
		SDKKey:              "AbC123",
		DatafileURLTemplate: collector + "/datafiles/{sdk_key}.json",
	})
	if err != nil {
		return fmt.Errorf("NewClient: %w", err)
	}
	defer client.Close() // a no-op after the explicit Close below

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.WaitReady(ctx); err != nil {
		return fmt.Errorf("WaitReady: %w", err)
	}
	fmt.Println("datafile loaded from", collector)

	err = client.SendOdpEvent("fullstack", "purchased",
		map[string]string{"fs_user_id": "user123", "email": "user123@example.com"},
		map[string]interface{}{"item": "shirt", "price": 50.0})
	if err != nil {
		return fmt.Errorf("SendOdpEvent: %w", err)
	}
	fmt.Println("event accepted")

	// An invalid event, to show the error path: an empty action.
	err = client.SendOdpEvent("", "", map[string]string{"fs_user_id": "user123"}, nil)
	var e *odp.Error
	if errors.As(err, &e) && errors.Is(err, odp.ErrInvalidAction) {
		fmt.Printf("invalid event refused: %s: %s\n", e.Name, e.Detail)
	}

	if err := client.Flush(ctx); err != nil {
		return fmt.Errorf("Flush: %w", err)
	}
	stats, err := client.Stats()
	if err != nil {
		return fmt.Errorf("Stats: %w", err)
	}
	fmt.Printf("accepted=%d delivered=%d pending=%d dropped=%d batches=%d\n",
		stats.Accepted, stats.Delivered, stats.Pending,
		stats.DroppedRejected+stats.DroppedShutdown, stats.BatchesSent)

	if err := client.Close(); err != nil {
		return fmt.Errorf("Close: %w", err)
	}
	fmt.Println("closed")
	return nil
}
