package engine

import "errors"

// Sentinel errors returned by the engine. Callers map them to wire outcomes
// (for example ErrOverloaded to a retryable 429), so they are matched with
// errors.Is and may be wrapped with detail.
var (
	// ErrOverloaded means the bounded waiting queue is full; the request was
	// not queued and may be retried elsewhere or later.
	ErrOverloaded = errors.New("engine: overloaded")
	// ErrTooLarge means the prompt plus MaxTokens can never fit in the KV
	// cache, so queueing the request would only delay a certain failure.
	ErrTooLarge = errors.New("engine: request exceeds kv capacity")
	// ErrStopped means Run has ended: Submit no longer accepts requests and
	// sequences still pending when it ended are aborted with it.
	ErrStopped = errors.New("engine: stopped")
	// ErrInvalid means a Config or Request is malformed; the wrapping error
	// names the field.
	ErrInvalid = errors.New("engine: invalid argument")
	// ErrRunning means Run was called while the engine was already running;
	// an engine has exactly one scheduling loop.
	ErrRunning = errors.New("engine: already running")
)
