package cache

import "errors"

// Sentinel errors of the cache tier, matched with errors.Is; the wrapping
// error carries the detail. The server maps them to InvalidArgument.
var (
	// ErrNoTenant means a call named no tenant. Every entry belongs to a
	// tenant's scope; an unscoped entry would be shared by everyone.
	ErrNoTenant = errors.New("cache: tenant is required")
	// ErrInvalid means an argument is malformed (a key of the wrong length,
	// a zero block size, too many keys); the wrapping error names it.
	ErrInvalid = errors.New("cache: invalid argument")
	// ErrOptions means Budgets, ServerOptions or ClientOptions cannot
	// describe a working tier, server or client.
	ErrOptions = errors.New("cache: invalid options")
)
