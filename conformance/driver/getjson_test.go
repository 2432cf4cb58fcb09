package driver

import (
	"errors"
	"net/http"
	"testing"

	"github.com/aruntime/arcert/api/discovery"
)

func TestGetJSON(t *testing.T) {
	c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("Authorization") != "Bearer operator" && r.URL.Path == discovery.PathVersions:
			w.WriteHeader(http.StatusForbidden)
		case r.URL.Path == discovery.PathFeatures:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"implementation":"fake","version":"1","features":["core","streaming"]}`))
		default:
			_, _ = w.Write([]byte(`not json`))
		}
	}, WithAPIKey("tenant-a"))

	var f discovery.Features
	status, _, err := c.GetJSON(t.Context(), discovery.PathFeatures, "", &f)
	if err != nil || status != http.StatusOK || f.Implementation != "fake" || len(f.Features) != 2 {
		t.Fatalf("features: status %d err %v body %+v", status, err, f)
	}
	// A refusal is a status for the check to judge, not an error.
	var v discovery.Versions
	if status, _, err = c.GetJSON(t.Context(), discovery.PathVersions, "", &v); err != nil || status != http.StatusForbidden {
		t.Errorf("versions as tenant: status %d err %v", status, err)
	}
	if _, _, err = c.GetJSON(t.Context(), discovery.PathQuotas, "", &v); !errors.Is(err, ErrDecode) {
		t.Errorf("undecodable body: err %v, want ErrDecode", err)
	}
}
