// Package engine is the reference worker's executor: a simulated inference
// engine with continuous batching and a cost model.
//
// It exists so that the harness can exercise latency, saturation, queueing
// and prefix-cache timing without a GPU, and see them behave like a real
// engine: prefill costs time per prompt token not found in the tenant-salted
// prefix cache, each decode step costs more as the batch grows, and KV-cache
// capacity bounds how many sequences run at once. A single loop goroutine
// (Run) does all scheduling; Submit only queues.
package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aruntime/arcert/reference/tokenizer"
	"github.com/aruntime/arcert/reference/worker/prefixcache"
)

// Request is one generation request as the worker hands it to the engine.
// The engine does not retain Prompt or Salt after Submit returns.
type Request struct {
	ID        string
	Model     string
	Salt      []byte // tenant-derived cache salt, set by the caller from the authenticated tenant
	Prompt    []tokenizer.Token
	MaxTokens int
	Seed      int64
	// Tenant tags the prefix-cache blocks this request inserts. The engine
	// only passes it on, so that blocks the cache later evicts can be
	// demoted to the shared tier in their tenant's scope.
	Tenant string
}

// Usage is what a sequence consumed, reported on its final Event for
// billing and for checking prefix-cache behaviour.
type Usage struct{ PromptTokens, CompletionTokens, CachedTokens int }

// Event is one item of a sequence's output stream. The stream ends with
// exactly one Event with Done set, after which the channel is closed.
type Event struct {
	Text         string // one generated token's text (empty on the final event)
	Done         bool   // the final event; Usage and FinishReason are set
	Usage        Usage
	FinishReason string // "length" when MaxTokens were produced; empty when aborted
	Err          error  // set on a final event when the sequence was aborted (ctx cancelled -> ctx.Err())
}

// FinishLength is the FinishReason of a sequence that produced MaxTokens.
const FinishLength = "length"

// Stats is a snapshot of the engine's load, for health reports and routing
// by load. It is published once per scheduling step.
type Stats struct {
	Waiting, Running, KVUsedTokens, KVCapacityTokens int
	Steps                                            uint64
}

// Observer is an optional metrics hook called by the loop after every step
// with the batch size, the prompt tokens prefilled in the step and the
// step's simulated duration. It runs on the loop goroutine, so it must be
// fast and must not call back into the Engine.
type Observer interface {
	ObserveStep(batchSize int, prefillTokens int, d time.Duration)
}

// Engine is a continuous-batching executor. Create it with New, start Run,
// then Submit requests from any goroutine.
type Engine struct {
	cfg   Config
	cache *prefixcache.Cache // nil disables prefix caching
	obs   Observer
	wake  chan struct{} // capacity 1: "the loop has something new to look at"

	mu        sync.Mutex
	state     runState
	waiting   fifo   // may hold sequences already aborted; they are skipped
	nWaiting  int    // live sequences in waiting
	cancelled []*seq // sequences whose Submit ctx is done, for the loop to drop
	stats     Stats
}

type runState int

const (
	stateIdle runState = iota
	stateRunning
	stateStopped
)

// seqState is owned by the loop once the sequence is queued.
type seqState int

const (
	seqWaiting seqState = iota
	seqRunning
	seqDone
)

// seq is one sequence from Submit to its final Event.
type seq struct {
	ctx   context.Context
	stop  func() bool // unregisters the ctx cancellation callback
	ch    chan Event
	keys  []prefixcache.Key
	owner string // Request.Tenant, for the cache entries it inserts
	base  uint64 // output seed
	max   int
	kv    int // KV tokens reserved while running
	// pending is the prompt tokens still to prefill; the sequence decodes once it is 0.
	pending int
	usage   Usage
	state   seqState
}

// New validates cfg and returns an engine that is not yet running. cache may
// be nil to disable prefix caching; obs may be nil.
func New(cfg Config, cache *prefixcache.Cache, obs Observer) (*Engine, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, cache: cache, obs: obs, wake: make(chan struct{}, 1)}
	e.stats.KVCapacityTokens = cfg.KVCapacityTokens
	return e, nil
}

// Submit queues req and returns its event stream, buffered so the loop never
// blocks on a slow reader. Cancelling ctx aborts the sequence: its KV is
// freed at the next step and its final Event carries ctx.Err(). Submit never
// blocks on the loop; a full queue is ErrOverloaded.
func (e *Engine) Submit(ctx context.Context, req Request) (<-chan Event, error) {
	if req.MaxTokens < 1 {
		return nil, fmt.Errorf("%w: Request.MaxTokens is %d, want at least 1", ErrInvalid, req.MaxTokens)
	}
	if len(req.Prompt) == 0 {
		return nil, fmt.Errorf("%w: Request.Prompt is empty", ErrInvalid)
	}
	// Compared without adding, so a huge MaxTokens cannot overflow the sum
	// past the check and then size the event channel.
	if len(req.Prompt) > e.cfg.KVCapacityTokens || req.MaxTokens > e.cfg.KVCapacityTokens-len(req.Prompt) {
		return nil, fmt.Errorf("%w: prompt %d + max tokens %d > %d", ErrTooLarge, len(req.Prompt), req.MaxTokens, e.cfg.KVCapacityTokens)
	}
	need := len(req.Prompt) + req.MaxTokens
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Hashing happens here, on the caller's goroutine, so the single loop
	// only does cache lookups.
	s := &seq{
		ctx:   ctx,
		ch:    make(chan Event, req.MaxTokens+1),
		base:  outputSeed(req.Model, req.Prompt, req.Seed),
		max:   req.MaxTokens,
		kv:    need,
		usage: Usage{PromptTokens: len(req.Prompt)},
		owner: req.Tenant,
	}
	if e.cache != nil {
		s.keys = prefixcache.BlockKeys(req.Salt, req.Prompt, e.cfg.BlockSize)
	}

	e.mu.Lock()
	switch {
	case e.state == stateStopped:
		e.mu.Unlock()
		return nil, ErrStopped
	case e.nWaiting >= e.cfg.MaxWaiting:
		e.mu.Unlock()
		return nil, ErrOverloaded
	}
	e.waiting.push(s)
	e.nWaiting++
	e.stats.Waiting = e.nWaiting
	// Registered under mu so the callback, which also takes mu, cannot see
	// the sequence before it is queued.
	s.stop = context.AfterFunc(ctx, func() {
		e.mu.Lock()
		e.cancelled = append(e.cancelled, s)
		e.mu.Unlock()
		e.notify()
	})
	e.mu.Unlock()
	e.notify()
	return s.ch, nil
}

// Stats returns the load as of the last scheduling step.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stats
}

// notify wakes the loop if it is idle, without blocking.
func (e *Engine) notify() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}
