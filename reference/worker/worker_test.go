package worker

import (
	"errors"
	"testing"

	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/worker/device"
)

func TestNewValidatesOptions(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Options)
		is     error
	}{
		{"no id", func(o *Options) { o.Worker.ID = "" }, ErrOptions},
		{"no token", func(o *Options) { o.Token = "" }, ErrOptions},
		{"no models", func(o *Options) { o.Models = nil }, ErrOptions},
		{"repeated model", func(o *Options) { o.Models[1].Name = "m1"; o.Worker.Models = []string{"m1"} }, ErrOptions},
		{"unnamed model", func(o *Options) { o.Models[1].Name = "" }, ErrOptions},
		{"listed model not described", func(o *Options) { o.Worker.Models = append(o.Worker.Models, "m3") }, ErrOptions},
		{"weights do not fit", func(o *Options) { o.Models[1].WeightsBytes = 4 * gib }, device.ErrOutOfMemory},
		{"no kv left", func(o *Options) { o.Worker.Device.Utilization = 0.1 }, ErrOptions},
		{"zero max batch", func(o *Options) { o.Worker.Engine.MaxBatch = 0 }, ErrOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testOptions("w1")
			o.Models = append([]config.Model(nil), o.Models...)
			tt.mutate(&o)
			if _, err := New(o); !errors.Is(err, tt.is) || !errors.Is(err, ErrOptions) {
				t.Errorf("New = %v, want %v (and ErrOptions)", err, tt.is)
			}
		})
	}
	if _, err := New(testOptions("w1")); err != nil {
		t.Errorf("valid options: %v", err)
	}
}
