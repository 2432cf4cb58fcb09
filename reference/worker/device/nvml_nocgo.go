//go:build !cgo

package device

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aruntime/arcert/reference/attest"
)

// NVML is unavailable in a binary built without cgo (the container images):
// go-nvml needs cgo to load the driver's library. Such binaries run the
// simulated device.
type NVML struct{}

// OpenDefault reports ErrNoNVML: this binary was built without cgo.
func OpenDefault(int) (*NVML, error) {
	return nil, fmt.Errorf("%w: built without cgo", ErrNoNVML)
}

// DiscoverDefault reports ErrNoNVML: this binary was built without cgo.
func DiscoverDefault() ([]Discovered, error) {
	return nil, fmt.Errorf("%w: built without cgo", ErrNoNVML)
}

// The methods below make the stub a Device; OpenDefault never returns one.

// Info implements Device.
func (*NVML) Info() Info { return Info{} }

// Reserve implements Device.
func (*NVML) Reserve(uint64) error { return ErrNoNVML }

// Release implements Device.
func (*NVML) Release(uint64) {}

// KVCapacityTokens implements Device.
func (*NVML) KVCapacityTokens(uint64, float64) int { return 0 }

// SetLogger does nothing: the stub logs nothing.
func (*NVML) SetLogger(*slog.Logger) {}

// Close implements io.Closer.
func (*NVML) Close() error { return nil }

// WatchEvents implements EventSource.
func (*NVML) WatchEvents(ctx context.Context, _ func(Event)) error { <-ctx.Done(); return ctx.Err() }

// Attest reports ErrNotAttested: this binary was built without cgo.
func (*NVML) Attest(string, string) (attest.Signed, error) {
	return attest.Signed{}, fmt.Errorf("%w: built without cgo", ErrNotAttested)
}
