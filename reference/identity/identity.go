// Package identity binds a credential to who is calling, once, at admission. Every other part of
// the reference runtime takes the Principal it returns and never looks at headers, body labels or
// prompt text for identity: that is what keeps a client-controlled label from changing a tenant.
//
// The guidance asks for separate identities for the human user, the application, the workload,
// the model deployment and the operator. A tenant key names a tenant, an application and an end
// user; operator keys and the worker credential are different roles that can never act as a
// tenant, and tenant keys can never act as either.
package identity

import (
	"crypto/sha256"
	"errors"
	"strings"

	"github.com/aruntime/arcert/reference/config"
)

// Role says what kind of identity a credential belongs to.
type Role string

// The roles of the reference runtime.
const (
	// RoleTenant is a customer's application acting for one of its users.
	RoleTenant Role = "tenant"
	// RoleOperator runs the platform: rollouts, rollbacks, everyone's evidence. It is not a tenant.
	RoleOperator Role = "operator"
	// RoleWorker is the workload credential routers and workers use between themselves.
	RoleWorker Role = "worker"
)

// Principal is the identity bound at admission. For RoleTenant, Tenant, Application and User are
// set; for RoleOperator, Operator is; RoleWorker carries no names.
type Principal struct {
	Role        Role
	Tenant      string
	Application string
	User        string
	Operator    string
}

// Sentinel errors of Authenticate.
var (
	// ErrMissingCredential means the request carried no bearer credential at all.
	ErrMissingCredential = errors.New("identity: missing credential")
	// ErrUnknownCredential means the credential is not one this runtime issued.
	ErrUnknownCredential = errors.New("identity: unknown credential")
)

// digest is what the directory keys on, so raw secrets are not kept as map keys.
type digest [sha256.Size]byte

// Directory maps credentials to principals. It is built once from the configuration and is
// read-only afterwards, so it is safe for concurrent use without locks.
type Directory struct {
	byKey map[digest]Principal
}

// NewDirectory indexes every credential of cfg. The configuration's validation already
// guarantees that no credential is used twice.
func NewDirectory(cfg *config.Config) *Directory {
	d := &Directory{byKey: map[digest]Principal{}}
	for _, t := range cfg.Tenants {
		for _, k := range t.Keys {
			d.byKey[sha256.Sum256([]byte(k.Key))] = Principal{Role: RoleTenant, Tenant: t.Name, Application: k.Application, User: k.User}
		}
	}
	for _, o := range cfg.Operators {
		for _, k := range append([]string{o.Key}, o.MoreKeys...) {
			d.byKey[sha256.Sum256([]byte(k))] = Principal{Role: RoleOperator, Operator: o.Name}
		}
	}
	if cfg.Router.WorkerToken != "" {
		d.byKey[sha256.Sum256([]byte(cfg.Router.WorkerToken))] = Principal{Role: RoleWorker}
	}
	return d
}

// Authenticate reads an Authorization header value ("Bearer KEY", scheme case-insensitive) and
// returns the principal of the key.
func (d *Directory) Authenticate(authorization string) (Principal, error) {
	key, ok := BearerToken(authorization)
	if !ok {
		return Principal{}, ErrMissingCredential
	}
	p, ok := d.byKey[sha256.Sum256([]byte(key))]
	if !ok {
		return Principal{}, ErrUnknownCredential
	}
	return p, nil
}

// BearerToken extracts the credential of an Authorization value; ok is false when there is none.
func BearerToken(authorization string) (string, bool) {
	scheme, token, found := strings.Cut(strings.TrimSpace(authorization), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
