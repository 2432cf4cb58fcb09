package worker

import (
	"github.com/prometheus/client_golang/prometheus"
)

// DeviceMetrics exports a worker's device state to Prometheus, so an operator sees pressure
// coming and what the residency policy gave up: free memory, pressure, resident models, the L1
// capacity left, model evictions, device faults and work shed for pressure. A nil *DeviceMetrics
// records nothing.
type DeviceMetrics struct {
	free, pressure, resident, l1         prometheus.Gauge
	episodes, faults, shed, evictedModel prometheus.Counter
	forget                               []func() bool
}

// Forget drops worker id's series from the shared vectors, as StepMetrics.Forget does.
func (m *DeviceMetrics) Forget() {
	for _, f := range m.forget {
		f()
	}
}

// NewDeviceMetrics returns the device metrics of worker id; workers of one process share the
// vectors on reg, told apart by the worker label.
func NewDeviceMetrics(reg prometheus.Registerer, id string) (*DeviceMetrics, error) {
	m := &DeviceMetrics{}
	gauge := func(name, help string) (prometheus.Gauge, error) {
		v, err := register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{"worker"}))
		if err != nil {
			return nil, err
		}
		m.forget = append(m.forget, func() bool { return v.DeleteLabelValues(id) })
		return v.WithLabelValues(id), nil
	}
	counter := func(name, help string) (prometheus.Counter, error) {
		v, err := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"worker"}))
		if err != nil {
			return nil, err
		}
		m.forget = append(m.forget, func() bool { return v.DeleteLabelValues(id) })
		return v.WithLabelValues(id), nil
	}
	var err error
	for _, g := range []struct {
		dst        *prometheus.Gauge
		name, help string
	}{
		{&m.free, "aruntime_worker_device_free_bytes", "Free device memory as the worker last read it."},
		{&m.pressure, "aruntime_worker_device_pressure", "1 while free device memory is under the declared threshold."},
		{&m.resident, "aruntime_worker_resident_models", "Models whose weights are on the device."},
		{&m.l1, "aruntime_worker_l1_capacity_blocks", "L1 prefix-cache capacity now; it shrinks under pressure."},
	} {
		if *g.dst, err = gauge(g.name, g.help); err != nil {
			return nil, err
		}
	}
	for _, c := range []struct {
		dst        *prometheus.Counter
		name, help string
	}{
		{&m.episodes, "aruntime_worker_device_pressure_episodes_total", "Times the device came under memory pressure."},
		{&m.faults, "aruntime_worker_device_faults_total", "XID and ECC events that made the worker drain."},
		{&m.shed, "aruntime_worker_device_pressure_shed_total", "Requests refused for device pressure."},
		{&m.evictedModel, "aruntime_worker_model_evictions_total", "Models evicted from the device under pressure."},
	} {
		if *c.dst, err = counter(c.name, c.help); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *DeviceMetrics) set(free uint64, pressure bool, resident, l1 int) {
	if m == nil {
		return
	}
	m.free.Set(float64(free))
	p := 0.0
	if pressure {
		p = 1
	}
	m.pressure.Set(p)
	m.resident.Set(float64(resident))
	m.l1.Set(float64(l1))
}

func (m *DeviceMetrics) pressureEpisode() {
	if m != nil {
		m.episodes.Inc()
	}
}

func (m *DeviceMetrics) modelEvicted(string) {
	if m != nil {
		m.evictedModel.Inc()
	}
}

func (m *DeviceMetrics) fault() {
	if m != nil {
		m.faults.Inc()
	}
}

func (m *DeviceMetrics) shedPressure() {
	if m != nil {
		m.shed.Inc()
	}
}
