package artifact

import (
	"context"
	"errors"
	"strings"
	"testing"

	"oras.land/oras-go/v2/errdef"

	modelfixtures "github.com/aruntime/arcert/fixtures/artifacts"
)

func TestPushPullRoundTrip(t *testing.T) {
	reg, _ := startRegistry(t)
	for _, name := range []string{modelfixtures.ValidV1, modelfixtures.ValidV2} {
		t.Run(name, func(t *testing.T) {
			d := push(t, reg.Addr(), name)
			if d != fixtureDigests[name] {
				t.Errorf("Push returned %s, want the packed digest %s", d, fixtureDigests[name])
			}
			if again := push(t, reg.Addr(), name); again != d {
				t.Errorf("second Push returned %s, want %s", again, d)
			}
			m, err := Pull(testCtx(t), reg.Addr(), testRepo, d, strictPolicy(t))
			if err != nil {
				t.Fatal(err)
			}
			p, err := Pack(fixtureDir(name))
			if err != nil {
				t.Fatal(err)
			}
			want := Model{
				Digest:        d,
				Config:        Config{Name: modelfixtures.Model, ContextLength: 4096, MaxOutputTokens: 1024, KVBytesPerToken: 131072, WeightsBytes: 2000000000},
				ConfigDigest:  p.ConfigDesc.Digest.String(),
				WeightsDigest: p.WeightsDesc.Digest.String(),
				WeightsSize:   int64(len(p.Weights)),
				Signed:        true,
			}
			if m != want {
				t.Errorf("Pull = %+v\nwant   %+v", m, want)
			}
		})
	}
}

// TestPullRefusesInvalidFixtures pulls each negative fixture and checks it
// is refused for its own reason, and that the policy decides what a
// signature problem is.
func TestPullRefusesInvalidFixtures(t *testing.T) {
	reg, _ := startRegistry(t)
	key := testPublicKey(t)
	strict := Policy{RequireSignature: true, PublicKey: key}
	tests := []struct {
		fixture string
		policy  Policy
		want    error // nil: accepted
		mention string
	}{
		{modelfixtures.MalformedConfig, strict, ErrMalformed, `config field "max_output_tokens"`},
		{modelfixtures.MalformedConfig, Policy{}, ErrMalformed, `config field "max_output_tokens"`},
		{modelfixtures.Unsigned, strict, ErrUnsigned, "requires a signature"},
		{modelfixtures.WronglySigned, strict, ErrBadSignature, "does not verify"},
		// A key without a requirement still refuses a wrong signature.
		{modelfixtures.WronglySigned, Policy{PublicKey: key}, ErrBadSignature, "does not verify"},
		// Without a requirement, unsigned is accepted; without a key,
		// nothing can be checked.
		{modelfixtures.Unsigned, Policy{PublicKey: key}, nil, ""},
		{modelfixtures.WronglySigned, Policy{}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			d := push(t, reg.Addr(), tt.fixture)
			m, err := Pull(testCtx(t), reg.Addr(), testRepo, d, tt.policy)
			if tt.want == nil {
				if err != nil || m.Signed {
					t.Errorf("Pull = %+v, %v; want accepted and not marked signed", m, err)
				}
				return
			}
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Pull = %v, want %v (and ErrInvalid)", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not say %q", err, tt.mention)
			}
		})
	}
}

func TestPullByDigestOnly(t *testing.T) {
	reg, _ := startRegistry(t)
	push(t, reg.Addr(), modelfixtures.ValidV1)
	for _, ref := range []string{"latest", "", "sha256:abc", "md5:" + strings.Repeat("0", 32)} {
		if _, err := Pull(testCtx(t), reg.Addr(), testRepo, ref, Policy{}); !errors.Is(err, ErrNotPinned) {
			t.Errorf("Pull(%q) = %v, want ErrNotPinned", ref, err)
		}
	}
}

func TestPullRefusesUnenforceablePolicy(t *testing.T) {
	_, err := Pull(testCtx(t), "127.0.0.1:1", testRepo, fixtureDigests[modelfixtures.ValidV1], Policy{RequireSignature: true})
	if !errors.Is(err, ErrPolicy) || errors.Is(err, ErrInvalid) {
		t.Errorf("Pull = %v, want ErrPolicy and not ErrInvalid", err)
	}
}

// TestTransportFailuresAreNotInvalid keeps "the network failed" apart from
// "the artifact is bad": a worker reports them as different outcomes.
func TestTransportFailuresAreNotInvalid(t *testing.T) {
	reg, _ := startRegistry(t)
	d := fixtureDigests[modelfixtures.ValidV1] // never pushed
	_, err := Pull(testCtx(t), reg.Addr(), testRepo, d, Policy{})
	if !errors.Is(err, errdef.ErrNotFound) || errors.Is(err, ErrInvalid) {
		t.Errorf("Pull of an absent digest = %v, want ErrNotFound and not ErrInvalid", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := reg.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = Pull(testCtx(t), reg.Addr(), testRepo, d, Policy{})
	if err == nil || errors.Is(err, ErrInvalid) {
		t.Errorf("Pull from a stopped registry = %v, want a transport error", err)
	}
}
