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
	var group time.Duration
	if nginxGroup != 0 {
		group = groupCPU(nginxGroup) // first, so the /proc scan falls outside the run's window
	}
	return group + cpuTime()
}

// groupCPU sums user and system time of the live processes of group pgid and of the children
// they have reaped (so an nginx worker the master replaced still counts), read from /proc (0
// where there is no /proc).
func groupCPU(pgid int) time.Duration {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // the process ended between the glob and the read
		}
		if group, cpu, ok := parseProcStat(string(b)); ok && group == pgid {
			ticks += cpu
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// parseProcStat reads the process group (field 5) and utime+stime+cutime+cstime (fields 14 to
// 17, in clock ticks: the process's own CPU and its reaped children's) from one /proc/<pid>/stat
// line. The command name (field 2) is in parentheses and may
// hold spaces or parentheses, so fields are counted after its last ')'.
func parseProcStat(line string) (pgrp int, ticks int64, ok bool) {
	end := strings.LastIndexByte(line, ')')
	if end < 0 {
		return 0, 0, false
	}
	f := strings.Fields(line[end+1:]) // f[0] is field 3 (state)
	if len(f) < 15 {
		return 0, 0, false
	}
	pg, err := strconv.Atoi(f[2])
	if err != nil {
		return 0, 0, false
	}
	for _, field := range f[11:15] {
		n, err := strconv.ParseInt(field, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		ticks += n
	}
	return pg, ticks, true
}
