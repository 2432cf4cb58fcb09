package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The server side's CPU per request: what the process serving a path spent, divided by the
// requests it answered. Latency on a shared two-core machine moves with whatever else runs;
// CPU per request moves with the code, so it is the figure that shows a hot-path change.

// clockTicks is Linux's USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100 on every
// architecture Go supports (the kernel's internal HZ differs, USER_HZ does not).
const clockTicks = 100

// serverCPU is the CPU time so far of this process (the router, its worker and the trivial
// backend all live here) plus, when nginxGroup is not 0, of every process in nginx's group.
func serverCPU(nginxGroup int) time.Duration {
	cpu := cpuTime()
	if nginxGroup != 0 {
		cpu += groupCPU(nginxGroup)
	}
	return cpu
}

// groupCPU sums user and system time of the live processes of group pgid, read from /proc (0
// where there is no /proc).
func groupCPU(pgid int) time.Duration {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	for _, path := range stats {
		b, err := os.ReadFile(path) //nolint:gosec // a /proc path from the glob above
		if err != nil {
			continue // the process ended between the glob and the read
		}
		if group, cpu, ok := parseProcStat(string(b)); ok && group == pgid {
			ticks += cpu
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// parseProcStat reads the process group (field 5) and utime+stime (fields 14 and 15, in clock
// ticks) from one /proc/<pid>/stat line. The command name (field 2) is in parentheses and may
// hold spaces or parentheses, so fields are counted after its last ')'.
func parseProcStat(line string) (pgrp int, ticks int64, ok bool) {
	end := strings.LastIndexByte(line, ')')
	if end < 0 {
		return 0, 0, false
	}
	f := strings.Fields(line[end+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, 0, false
	}
	pg, err1 := strconv.Atoi(f[2])
	ut, err2 := strconv.ParseInt(f[11], 10, 64)
	st, err3 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, false
	}
	return pg, ut + st, true
}
