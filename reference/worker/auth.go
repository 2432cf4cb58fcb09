package worker

import (
	"context"
	"crypto/sha256"
	"encoding/binary"

	"google.golang.org/grpc/metadata"

	"github.com/aruntime/arcert/reference/workload"
)

// saltDomain separates prefix-cache salts from every other SHA-256 use, so
// a salt can never equal some other hash the runtime computes.
const saltDomain = "arcert/worker/prefix-cache-salt/v1\x00"

// digestToken hashes the worker credential the server is started with.
func digestToken(token string) [32]byte { return workload.Digest(token) }

// authorize admits a call only if it carries the workload credential. The
// worker trusts the tenant in a request only because of this check: only a
// router holds the credential. Whatever the call presented is logged first
// (see CredentialsSeen), admitted or not.
func (s *Server) authorize(ctx context.Context) error {
	md, _ := metadata.FromIncomingContext(ctx) // a copy: taken once for the log and the check
	s.seen.record(md)
	return workload.CheckValues(md.Get("authorization"), s.tokenDigest, "worker")
}

// TenantSalt derives the prefix-cache salt for a tenant and an optional
// client cache_salt. The tenant always comes first and is length-prefixed,
// so a client salt can narrow sharing within its tenant but no choice of
// client salt can reach another tenant's entries. It is exported so that
// tests elsewhere can reason about isolation.
//
// It is SHA-256 over a domain string, the tenant's length (8 bytes, big
// endian), the tenant, a 0 byte and the client salt.
func TenantSalt(tenant, clientSalt string) []byte {
	h := sha256.New()
	h.Write([]byte(saltDomain))
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(tenant)))
	h.Write(n[:])
	h.Write([]byte(tenant))
	h.Write([]byte{0})
	h.Write([]byte(clientSalt))
	return h.Sum(nil)
}

// requestSalt is the salt the engine keys a request's prefix blocks with:
// the tenant salt narrowed to the model, because one model's KV state is
// useless to another model served by the same worker.
func requestSalt(model, tenant, clientSalt string) []byte {
	h := sha256.New()
	h.Write(TenantSalt(tenant, clientSalt))
	h.Write([]byte(model))
	return h.Sum(nil)
}
