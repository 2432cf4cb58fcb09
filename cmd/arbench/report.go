package main

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// The report: per rate and path, the median over repeats of each run's p50 and p99 (and the worst
// p99), every request's outcome summed over repeats, and the p99 ratio to the nginx path that does
// the same job, computed per repeat (runs seconds apart) and given as the median of repeats.

// nginxOf names, for each router path, the nginx path it is compared with.
var nginxOf = map[string]string{
	pathRouterHTTP: pathNginxHTTP, pathRouterGRPC: pathNginxGRPC,
	pathGoProxy: pathNginxHTTP, pathFastProxy: pathNginxHTTP, pathGRPCHop: pathNginxHTTP, pathFastGRPCHop: pathNginxHTTP, pathMixedProxy: pathNginxHTTP,
}

const (
	pathWorker      = "worker, gRPC direct"
	pathNginxGRPC   = "nginx grpc_pass → worker"
	pathRouterGRPC  = "router, gRPC"
	pathNginxHTTP   = "nginx proxy_pass → Go backend"
	pathRouterHTTP  = "router, OpenAI HTTP"
	pathGoProxy     = "floor: Go ReverseProxy → Go backend"
	pathFastProxy   = "floor: fasthttp proxy → Go backend"
	pathGRPCHop     = "floor: net/http + gRPC hop → worker"
	pathFastGRPCHop = "floor: fasthttp + gRPC hop → worker"
	pathMixedProxy  = "floor: net/http + fasthttp client → Go backend"
)

// cell summarises one (path, rate) over its repeats.
type cell struct {
	p50, p99, worstP99, shedP99 time.Duration
	sent, served, shed          int64
	connErrors, failed          int64
	firstError, firstShed       string
	loadgenCPU                  float64 // the load generator's CPU, in cores
	// serverCPUPerReq is the server side's CPU over every request it was sent, the load
	// generator's warm-up included.
	serverCPUPerReq time.Duration
}

func summarise(runs []runOut) cell {
	var c cell
	var p50s, p99s, shedP99s []time.Duration
	var cpu, wall, server time.Duration
	var requests int64
	for _, r := range runs {
		server += r.serverCPU
		requests += int64(r.Sent) + loadgenWarmup
		p50s, p99s = append(p50s, us(r.P50us)), append(p99s, us(r.P99us))
		if r.Shed > 0 {
			shedP99s = append(shedP99s, us(r.ShedP99us))
		}
		c.worstP99 = max(c.worstP99, us(r.P99us))
		c.sent += int64(r.Sent)
		c.served, c.shed, c.connErrors, c.failed = c.served+r.Served, c.shed+r.Shed, c.connErrors+r.ConnErrors, c.failed+r.Failed
		if c.firstError == "" {
			c.firstError = r.FirstError
		}
		if c.firstShed == "" {
			c.firstShed = r.FirstShed
		}
		cpu += time.Duration(r.CPUms) * time.Millisecond
		wall += time.Duration(r.ElapsedMs) * time.Millisecond
	}
	c.p50, c.p99, c.shedP99 = median(p50s), median(p99s), slices.Max(append(shedP99s, 0))
	if wall > 0 {
		c.loadgenCPU = cpu.Seconds() / wall.Seconds()
	}
	if requests > 0 {
		c.serverCPUPerReq = server / time.Duration(requests)
	}
	return c
}

func us(v int64) time.Duration { return time.Duration(v) * time.Microsecond }

// median of ds (the upper one of an even count); 0 for none.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// ratioP99 is the median over repeats of path's p99 over its nginx path's p99 in the same repeat.
func ratioP99(res map[runKey][]runOut, path string, rate float64) (float64, bool) {
	ng, ok := nginxOf[path]
	if !ok {
		return 0, false
	}
	byRep := map[int]int64{}
	for _, r := range res[runKey{ng, rate}] {
		byRep[r.repeat] = r.P99us
	}
	var ratios []float64
	for _, r := range res[runKey{path, rate}] {
		if n, ok := byRep[r.repeat]; ok && n > 0 {
			ratios = append(ratios, float64(r.P99us)/float64(n))
		}
	}
	if len(ratios) == 0 {
		return 0, false
	}
	slices.Sort(ratios)
	return ratios[len(ratios)/2], true
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()*1000) }

// printReport prints the table, then the targets with whether this run met them.
func printReport(w io.Writer, s settings, res map[runKey][]runOut, paths []benchPath) {
	fmt.Fprintf(w, "%d repeats of %s per path and rate, interleaved; p50/p99 are medians over repeats (latency from the scheduled send), counts are summed.\n\n", s.repeats, s.duration)
	fmt.Fprintln(w, "| rate/s | path | p50 ms | p99 ms | worst p99 ms | p99 ÷ nginx | served | shed | unanswered | other errors | loadgen CPU | server CPU µs/req |")
	fmt.Fprintln(w, "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	rates := slices.Clone(s.rates)
	if s.overloadRate > 0 {
		rates = append(rates, s.overloadRate)
	}
	for _, rate := range rates {
		for _, p := range paths {
			runs := res[runKey{p.name, rate}]
			if len(runs) == 0 {
				continue
			}
			c := summarise(runs)
			ratio := "–"
			if r, ok := ratioP99(res, p.name, rate); ok {
				ratio = fmt.Sprintf("%.2f", r)
			}
			fmt.Fprintf(w, "| %.0f | %s | %s | %s | %s | %s | %d of %d | %d | %d | %d | %.2f cores | %.0f |\n", rate, p.name,
				ms(c.p50), ms(c.p99), ms(c.worstP99), ratio, c.served, c.sent, c.shed, c.connErrors, c.failed, c.loadgenCPU,
				float64(c.serverCPUPerReq)/float64(time.Microsecond))
		}
	}
	fmt.Fprintln(w)
	for _, rate := range rates {
		for _, p := range paths {
			c := summarise(res[runKey{p.name, rate}])
			if c.firstError != "" {
				fmt.Fprintf(w, "%s at %.0f/s, first error: %s\n", p.name, rate, c.firstError)
			}
			if c.firstShed != "" {
				fmt.Fprintf(w, "%s at %.0f/s, first shed: %s\n", p.name, rate, c.firstShed)
			}
		}
	}
	printTargets(w, s, res)
}

// printTargets checks the targets against this run's figures.
func printTargets(w io.Writer, s settings, res map[runKey][]runOut) {
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	fmt.Fprintln(w, "\nTargets (issue #17):")
	if runs := res[runKey{pathRouterHTTP, 10000}]; len(runs) > 0 {
		c := summarise(runs)
		r, _ := ratioP99(res, pathRouterHTTP, 10000)
		fmt.Fprintf(w, "- 10,000/s router HTTP: p99 %s ms (≤ 10), %.2f× nginx proxy_pass (≤ 2), %d errors (0): %s\n",
			ms(c.p99), r, c.connErrors+c.failed+c.shed, verdict(c.p99 <= 10*time.Millisecond && r <= 2 && c.connErrors+c.failed+c.shed == 0))
	}
	if runs := res[runKey{pathRouterHTTP, 1000}]; len(runs) > 0 {
		d := summarise(runs).p50 - summarise(res[runKey{pathWorker, 1000}]).p50
		fmt.Fprintf(w, "- 1,000/s router HTTP p50 over worker direct: %s ms (≤ 0.2): %s\n", ms(d), verdict(d <= 200*time.Microsecond))
	}
	if s.overloadRate > 0 {
		c := summarise(res[runKey{pathRouterHTTP, s.overloadRate}])
		fmt.Fprintf(w, "- %.0f/s offered to router HTTP: %d served, %d shed, %d unanswered (0), shed p99 %s ms (≤ 5): %s\n",
			s.overloadRate, c.served, c.shed, c.connErrors+c.failed, ms(c.shedP99), verdict(c.connErrors+c.failed == 0 && c.shedP99 <= 5*time.Millisecond))
	}
}
