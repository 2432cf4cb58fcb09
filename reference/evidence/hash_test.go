package evidence

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/outcome"
)

// sample is a record with every field set.
func sample(id string) discovery.Record {
	return discovery.Record{
		RequestID: id, Time: time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC),
		Tenant: "acme", Application: "chat", User: "u1", ClientUser: "c1", TrafficClass: "interactive",
		Model: "m", Deployment: "d", ArtifactDigest: "sha256:ab", PolicyVersion: "p1",
		ServedBy: outcome.ServedBy{Region: "eu", Pool: "a", Provider: "self", Deployment: "d", Worker: "w1"},
		Outcome:  outcome.Completed, Reason: "none", Tokens: discovery.Tokens{Prompt: 10, Completion: 5, Cached: 2},
		CostMicroUSD: 42, CostCenter: "cc", TraceID: "t", DurationMS: 1.5,
		ToolCalls: []discovery.ToolCall{{ID: "call-1", Name: "lookup_order", Side: "runtime", Outcome: "ok"}},
	}
}

// chain builds n linked records as Append would.
func chain(n int) []discovery.Record {
	out := make([]discovery.Record, n)
	prev := GenesisHash
	for i := range out {
		r := sample(string(rune('a' + i)))
		r.Seq, r.PrevHash = uint64(i+1), prev
		r.Hash = Hash(r)
		out[i], prev = r, r.Hash
	}
	return out
}

// change returns v altered, whatever its kind, so every field can be shown to be covered.
func change(t *testing.T, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(v.String() + "x")
	case reflect.Int, reflect.Int64:
		v.SetInt(v.Int() + 1)
	case reflect.Uint64:
		v.SetUint(v.Uint() + 1)
	case reflect.Float64:
		v.SetFloat(v.Float() + 1)
	case reflect.Slice:
		if v.Len() == 0 {
			t.Fatalf("the sample leaves a %v empty; give it an element", v.Type())
		}
		// A copy, so the change never reaches the sample's backing array.
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(c, v)
		for i := range c.Len() {
			change(t, c.Index(i))
		}
		v.Set(c)
	case reflect.Struct:
		if tm, ok := v.Addr().Interface().(*time.Time); ok {
			*tm = tm.Add(time.Nanosecond)
			return
		}
		for i := range v.NumField() {
			change(t, v.Field(i))
		}
	default:
		t.Fatalf("no way to change a %v; extend change", v.Type())
	}
}

// Hash covers every field but Hash itself, found by reflection so a field added to the record
// later is covered or fails here.
func TestHashCoversEveryField(t *testing.T) {
	base := sample("r1")
	want := Hash(base)
	if !strings.HasPrefix(want, "sha256:") || len(want) != len("sha256:")+64 {
		t.Fatalf("Hash = %q, want sha256: and 64 hex digits", want)
	}
	typ := reflect.TypeFor[discovery.Record]()
	for i := range typ.NumField() {
		r := base
		change(t, reflect.ValueOf(&r).Elem().Field(i))
		got := Hash(r)
		if name := typ.Field(i).Name; name == "Hash" && got != want {
			t.Errorf("changing Hash changed the hash")
		} else if name != "Hash" && got == want {
			t.Errorf("changing %s did not change the hash", name)
		}
	}
}

// The same instant hashes the same in any location and with or without a monotonic reading.
func TestHashTimeIsCanonical(t *testing.T) {
	r := sample("r1")
	want := Hash(r)
	zoned := r
	zoned.Time = r.Time.In(time.FixedZone("CET", 3600))
	if Hash(zoned) != want {
		t.Error("the same instant in another zone hashed differently")
	}
	now := time.Now()
	a, b := r, r
	a.Time, b.Time = now, now.Round(0)
	if Hash(a) != Hash(b) {
		t.Error("a monotonic clock reading changed the hash")
	}
	r.DurationMS = math.NaN()
	if Hash(r) != "" {
		t.Error("a record with no canonical encoding got a hash")
	}
}

func TestVerify(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func([]discovery.Record) []discovery.Record
		want   error
		naming string
	}{
		{"good chain", func(c []discovery.Record) []discovery.Record { return c }, nil, ""},
		{"empty", func([]discovery.Record) []discovery.Record { return nil }, nil, ""},
		{"page from the middle", func(c []discovery.Record) []discovery.Record { return c[2:] }, nil, ""},
		{"tampered field", func(c []discovery.Record) []discovery.Record {
			c[2].Tenant = "mallory"
			return c
		}, ErrBrokenChain, "seq 3:"},
		{"rewritten record with its hash recomputed", func(c []discovery.Record) []discovery.Record {
			c[2].CostMicroUSD = 0
			c[2].Hash = Hash(c[2])
			return c
		}, ErrBrokenChain, "seq 4:"},
		{"removed record", func(c []discovery.Record) []discovery.Record {
			return append(c[:2:2], c[3:]...)
		}, ErrGap, "seq 4:"},
		{"reordered pair", func(c []discovery.Record) []discovery.Record {
			c[2], c[3] = c[3], c[2]
			return c
		}, ErrBrokenChain, "seq 4:"},
		{"duplicate", func(c []discovery.Record) []discovery.Record {
			return append(c[:3:3], c[2:]...)
		}, ErrBrokenChain, "seq 3:"},
		{"first record not linked to genesis", func(c []discovery.Record) []discovery.Record {
			c[0].PrevHash = ""
			c[0].Hash = Hash(c[0])
			return c
		}, ErrBrokenChain, "seq 1:"},
	} {
		err := Verify(tc.edit(chain(5)))
		if !errors.Is(err, tc.want) || (err != nil && !strings.Contains(err.Error(), tc.naming)) {
			t.Errorf("%s: Verify = %v, want %v naming %q", tc.name, err, tc.want, tc.naming)
		}
	}
}
