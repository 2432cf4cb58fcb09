package control

import (
	"errors"
	"strings"
	"testing"
)

func TestDecodeRefusesNamingTheField(t *testing.T) {
	da, db := digestOf("a"), digestOf("b")
	rollout := func(weight string) string {
		return `{"from_digest":"` + da + `","to_digest":"` + db + `","weight":` + weight + `,"version":"v1"}`
	}
	cases := []struct {
		name, bucket, doc, field string
	}{
		{"unknown field", BucketModels, `{"artifact_digest":"` + da + `","repo":"r","tag":"latest"}`, "tag"},
		{"tag, not digest", BucketModels, `{"artifact_digest":"latest","repo":"r"}`, "artifact_digest"},
		{"upper-case hex", BucketModels, `{"artifact_digest":"` + strings.ToUpper(da) + `","repo":"r"}`, "artifact_digest"},
		{"short digest", BucketModels, `{"artifact_digest":"` + da[:40] + `","repo":"r"}`, "artifact_digest"},
		{"pinned not a bool", BucketModels, `{"artifact_digest":"` + da + `","repo":"r","pinned":"yes"}`, "pinned"},
		{"weight over", BucketRollout, rollout("101"), "weight"},
		{"weight under", BucketRollout, rollout("-1"), "weight"},
		{"weight fraction", BucketRollout, rollout("10.5"), "weight"},
		{"weight string", BucketRollout, rollout(`"ten"`), "weight"},
		{"rollout to itself", BucketRollout, `{"from_digest":"` + da + `","to_digest":"` + da + `","weight":5,"version":"v1"}`, "to_digest"},
		{"rollout bad from", BucketRollout, `{"from_digest":"x","to_digest":"` + db + `","weight":5,"version":"v1"}`, "from_digest"},
		{"rollout no version", BucketRollout, `{"from_digest":"` + da + `","to_digest":"` + db + `","weight":5}`, "version"},
		{"routing no version", BucketRouting, `{"affinity_slack":2}`, "version"},
		{"routing negative slack", BucketRouting, `{"version":"r1","affinity_slack":-1}`, "affinity_slack"},
		{"routing region twice", BucketRouting, `{"version":"r1","region_order":["eu","eu"]}`, "region_order"},
		{"deployment no name", BucketDeployment, `{"version":"d1"}`, "name"},
		{"quota zero", BucketQuotas, `{"requests_per_minute":0,"tokens_per_minute":1,"max_concurrency":1}`, "requests_per_minute"},
		{"quota missing", BucketQuotas, `{"requests_per_minute":5,"tokens_per_minute":1}`, "max_concurrency"},
		{"trailing data", BucketQuotas, `{"requests_per_minute":5,"tokens_per_minute":1,"max_concurrency":1} {}`, ""},
		{"autoscale no workers", BucketAutoscale, `{"model":"m","workers":0,"action":"hold","reason":"r"}`, "workers"},
		{"autoscale unknown action", BucketAutoscale, `{"model":"m","workers":2,"action":"grow","reason":"r"}`, "action"},
		{"autoscale negative waiting", BucketAutoscale, `{"model":"m","workers":2,"action":"scale_out","reason":"r","waiting":-1}`, "waiting"},
		{"not JSON", BucketModels, `{"artifact_digest":`, ""},
		{"empty", BucketModels, ``, ""},
		{"array", BucketModels, `[]`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.bucket, []byte(c.doc))
			var fe *FieldError
			if !errors.As(err, &fe) || !errors.Is(err, ErrInvalidDocument) {
				t.Fatalf("Decode = %v, want a FieldError", err)
			}
			if fe.Field != c.field {
				t.Fatalf("Decode names field %q (%v), want %q", fe.Field, err, c.field)
			}
			if c.field != "" && !strings.Contains(err.Error(), `"`+c.field+`"`) {
				t.Errorf("message %q does not name %q", err, c.field)
			}
		})
	}
}

func TestDecodeAcceptsEveryDocumentType(t *testing.T) {
	da, db := digestOf("a"), digestOf("b")
	// RoutingDoc holds a slice, so it is not comparable and is checked after the table.
	cases := []struct {
		bucket, doc string
		want        any
	}{
		{BucketModels, `{"artifact_digest":"` + da + `","repo":"reg/m","pinned":true}`, ModelDoc{ArtifactDigest: da, Repo: "reg/m", Pinned: true}},
		{BucketRollout, `{"from_digest":"` + da + `","to_digest":"` + db + `","weight":100,"version":"v2"}`, RolloutDoc{FromDigest: da, ToDigest: db, Weight: 100, Version: "v2"}},
		{BucketRollout, `{"from_digest":"` + da + `","to_digest":"` + db + `","weight":0,"version":"v2"}`, RolloutDoc{FromDigest: da, ToDigest: db, Version: "v2"}},
		{BucketQuotas, `{"requests_per_minute":5,"tokens_per_minute":100,"max_concurrency":2}`, QuotaDoc{5, 100, 2}},
		{BucketDeployment, `{"version":"d1","name":"prod","region":"eu-west"}`, DeploymentDoc{Version: "d1", Name: "prod", Region: "eu-west"}},
	}
	for _, c := range cases {
		got, err := Decode(c.bucket, []byte(c.doc))
		if err != nil {
			t.Errorf("Decode(%s) = %v", c.bucket, err)
			continue
		}
		if got != c.want {
			t.Errorf("Decode(%s) = %#v, want %#v", c.bucket, got, c.want)
		}
	}
	got, err := Decode(BucketRouting, []byte(`{"version":"r1","affinity_slack":2,"region_order":["eu","us"]}`))
	if r, ok := got.(RoutingDoc); err != nil || !ok || r.Version != "r1" || len(r.RegionOrder) != 2 {
		t.Errorf("Decode(routing) = %#v, %v", got, err)
	}
	if _, err := Decode("secrets", []byte(`{}`)); !errors.Is(err, ErrUnknownBucket) {
		t.Errorf("Decode of an unknown bucket = %v", err)
	}
}

// TestDecodeSaysTypesInJSONWords: a value of the wrong type is named in JSON's words, never by a
// Go type.
func TestDecodeSaysTypesInJSONWords(t *testing.T) {
	da := digestOf("a")
	cases := []struct{ name, bucket, doc, want string }{
		{"pinned a string", BucketModels, `{"artifact_digest":"` + da + `","repo":"r","pinned":"yes"}`,
			`control: models document: field "pinned": expected true or false, got a string`},
		{"weight a string", BucketRollout, `{"from_digest":"` + da + `","to_digest":"` + digestOf("b") + `","weight":"ten","version":"v1"}`,
			`control: rollout document: field "weight": expected an integer, got a string`},
		{"an array", BucketModels, `[]`,
			`control: models document: expected a JSON object, got an array`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.bucket, []byte(c.doc))
			if err == nil || err.Error() != c.want {
				t.Fatalf("got %v\nwant %s", err, c.want)
			}
		})
	}
}
