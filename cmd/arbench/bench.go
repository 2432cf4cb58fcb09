package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

// benchPath is one path the out-of-process benchmark drives.
type benchPath struct {
	name, kind, addr, secret string
	// profile names the path in profile file names; empty for a path never profiled.
	profile string
	// nginxGroup is nginx's process group for a path through nginx (0 otherwise): its CPU is
	// the path's server side, with this process's.
	nginxGroup int
}

// runKey names one (path, rate) cell of the results.
type runKey struct {
	path string
	rate float64
}

// runOut is one load generator run's figures, with the repeat it belonged to.
type runOut struct {
	repeat int
	loadResult
	// serverCPU is what the path's server side (this process, and nginx for an nginx path)
	// spent during the run, the load generator's warm-up included.
	serverCPU time.Duration
}

// pauseBetweenRuns lets one run's connections close and its garbage be collected before the next.
const pauseBetweenRuns = 300 * time.Millisecond

// runPaths runs every path at every rate, s.repeats times, interleaved: within a repeat each rate
// runs every path back to back (in an order rotated per repeat), so a drift of the machine over
// the benchmark falls on every path alike and a ratio compares runs seconds apart. Then each
// repeat offers s.overloadRate to the router's two doors. Results are keyed by path and rate.
func runPaths(ctx context.Context, s settings, paths []benchPath, router []benchPath) (map[runKey][]runOut, error) {
	out := map[runKey][]runOut{}
	for rep := range s.repeats {
		for _, rate := range s.rates {
			for i := range paths {
				p := paths[(i+rep)%len(paths)]
				res, err := loadRun(ctx, s, p, rate, rep)
				if err != nil {
					return nil, err
				}
				out[runKey{p.name, rate}] = append(out[runKey{p.name, rate}], res)
			}
		}
		if s.overloadRate > 0 {
			for _, p := range router {
				res, err := loadRun(ctx, s, p, s.overloadRate, rep)
				if err != nil {
					return nil, err
				}
				out[runKey{p.name, s.overloadRate}] = append(out[runKey{p.name, s.overloadRate}], res)
			}
		}
	}
	return out, nil
}

// loadgenArgs are the arguments of `arbench loadgen` for one path at one rate in repeat rep.
func loadgenArgs(s settings, p benchPath, rate float64, rep int) []string {
	return []string{"loadgen", "-kind", p.kind, "-addr", p.addr,
		"-rate", strconv.FormatFloat(rate, 'f', -1, 64), "-duration", s.duration.String(),
		"-seed", strconv.FormatInt(s.seed+int64(rep), 10), "-max-tokens", strconv.Itoa(s.maxTokens)}
}

// loadRun starts `arbench loadgen` for one path at one rate and returns what it printed. In the
// first repeat, a profiled path at a profiled rate is profiled (CPU, and allocations as a pair of
// heap profiles to diff) in this process, which hosts the router and the worker.
func loadRun(ctx context.Context, s settings, p benchPath, rate float64, rep int) (runOut, error) {
	goruntime.GC()
	time.Sleep(pauseBetweenRuns)
	fmt.Fprintf(os.Stderr, "arbench: repeat %d, %s at %.0f/s\n", rep+1, p.name, rate)
	self, err := os.Executable()
	if err != nil {
		return runOut{}, err
	}
	// self is this very binary (os.Executable), started again as the load generator.
	cmd := exec.CommandContext(ctx, self, loadgenArgs(s, p, rate, rep)...) //nolint:gosec // see above
	cmd.Env = append(os.Environ(), loadgenSecretEnv+"="+p.secret)
	cmd.SysProcAttr = childProcAttr()
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	stopProfile := func() {}
	if rep == 0 && s.profileDir != "" && p.profile != "" && s.profileRates[rate] {
		if stopProfile, err = startProfiles(s.profileDir, fmt.Sprintf("%s-%.0f", p.profile, rate)); err != nil {
			return runOut{}, err
		}
	}
	cpu0 := serverCPU(p.nginxGroup)
	err = cmd.Run()
	cpu := serverCPU(p.nginxGroup) - cpu0
	stopProfile()
	if err != nil {
		return runOut{}, fmt.Errorf("loadgen for %s at %.0f/s: %w", p.name, rate, err)
	}
	res := runOut{repeat: rep, serverCPU: cpu}
	if err := json.Unmarshal(stdout.Bytes(), &res.loadResult); err != nil {
		return runOut{}, fmt.Errorf("loadgen for %s printed %q: %w", p.name, stdout.String(), err)
	}
	return res, nil
}

// startProfiles starts a CPU profile to dir/name.cpu.pprof and writes the allocation profile to
// dir/name.allocs-before.pprof; the returned function stops the CPU profile and writes
// dir/name.allocs.pprof, so `go tool pprof -base ...allocs-before.pprof ...allocs.pprof` is the
// run's allocations alone. The loadgen's warm-up is inside the window, a small share of it.
func startProfiles(dir, name string) (func(), error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	writeHeap := func(suffix string) {
		f, err := os.Create(filepath.Join(dir, name+suffix))
		if err != nil {
			fmt.Fprintln(os.Stderr, "arbench: profile:", err)
			return
		}
		_ = pprof.Lookup("allocs").WriteTo(f, 0)
		_ = f.Close()
	}
	writeHeap(".allocs-before.pprof")
	f, err := os.Create(filepath.Join(dir, name+".cpu.pprof"))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
		writeHeap(".allocs.pprof")
	}, nil
}

// parseRates reads "1000,5000,10000".
func parseRates(list string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		r, err := strconv.ParseFloat(f, 64)
		if err != nil || !(r > 0) {
			return nil, fmt.Errorf("rate %q: want a positive number of requests per second", f)
		}
		out = append(out, r)
	}
	return out, nil
}
