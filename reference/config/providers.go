package config

import (
	"fmt"
	"net/url"
	"slices"
)

// Provider is a hosted OpenAI-compatible upstream the router may fall back to when no worker of
// the runtime can serve. It is declared here, with a region, rather than discovered, because
// sending a tenant's data there is a data movement the tenant's policy must allow: only a tenant
// with data_policy.hosted_fallback and the provider's region in allowed_regions is ever sent.
type Provider struct {
	Name string `yaml:"name"`
	// Region is where the provider declares the data it receives stays; the tenant's
	// allowed_regions are checked against it as against a pool's.
	Region string `yaml:"region"`
	// BaseURL is the provider's root (with or without /v1), or EmbeddedBaseURL.
	BaseURL string `yaml:"base_url"`
	// Key is the runtime's own credential at the provider. KeyEnv instead names an environment
	// variable holding it, read once at load, so a real key need not sit in the file. Exactly one
	// is given. It is never a tenant's key: the configuration refuses one used anywhere else.
	Key    string `yaml:"key"`
	KeyEnv string `yaml:"key_env"`
	// Models the provider is used for, each declared under models; the provider is asked for the
	// model by the same name.
	Models []string `yaml:"models"`
	// MaxConcurrency is how many requests the runtime's contract with the provider allows at
	// once. It is the admission capacity the router offers while the provider is the only place
	// left that can serve.
	MaxConcurrency int `yaml:"max_concurrency"`
}

// EmbeddedBaseURL as a provider's base_url means "filled in by the process that starts the
// runtime": `aruntime up` starts the stand-in provider of fixtures/provider on a free loopback
// port and uses its URL. A runtime started without one leaves the provider out.
const EmbeddedBaseURL = "embedded"

// LocalProvider is how ARuntime-Served-By names this runtime's own workers, so a hosted provider
// may not take the name.
const LocalProvider = "aruntime"

// DefaultProviderConcurrency is a provider's max_concurrency where the configuration is silent:
// one simulated worker's batch, so falling back to the provider does not admit more at once than
// a worker would.
const DefaultProviderConcurrency = 8

// resolveKeys reads each provider's key_env through lookup (os.LookupEnv). It runs before
// validation, so a key read from the environment is checked like one written in the file.
func (c *Config) resolveKeys(lookup func(string) (string, bool)) []*FieldError {
	var errs []*FieldError
	for i := range c.Providers {
		p := &c.Providers[i]
		f := fmt.Sprintf("providers[%d]", i)
		switch {
		case p.KeyEnv == "":
		case p.Key != "":
			errs = append(errs, &FieldError{Field: f + ".key_env", Msg: "give key or key_env, not both"})
		default:
			v, ok := lookup(p.KeyEnv)
			if !ok || v == "" {
				errs = append(errs, &FieldError{Field: f + ".key_env", Msg: fmt.Sprintf("environment variable %s is not set", p.KeyEnv)})
				continue
			}
			p.Key = v
		}
	}
	return errs
}

// validateProviders checks every hosted provider. Its key is claimed like every other
// credential, so a tenant's key can never double as the runtime's key at the provider.
func (c *Config) validateProviders(v *validator, models map[string]Model, claim func(field, key string)) {
	seen := map[string]bool{}
	for i, p := range c.Providers {
		f := fmt.Sprintf("providers[%d]", i)
		v.name(f+".name", p.Name)
		switch {
		case p.Name == LocalProvider:
			v.add(f+".name", "%q names this runtime's own workers in ARuntime-Served-By", p.Name)
		case seen[p.Name]:
			v.add(f+".name", "provider %q is declared twice", p.Name)
		}
		seen[p.Name] = true
		if p.Region == "" {
			v.add(f+".region", "is required: a tenant's data policy allows or forbids a provider by its region")
		} else {
			v.name(f+".region", p.Region)
		}
		if p.BaseURL != EmbeddedBaseURL {
			if u, err := url.Parse(p.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				v.add(f+".base_url", "%q is neither an http(s) URL nor %q", p.BaseURL, EmbeddedBaseURL)
			}
		}
		if p.Key == "" && p.KeyEnv == "" {
			v.add(f+".key", "is required (or key_env): the runtime's own credential at the provider")
		} else if p.Key != "" {
			claim(f+".key", p.Key)
		}
		if len(p.Models) == 0 {
			v.add(f+".models", "list at least one model the provider is used for")
		}
		for j, name := range p.Models {
			if _, ok := models[name]; !ok {
				v.add(fmt.Sprintf("%s.models[%d]", f, j), "model %q is not declared under models", name)
			}
		}
		if p.MaxConcurrency < 0 {
			v.add(f+".max_concurrency", "must not be negative")
		}
	}
}

// validateFallbacks checks each model's declared fallback model: a different, declared model
// that any prompt the model admits fits into, and that something serves. Without the context
// check a request admitted for the model could be refused by its fallback, which is not a
// reduction but a failure.
func (c *Config) validateFallbacks(v *validator, models map[string]Model) {
	for i, m := range c.Models {
		if m.Fallback == "" {
			continue
		}
		f := fmt.Sprintf("models[%d].fallback", i)
		fb, ok := models[m.Fallback]
		switch {
		case m.Fallback == m.Name:
			v.add(f, "a model cannot be its own fallback")
		case !ok:
			v.add(f, "model %q is not declared under models", m.Fallback)
		case fb.ContextLength < m.ContextLength:
			v.add(f, "%q has a context of %d, less than the %d of %q", fb.Name, fb.ContextLength, m.ContextLength, m.Name)
		case fb.MaxOutputTokens < m.MaxOutputTokens:
			v.add(f, "%q produces at most %d tokens, less than the %d of %q", fb.Name, fb.MaxOutputTokens, m.MaxOutputTokens, m.Name)
		case !c.serves(fb.Name):
			v.add(f, "no worker or provider serves %q", fb.Name)
		}
	}
}

// serves reports whether a worker or a provider lists model.
func (c *Config) serves(model string) bool {
	for _, w := range c.Workers {
		if slices.Contains(w.Models, model) {
			return true
		}
	}
	for _, p := range c.Providers {
		if slices.Contains(p.Models, model) {
			return true
		}
	}
	return false
}
