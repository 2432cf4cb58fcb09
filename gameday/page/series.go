package page

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/gameday/journal"
)

// Classes are the outcome classes the timeline stacks, bottom up: the served ones first, then
// the refusals, the failures, the indeterminate and (a broken entry with no known class) other.
var Classes = [...]string{
	string(outcome.Completed), string(outcome.Rerouted), string(outcome.Degraded), string(outcome.Shed),
	string(outcome.Rejected), string(outcome.TimedOut), string(outcome.Failed), "indeterminate", "other",
}

// classIndex maps an entry to its place in Classes.
func classIndex(e ledger.Entry) int {
	if e.Indeterminate {
		return len(Classes) - 2
	}
	if i := slices.Index(Classes[:len(Classes)-2], string(e.Outcome)); i >= 0 {
		return i
	}
	return len(Classes) - 1
}

// Second is one tenant's requests that started in one second: how many ended in each class
// (indexed as Classes) and the p50 and p99 of their end-to-end latency, refusals and failures
// included, since that is what the tenant saw.
type Second struct {
	Counts [len(Classes)]int
	N      int
	P50    time.Duration
	P99    time.Duration
}

// TenantSeries is one tenant's seconds, dense from From (seconds since the run began, negative
// for requests sent before it) to From+len(Seconds)-1.
type TenantSeries struct {
	Tenant  string
	From    int
	Seconds []Second
}

// Series is every tenant's per-second series, sorted by tenant.
type Series struct {
	Origin  time.Time
	Tenants []TenantSeries
	// Entries is how many ledger entries went in; Dropped how many were left out for starting
	// outside the run's window (a clock that jumped, a ledger of another day appended).
	Entries int
	Dropped int
}

// seriesSlack is how far before the run's start or after its end an entry may start and still be
// drawn: requests in flight at either edge, and clock skew between the harness's goroutines.
const seriesSlack = time.Minute

// maxSeriesSeconds bounds a tenant's series however far apart its entries' starts are: a day
// (gameday/spec caps a day's phases at 24 h) plus the slack at both ends. A series is dense, so
// entries years apart must not size it.
const maxSeriesSeconds = 24*60*60 + 2*60

// cell is one tenant's second while the ledger is read.
type cell struct {
	counts [len(Classes)]int
	lat    logHist
}

// Aggregate reads the ledger at ledgerPath once and builds every tenant's per-second series,
// each request in the second it started, counted from origin (the run's start). Entries that
// started more than seriesSlack before origin or after end (the run's end; zero when unknown) are
// counted in Dropped and left out, and no series spans more than maxSeriesSeconds. Memory grows
// with seconds × tenants, never with requests: a second keeps counts and a sparse histogram.
func Aggregate(origin, end time.Time, ledgerPath string) (Series, error) {
	cells := map[string]map[int]*cell{}
	out := Series{Origin: origin}
	lo := -int(seriesSlack / time.Second)
	hi := maxSeriesSeconds + lo - 1
	if !end.IsZero() && end.After(origin) {
		hi = min(hi, int(math.Ceil(end.Add(seriesSlack).Sub(origin).Seconds())))
	}
	err := journal.ReadLedger(ledgerPath, func(e ledger.Entry) error {
		off := e.Start.Sub(origin).Seconds()
		if off < float64(lo) || off >= float64(hi+1) {
			out.Dropped++
			return nil
		}
		sec := int(math.Floor(off))
		byTenant := cells[e.Tenant]
		if byTenant == nil {
			byTenant = map[int]*cell{}
			cells[e.Tenant] = byTenant
		}
		c := byTenant[sec]
		if c == nil {
			c = &cell{lat: logHist{}}
			byTenant[sec] = c
		}
		c.counts[classIndex(e)]++
		c.lat.record(e.Latency())
		out.Entries++
		return nil
	})
	if err != nil {
		return Series{}, err
	}
	for tenant, byTenant := range cells {
		lo, hi := math.MaxInt, math.MinInt
		for s := range byTenant {
			lo, hi = min(lo, s), max(hi, s)
		}
		ts := TenantSeries{Tenant: tenant, From: lo, Seconds: make([]Second, hi-lo+1)}
		for s, c := range byTenant {
			sec := &ts.Seconds[s-lo]
			sec.Counts = c.counts
			for _, n := range c.counts {
				sec.N += n
			}
			sec.P50, sec.P99 = c.lat.quantile(0.5, sec.N), c.lat.quantile(0.99, sec.N)
		}
		out.Tenants = append(out.Tenants, ts)
	}
	slices.SortFunc(out.Tenants, func(a, b TenantSeries) int { return strings.Compare(a.Tenant, b.Tenant) })
	return out, nil
}

// logGrowth is the width of a logHist bucket: each is 1% wider than the one below, so a
// quantile read from a bucket's geometric middle is within 0.5% of the true value, and a second
// holds at most about 1,800 buckets from 1µs to a minute, however many requests it saw.
// (chaos/traffic.Latencies is exact to 0.1% but costs about 140 KiB a histogram: a ten-minute
// day with five tenants would need 400 MB for the page alone.)
const logGrowth = 1.01

// logHist counts latencies by logarithmic bucket, keeping only the buckets used.
type logHist map[int32]uint32

func (h logHist) record(d time.Duration) {
	us := max(float64(d)/float64(time.Microsecond), 1)
	h[int32(math.Floor(math.Log(us)/math.Log(logGrowth)))]++
}

// quantile is the latency at q of the n recorded: the geometric middle of the bucket holding
// the ceil(q·n)-th smallest.
func (h logHist) quantile(q float64, n int) time.Duration {
	if n == 0 {
		return 0
	}
	rank := max(uint32(math.Ceil(q*float64(n))), 1)
	keys := make([]int32, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var seen uint32
	for _, k := range keys {
		if seen += h[k]; seen >= rank {
			return time.Duration(math.Pow(logGrowth, float64(k)+0.5) * float64(time.Microsecond))
		}
	}
	return 0
}
