package main

import "syscall"

// groupProcAttr starts a process leading a group of its own, sent SIGTERM if the thread that
// started it exits (Pdeathsig). Go ends a thread only when a goroutine locked to it returns, which
// arbench never does, so in effect this is arbench's death.
func groupProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// childProcAttr makes a load generator child die with arbench (SIGKILL on arbench's death), so
// an interrupted benchmark leaves no load generator running.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
