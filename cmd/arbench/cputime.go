package main

import (
	"syscall"
	"time"
)

// cpuTime is this process's CPU time so far (user and system), so a run can say how much of the
// shared machine the load generator itself took.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
