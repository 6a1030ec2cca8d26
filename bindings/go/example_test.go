package odp_test

import (
	"context"
	"errors"
	"log"
	"time"

	odp "github.com/libodp/libodp/bindings/go"
)

// Compiled, not run (it needs an ODP endpoint): the flow of a program.
func ExampleNewClient() {
	client, err := odp.NewClient(odp.Config{
		SDKKey:        "AbC123",
		FlushInterval: odp.Ptr(500 * time.Millisecond),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close() // drains within the configured ShutdownTimeout

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.WaitReady(ctx); err != nil {
		log.Print(err) // sends fail with ErrSDKNotReady until the datafile arrives
	}

	err = client.SendOdpEvent("fullstack", "purchased",
		map[string]string{"fs_user_id": "user123", "email": "user123@example.com"},
		map[string]interface{}{"item": "shirt", "price": 50.0})
	switch {
	case errors.Is(err, odp.ErrQueueFull):
		log.Print("ODP is falling behind: ", err)
	case err != nil:
		log.Print(err)
	}
}
