package main

import (
	"time"

	"github.com/prometheus/procfs"
)

// The server side's CPU per request: what the process serving a path spent, divided by the
// requests it answered. Latency on a shared two-core machine moves with whatever else runs;
// CPU per request moves with the code, so it is the figure that shows a hot-path change.

// clockTicks is Linux's USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100 on every
// architecture Go supports (the kernel's internal HZ differs, USER_HZ does not; procfs assumes
// the same for its ProcStat.CPUTime).
const clockTicks = 100

// serverCPU is the CPU time so far of this process (the router, its worker and the trivial
// backend all live here) plus, when nginxGroup is not 0, of every process in nginx's group.
func serverCPU(nginxGroup int) time.Duration {
	var group time.Duration
	if nginxGroup != 0 {
		// Before cpuTime: the scan at a run's start stays out of the run (a millisecond or so
		// of the one at its end is in).
		group = groupCPU(nginxGroup)
	}
	return group + cpuTime()
}

// groupCPU sums user and system time of the live processes of group pgid and of the children
// they have reaped (so an nginx worker the master replaced still counts), read from /proc by
// prometheus/procfs (0 where there is no /proc).
func groupCPU(pgid int) time.Duration {
	procs, err := procfs.AllProcs()
	if err != nil {
		return 0
	}
	var ticks int64
	for _, p := range procs {
		st, err := p.Stat()
		if err != nil || st.PGRP != pgid {
			continue // the process ended between the listing and the read, or is another group's
		}
		ticks += int64(st.UTime) + int64(st.STime) + int64(st.CUTime) + int64(st.CSTime)
	}
	return time.Duration(ticks) * time.Second / clockTicks
}
