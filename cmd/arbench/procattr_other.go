//go:build !linux

package main

import "syscall"

// groupProcAttr starts a process leading a group of its own (no parent-death signal outside
// Linux).
func groupProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// childProcAttr: outside Linux, a load generator child ends by itself when its run ends.
func childProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
