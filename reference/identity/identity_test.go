package identity

import (
	"errors"
	"testing"

	"github.com/aruntime/arcert/reference/config"
)

func testConfig() *config.Config {
	return &config.Config{
		Router:    config.Router{WorkerToken: "worker-secret-1"},
		Operators: []config.Operator{{Name: "ops", Key: "operator-key-1", MoreKeys: []string{"operator-key-2"}}},
		Tenants: []config.Tenant{
			{Name: "acme", Keys: []config.APIKey{{Key: "dev-acme-key", Application: "chat", User: "alice"}}},
			{Name: "globex", Keys: []config.APIKey{{Key: "dev-globex-key", Application: "search", User: "bob"}}},
		},
	}
}

func TestAuthenticate(t *testing.T) {
	d := NewDirectory(testConfig())
	tests := []struct {
		name   string
		header string
		want   Principal
		err    error
	}{
		{"tenant", "Bearer dev-acme-key", Principal{Role: RoleTenant, Tenant: "acme", Application: "chat", User: "alice"}, nil},
		{"other tenant", "Bearer dev-globex-key", Principal{Role: RoleTenant, Tenant: "globex", Application: "search", User: "bob"}, nil},
		{"scheme case-insensitive", "bearer dev-acme-key", Principal{Role: RoleTenant, Tenant: "acme", Application: "chat", User: "alice"}, nil},
		{"operator", "Bearer operator-key-1", Principal{Role: RoleOperator, Operator: "ops"}, nil},
		{"operator's further key is the same operator", "Bearer operator-key-2", Principal{Role: RoleOperator, Operator: "ops"}, nil},
		{"worker", "Bearer worker-secret-1", Principal{Role: RoleWorker}, nil},
		{"missing", "", Principal{}, ErrMissingCredential},
		{"basic scheme", "Basic dev-acme-key", Principal{}, ErrMissingCredential},
		{"empty token", "Bearer   ", Principal{}, ErrMissingCredential},
		{"unknown", "Bearer dev-acme-key2", Principal{}, ErrUnknownCredential},
		{"tenant name is not a key", "Bearer acme", Principal{}, ErrUnknownCredential},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.Authenticate(tc.header)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if got != tc.want {
				t.Fatalf("principal = %+v, want %+v", got, tc.want)
			}
		})
	}
}
