package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNginxStopLeavesNoProcess: make bench once left nginx's worker processes running after it
// exited (the master was killed, its workers orphaned). Stopping the nginx row must end the
// master and every worker it forked.
func TestNginxStopLeavesNoProcess(t *testing.T) {
	if _, err := exec.LookPath("nginx"); err != nil && !fileExists("/usr/sbin/nginx") {
		if os.Getenv("CI") != "" {
			t.Fatal("nginx is not installed, and CI installs it (.ci/run)")
		}
		t.Skip("nginx is not installed")
	}
	_, stop, err := startNginx("127.0.0.1:1", "127.0.0.1:2") // no worker or backend needed: nothing is sent
	if err != nil {
		t.Fatal(err)
	}
	pgid := nginxGroup(t)
	if n := len(groupMembers(t, pgid)); n < 2 {
		stop()
		t.Fatalf("nginx's group %d has %d processes, want its master and a worker", pgid, n)
	}
	stop()
	if left := groupMembers(t, pgid); len(left) > 0 {
		t.Fatalf("after stop, processes %v of nginx's group %d are still running", left, pgid)
	}
}

// nginxGroup is the process group of the nginx master this test started (its command line names
// the temporary directory nginxTarget made).
func nginxGroup(t *testing.T) int {
	t.Helper()
	for _, pid := range pids(t) {
		cmdline, _ := os.ReadFile(filepath.Join("/proc", pid, "cmdline"))
		if strings.Contains(string(cmdline), "master process") && strings.Contains(string(cmdline), "arbench-nginx-") {
			if pgrp := processGroup(pid); pgrp > 0 && childOf(pid, os.Getpid()) {
				return pgrp
			}
		}
	}
	t.Fatal("no nginx master started by this test is running")
	return 0
}

// groupMembers lists the live nginx processes of group pgid (zombies, already dead, excluded).
func groupMembers(t *testing.T, pgid int) []string {
	t.Helper()
	var members []string
	for _, pid := range pids(t) {
		cmdline, _ := os.ReadFile(filepath.Join("/proc", pid, "cmdline"))
		if strings.HasPrefix(string(cmdline), "nginx:") && processGroup(pid) == pgid && statField(pid, 0) != "Z" {
			members = append(members, pid)
		}
	}
	return members
}

func pids(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, e.Name())
		}
	}
	return out
}

// statField is field i (0-based, counted after the command name) of /proc/PID/stat: 0 state,
// 1 parent, 2 process group. The command name is skipped by its closing parenthesis, since it
// may hold spaces.
func statField(pid string, i int) string {
	b, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return ""
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if i >= len(fields) {
		return ""
	}
	return fields[i]
}

func processGroup(pid string) int { n, _ := strconv.Atoi(statField(pid, 2)); return n }

func childOf(pid string, parent int) bool { return statField(pid, 1) == strconv.Itoa(parent) }

func fileExists(path string) bool { _, err := os.Stat(path); return err == nil }
