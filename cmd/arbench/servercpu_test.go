package main

import (
	"syscall"
	"testing"
	"time"
)

// TestGroupCPUCountsTheGroup: CPU this process spends shows in its own process group's figure
// (read from /proc as for nginx's group); a group nobody is in counts nothing.
func TestGroupCPUCountsTheGroup(t *testing.T) {
	group := syscall.Getpgrp()
	before := groupCPU(group)
	spins := 0
	for start := cpuTime(); cpuTime()-start < 200*time.Millisecond; {
		spins++ // 200 ms of this process's CPU: 20 of /proc's 10 ms ticks
	}
	if got := groupCPU(group) - before; got < 100*time.Millisecond {
		t.Fatalf("group %d's CPU rose by %v while this process spent 200 ms in it (%d spins)", group, got, spins)
	}
	if got := groupCPU(1 << 30); got != 0 {
		t.Errorf("a group with no process counts %v", got)
	}
}
