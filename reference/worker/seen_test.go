package worker

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"testing"

	"google.golang.org/grpc/metadata"
)

func fingerprint(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:8])
}

func TestCredentialLogKeepsFingerprintsNotSecrets(t *testing.T) {
	var l credentialLog
	md := metadata.Pairs(
		"authorization", "Bearer worker-token", "x-forwarded-authorization", "Bearer tenant-key")
	l.record(md)
	l.record(md) // the same values again add nothing
	got := l.list()
	for _, want := range []string{fingerprint("worker-token"), fingerprint("tenant-key")} {
		if !slices.Contains(got, want) {
			t.Errorf("log %v lacks %s", got, want)
		}
	}
	if len(got) != 2 {
		t.Errorf("log has %d fingerprints, want 2: %v", len(got), got)
	}
	for _, fp := range got {
		if fp == "worker-token" || fp == "tenant-key" {
			t.Fatalf("a secret is in the log: %v", got)
		}
	}
}

func TestCredentialLogIsBounded(t *testing.T) {
	var l credentialLog
	for i := range maxSeenCredentials + 10 {
		l.record(metadata.Pairs("x-n", fmt.Sprint(i)))
	}
	if n := len(l.list()); n != maxSeenCredentials {
		t.Fatalf("log holds %d fingerprints, want the bound %d", n, maxSeenCredentials)
	}
}
