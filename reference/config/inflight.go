package config

// MinMaxInflight is the least default in-flight bound, so that a runtime declaring tiny queues
// (a test's, or one serving only hosted models) still takes a burst of requests that are refused
// or answered quickly without shedding them.
const MinMaxInflight = 1024

// DefaultMaxInflight is router.max_inflight where the configuration is silent: every request the
// runtime can hold at once, running or waiting (each worker's max_batch plus max_waiting, each
// traffic class's queue_capacity, each provider's max_concurrency), and as many again for requests on their way in or out (being
// authenticated, refused, or sending their last bytes); at least MinMaxInflight. A request past
// that could only wait behind work the runtime cannot start, and would be shed by a full queue
// anyway, after its body was read and decoded and a worker asked: the bound sheds it first,
// for a fraction of the CPU, so that at overload the router's cores go to the work it can serve.
//
// The trade-off: a bound below what the runtime holds would shed requests that a queue would
// have served later; one far above it lets an overloaded router spend its CPU on requests it
// will shed after decoding them, and their latency grows with the backlog (at 10,000/s offered
// to a router serving 5,000/s, seconds). Setting it explicitly trades the one for the other.
func (c *Config) DefaultMaxInflight() int {
	n := 0
	for _, w := range c.Workers {
		n += w.Engine.MaxBatch + w.Engine.MaxWaiting
	}
	for _, k := range c.TrafficClasses {
		n += k.QueueCapacity
	}
	for _, p := range c.Providers {
		n += p.MaxConcurrency
	}
	return max(2*n, MinMaxInflight)
}

func (c *Config) validateInflight(v *validator) {
	if c.Router.MaxInflight < 0 {
		v.add("router.max_inflight", "must not be negative (0 means the default: twice what the workers and class queues hold, at least %d)", MinMaxInflight)
	}
}
