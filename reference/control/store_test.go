package control

import (
	"encoding/json"
	"errors"
	"testing"
)

func mustPut(t *testing.T, s *Store, e *testEnv, bucket, key string, doc any) uint64 {
	t.Helper()
	rev, err := s.Put(e.ctx(), bucket, key, doc)
	if err != nil {
		t.Fatalf("Put %s/%s: %v", bucket, key, err)
	}
	return rev
}

func modelOf(t *testing.T, e Entry) ModelDoc {
	t.Helper()
	var m ModelDoc
	if err := json.Unmarshal(e.Value, &m); err != nil {
		t.Fatalf("revision %d: %v", e.Revision, err)
	}
	return m
}

// TestPutGetHistoryRollback: a rollback makes an old value current as a new revision, and the
// history keeps every revision in order, the rolled-back-from one included.
func TestPutGetHistoryRollback(t *testing.T) {
	e := newEnv(t)
	s := e.store
	a, b := ModelDoc{ArtifactDigest: digestOf("a"), Repo: "models/m"}, ModelDoc{ArtifactDigest: digestOf("b"), Repo: "models/m"}
	r1 := mustPut(t, s, e, BucketModels, "m", a)
	r2 := mustPut(t, s, e, BucketModels, "m", b)
	if got, err := s.Get(e.ctx(), BucketModels, "m"); err != nil || got.Revision != r2 || modelOf(t, got) != b {
		t.Fatalf("Get = %+v, %v; want revision %d with %v", got, err, r2, b)
	}
	r3, err := s.Rollback(e.ctx(), BucketModels, "m", r1)
	if err != nil {
		t.Fatal(err)
	}
	if r3 <= r2 {
		t.Fatalf("rollback revision %d is not after %d", r3, r2)
	}
	if got, err := s.Get(e.ctx(), BucketModels, "m"); err != nil || got.Revision != r3 || modelOf(t, got) != a {
		t.Fatalf("after rollback Get = %+v, %v; want revision %d with %v", got, err, r3, a)
	}
	h, err := s.History(e.ctx(), BucketModels, "m")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		rev uint64
		doc ModelDoc
	}{{r1, a}, {r2, b}, {r3, a}}
	if len(h) != len(want) {
		t.Fatalf("history has %d entries, want %d: %+v", len(h), len(want), h)
	}
	for i, w := range want {
		if h[i].Revision != w.rev || modelOf(t, h[i]) != w.doc || h[i].Key != "m" || h[i].Bucket != BucketModels {
			t.Errorf("history[%d] = %+v, want revision %d with %v", i, h[i], w.rev, w.doc)
		}
	}
}

func TestRollbackRefusesOtherRevisions(t *testing.T) {
	e := newEnv(t)
	s := e.store
	other := mustPut(t, s, e, BucketModels, "other", ModelDoc{ArtifactDigest: digestOf("o"), Repo: "r"})
	mustPut(t, s, e, BucketModels, "m", ModelDoc{ArtifactDigest: digestOf("a"), Repo: "r"})
	for _, rev := range []uint64{other, 999} {
		if _, err := s.Rollback(e.ctx(), BucketModels, "m", rev); !errors.Is(err, ErrRevisionNotFound) {
			t.Errorf("Rollback to revision %d = %v, want ErrRevisionNotFound", rev, err)
		}
	}
	if _, err := s.Get(e.ctx(), BucketModels, "nothing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of a missing key = %v, want ErrNotFound", err)
	}
	if _, err := s.History(e.ctx(), BucketModels, "nothing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("History of a missing key = %v, want ErrNotFound", err)
	}
}

// TestMalformedDocumentIsNeverStored: the store refuses with the field's name and keeps nothing.
func TestMalformedDocumentIsNeverStored(t *testing.T) {
	e := newEnv(t)
	s := e.store
	_, err := s.Put(e.ctx(), BucketRollout, "m", []byte(`{"from_digest":"`+digestOf("a")+`","to_digest":"`+digestOf("b")+`","weight":101,"version":"v1"}`))
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "weight" || !errors.Is(err, ErrInvalidDocument) {
		t.Fatalf("Put = %v, want a FieldError on weight", err)
	}
	// A document of the wrong type is refused by its first unknown field.
	_, err = s.Put(e.ctx(), BucketRollout, "m", ModelDoc{ArtifactDigest: digestOf("a"), Repo: "r"})
	if !errors.As(err, &fe) || fe.Field != "artifact_digest" {
		t.Fatalf("Put of a model document into rollout = %v, want unknown field artifact_digest", err)
	}
	if _, err := s.Get(e.ctx(), BucketRollout, "m"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after refusals Get = %v, want ErrNotFound", err)
	}
	if _, err := s.Put(e.ctx(), "secrets", "m", ModelDoc{}); !errors.Is(err, ErrUnknownBucket) {
		t.Errorf("Put to an unknown bucket = %v", err)
	}
	for _, key := range []string{"", "a b", "a.", ".a", "a..b", "a/b", "a*", ">"} {
		if _, err := s.Put(e.ctx(), BucketModels, key, ModelDoc{ArtifactDigest: digestOf("a"), Repo: "r"}); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Put with key %q = %v, want ErrInvalidKey", key, err)
		}
	}
}
