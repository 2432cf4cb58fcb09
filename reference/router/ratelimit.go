package router

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/aruntime/arcert/reference/outcomehttp"
)

// The rate-limit headers of OpenAI's API, which SDKs and gateways already read. Limits are the
// tenant's declared per-minute quotas; remaining is what it may send now (the token bucket's fill,
// at most a burst); reset is how long the bucket takes to refill to its burst. ("tokens" here are
// model tokens, not credentials, whatever gosec's G101 guesses from the names.)
const (
	HeaderLimitRequests     = "x-ratelimit-limit-requests"
	HeaderRemainingRequests = "x-ratelimit-remaining-requests"
	HeaderResetRequests     = "x-ratelimit-reset-requests"
	HeaderLimitTokens       = "x-ratelimit-limit-tokens"     //nolint:gosec // model tokens
	HeaderRemainingTokens   = "x-ratelimit-remaining-tokens" //nolint:gosec // model tokens
	HeaderResetTokens       = "x-ratelimit-reset-tokens"     //nolint:gosec // model tokens
)

// The rate-limit headers' canonical keys: OpenAI spells them in lower case, which http.Header.Set
// would canonicalise (allocating) on every response; the wire shows the canonical form either way.
var (
	keyLimitRequests     = http.CanonicalHeaderKey(HeaderLimitRequests)
	keyRemainingRequests = http.CanonicalHeaderKey(HeaderRemainingRequests)
	keyResetRequests     = http.CanonicalHeaderKey(HeaderResetRequests)
	keyLimitTokens       = http.CanonicalHeaderKey(HeaderLimitTokens)
	keyRemainingTokens   = http.CanonicalHeaderKey(HeaderRemainingTokens)
	keyResetTokens       = http.CanonicalHeaderKey(HeaderResetTokens)
)

// setRateLimit states tenant's quota as it stands now in h; nothing for a caller with no tenant
// (refused before its credential was known).
func (r *Router) setRateLimit(h http.Header, tenant string) {
	q, ok := r.adm.Quota(tenant)
	if !ok {
		return
	}
	outcomehttp.SetKeys(h,
		keyLimitRequests, strconv.Itoa(q.RequestsPerMinute),
		keyRemainingRequests, whole(q.RequestsRemaining),
		keyResetRequests, resetIn(q.RequestsFullIn),
		keyLimitTokens, strconv.Itoa(q.TokensPerMinute),
		keyRemainingTokens, whole(q.TokensRemaining),
		keyResetTokens, resetIn(q.TokensFullIn))
}

// whole is what may be spent of a bucket's fill: its whole units, never negative.
func whole(f float64) string { return strconv.FormatInt(int64(math.Max(0, math.Floor(f))), 10) }

// resetIn renders a refill time the way OpenAI does ("1s", "6m0s", "17ms"), rounded up to the
// millisecond so a client that waits it out is never early.
func resetIn(d time.Duration) string {
	if r := d.Truncate(time.Millisecond); r < d {
		d = r + time.Millisecond
	}
	return d.String()
}
