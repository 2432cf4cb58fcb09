package worker

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"sync"

	"google.golang.org/grpc/metadata"
)

// maxSeenCredentials bounds the credential log: a router sends the same few metadata values on
// every call, so thousands of distinct ones already mean something is wrong, and the log must
// not grow with traffic.
const maxSeenCredentials = 4096

// credentialLog keeps the fingerprints of every metadata value the worker was presented (a bearer
// value without its scheme), and of the tenant context of every generation request: an audit can then show which credentials ever reached the worker,
// and that no tenant's key is among them, without the log holding any secret. A fingerprint is
// the first 16 hex digits of the value's SHA-256, as the stand-in provider records them.
type credentialLog struct {
	mu sync.Mutex
	// seen is keyed by the fingerprint's bytes, spelt in hex only when listed: a call presents
	// the same few values every time, and a string key cost an allocation per value per call.
	seen map[fingerprintKey]bool
}

// fingerprintKey is the first 8 bytes of a value's SHA-256.
type fingerprintKey [8]byte

// record adds the fingerprints of a call's incoming metadata.
func (l *credentialLog) record(md metadata.MD) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[fingerprintKey]bool{}
	}
	for _, vs := range md {
		for _, v := range vs {
			if len(l.seen) >= maxSeenCredentials {
				return
			}
			l.seen[fingerprintValue(v)] = true
		}
	}
}

// recordValues adds the fingerprints of values, such as the labels of a request's tenant
// context: a key passed as a label reaches the worker just the same.
func (l *credentialLog) recordValues(values ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[fingerprintKey]bool{}
	}
	for _, v := range values {
		if v != "" && len(l.seen) < maxSeenCredentials {
			l.seen[fingerprintValue(v)] = true
		}
	}
}

// fingerprintValue is the first 8 bytes of the SHA-256 of v, a bearer value without its scheme.
func fingerprintValue(v string) fingerprintKey {
	if token, ok := strings.CutPrefix(v, "Bearer "); ok {
		v = token
	}
	sum := sha256.Sum256([]byte(v))
	return fingerprintKey(sum[:8])
}

// list returns the fingerprints recorded, sorted.
func (l *credentialLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.seen))
	for fp := range l.seen {
		out = append(out, hex.EncodeToString(fp[:]))
	}
	slices.Sort(out)
	return out
}

// CredentialsSeen returns the fingerprints of every metadata value and tenant-context label
// presented to the worker since it started, sorted (see credentialLog).
func (s *Server) CredentialsSeen() []string { return s.seen.list() }
