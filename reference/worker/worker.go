// Package worker is the reference runtime's GPU worker: the arcert.v1.Worker
// gRPC service in front of the simulated continuous-batching engine.
//
// It exists so the router talks to workers over a real socket that can be
// cut, and so everything the router must not be trusted with stays here: the
// worker authenticates the router by the shared worker credential, derives
// the prefix-cache salt from the tenant the router bound (never from what the
// client wrote alone), sizes KV capacity from its device's memory, and
// reports the artifact digests and versions it has applied.
package worker

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/reference/attest"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/worker/device"
	"github.com/aruntime/arcert/reference/worker/engine"
	"github.com/aruntime/arcert/reference/worker/prefixcache"
)

// Sentinel errors of the worker, matched with errors.Is; the wrapping error
// carries the detail.
var (
	// ErrOptions means Options cannot describe a working worker (missing
	// id, token or models, or weights and KV that do not fit the device).
	ErrOptions = errors.New("worker: invalid options")
	// ErrRunning means Run or Serve was called on a Server whose engine has
	// already been started; a worker owns exactly one engine loop.
	ErrRunning = errors.New("worker: already started")
	// ErrNoArtifacts means Apply was called on a worker built without
	// Options.Artifacts, which serves its configured digests and nothing else.
	ErrNoArtifacts = errors.New("worker: no artifact source")
	// ErrUnknownModel means Apply named a model this worker does not serve.
	ErrUnknownModel = errors.New("worker: model not served")
)

// DefaultDrainTimeout is how long Serve lets in-flight streams finish after
// its context ends before cutting them, when Options.DrainTimeout is zero.
// It is a few decode-heavy requests long, and short enough for a restart.
const DefaultDrainTimeout = 5 * time.Second

// Options configures one worker. They come from the runtime configuration so
// that capacity is declared, not discovered under load.
type Options struct {
	Worker config.Worker // id, region, pool, models, device and engine spec
	// Models are the models this worker serves, looked up by the caller from
	// the configuration; every name in Worker.Models must be among them.
	Models  []config.Model
	Runtime config.Runtime // versions to report from Versions
	// Token is the worker credential: every RPC must carry metadata
	// `authorization: Bearer <Token>` or is refused as Unauthenticated.
	Token string
	// Index is the device index, which makes the simulated device's UUID
	// stable across runs so evidence names the same device.
	Index int
	// DrainTimeout bounds graceful shutdown in Serve; zero means
	// DefaultDrainTimeout.
	DrainTimeout time.Duration
	Logger       *slog.Logger // nil means slog.Default()
	// Salt derives a request's prefix-cache salt from the model, the authenticated tenant and the
	// client's cache_salt; nil means the isolating default (the tenant first, then the client's
	// salt, narrowed to the model). It is a seam for the harness's negative controls, which
	// replace it with a policy that shares cache across tenants to prove the harness notices.
	Salt func(model, tenant, clientSalt string) []byte
	// Observer sees every engine step (batch size, prefill tokens, step time), for metrics; nil
	// observes nothing. It runs on the engine's loop, so it must be quick.
	Observer engine.Observer
	// L2 is the shared cache tier behind the L1 prefix cache: blocks L1 evicts are demoted to
	// it, and on an L1 miss it is asked before prefill and what it holds is promoted back. nil
	// keeps the worker to its L1, exactly as before the tier existed. It needs an L1
	// (Worker.Engine.PrefixCacheBlocks > 0).
	L2 L2Client
	// L2Timeout bounds each call to L2, so a slow tier costs a request at most this much before
	// it counts as a miss; zero means DefaultL2Timeout.
	L2Timeout time.Duration
	// Artifacts pulls and verifies model artifacts for Apply; nil means the worker serves the
	// digests of its configuration and Apply refuses.
	Artifacts ArtifactSource
	// Device is the device to run on; nil opens Worker.Device.Backend (the simulated device by
	// default). Tests pass an NVML device on go-nvml's mock here.
	Device device.Device
	// DeviceMetrics exports device state and pressure; nil exports nothing.
	DeviceMetrics *DeviceMetrics
}

// Server implements arcertv1.WorkerServer. Create it with New, then either
// Serve, or Register it on a grpc.Server you own and call Run.
type Server struct {
	arcertv1.UnimplementedWorkerServer

	id, region, pool string
	runtime          config.Runtime
	models           map[string]config.Model
	source           ArtifactSource
	applyMu          sync.Mutex           // serialises Apply, so the last call wins
	mu               sync.RWMutex         // guards artifacts against Apply
	artifacts        []*arcertv1.Artifact // applied digests, in Options.Models order
	maxBatch         int
	tokenDigest      [32]byte
	drain            time.Duration
	log              *slog.Logger
	salt             func(model, tenant, clientSalt string) []byte
	// instance names this run of the worker, so a replacement is told from the old one.
	instance string

	dev      device.Device
	closeDev func() error
	res      *residency
	inflight inflight
	metrics  *DeviceMetrics
	role     string
	poll     time.Duration
	// ignoredXIDs do not drain the worker: application faults, not device ones.
	ignoredXIDs []uint64
	eng         *engine.Engine
	tiers       *tiers // nil without an L2
	// seen logs the credentials presented to the worker (see CredentialsSeen).
	seen credentialLog
	// replayed is the attestation text an attestation_replayed event told the worker to present
	// as its own until clear (another worker's: the harness checks the router refuses it).
	replayed atomic.Pointer[string]

	started  atomic.Bool // Run was called once
	live     atomic.Bool // the engine loop is running
	stopping atomic.Bool // Serve's context ended; draining
}

var _ arcertv1.WorkerServer = (*Server)(nil)

// New builds the worker's device, prefix cache and engine. Model weights
// are reserved on the device first, so a worker whose models do not fit
// fails here instead of overcommitting; what the utilization target leaves
// after them becomes KV capacity for the most KV-hungry model.
func New(o Options) (*Server, error) {
	if err := validate(o); err != nil {
		return nil, err
	}
	s := &Server{
		id: o.Worker.ID, region: o.Worker.Region, pool: o.Worker.Pool,
		runtime:     o.Runtime,
		models:      make(map[string]config.Model, len(o.Models)),
		maxBatch:    o.Worker.Engine.MaxBatch,
		tokenDigest: digestToken(o.Token),
		drain:       o.DrainTimeout,
		log:         o.Logger,
		source:      o.Artifacts,
		instance:    newInstance(),
	}
	if s.drain <= 0 {
		s.drain = DefaultDrainTimeout
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With("worker", s.id)

	spec := o.Worker.Device
	s.dev, s.closeDev = o.Device, func() error { return nil }
	if s.dev == nil {
		var err error
		index := o.Index
		if spec.Index != nil {
			index = *spec.Index // a one-GPU container runs any worker on its device 0
		}
		if s.dev, s.closeDev, err = device.Open(spec.Backend, index, spec.Name, spec.MemoryBytes, s.log); err != nil {
			return nil, fmt.Errorf("%w: device %d (%s backend): %w", ErrOptions, index, spec.Backend, err)
		}
	}
	// Only a device configured as sim is put in CC mode: one that auto fell back to (aruntime
	// --device auto overrides the validated backend) attests nothing, so a host without NVML never
	// turns into attested capacity signing with the public TEST-ONLY key.
	if sim, ok := s.dev.(*device.Sim); ok && spec.Confidential && (spec.Backend == config.DeviceSim || spec.Backend == "") {
		sim.Confidential(attest.TestOnlyKey())
	} else if spec.Confidential {
		s.log.Warn("device.confidential is ignored: only a device with backend sim is put in confidential-computing mode", "worker", o.Worker.ID, "backend", spec.Backend)
	}
	s.role, s.metrics, s.poll = o.Worker.Role, o.DeviceMetrics, o.Worker.Device.Pressure.PollInterval
	if s.ignoredXIDs = o.Worker.Device.IgnoredXIDs; s.ignoredXIDs == nil {
		s.ignoredXIDs = config.DefaultIgnoredXIDs // a configuration not loaded through config.Load
	}
	if s.poll <= 0 {
		s.poll = config.DefaultPressurePoll
	}
	es := o.Worker.Engine
	var cache *prefixcache.Cache
	if es.PrefixCacheBlocks > 0 {
		cache = prefixcache.New(es.PrefixCacheBlocks)
	}
	var err error
	if s.res, err = newResidency(s.dev, o, cache, o.DeviceMetrics); err != nil {
		_ = s.closeDev()
		return nil, err
	}
	var kvPerToken uint64
	for _, m := range o.Models {
		kvPerToken = max(kvPerToken, m.KVBytesPerToken)
		s.models[m.Name] = m
		s.artifacts = append(s.artifacts, &arcertv1.Artifact{Model: m.Name, Digest: m.ArtifactDigest})
	}
	kv := s.dev.KVCapacityTokens(kvPerToken, spec.Utilization)
	if kv < 1 {
		_ = s.closeDev()
		return nil, fmt.Errorf("%w: no kv capacity left on device %q (%d bytes, utilization %v, %d kv bytes per token)",
			ErrOptions, spec.Name, spec.MemoryBytes, spec.Utilization, kvPerToken)
	}

	eng, err := engine.New(engine.Config{
		MaxBatch:         es.MaxBatch,
		MaxWaiting:       es.MaxWaiting,
		KVCapacityTokens: kv,
		BlockSize:        es.BlockSize,
		Cost: engine.CostModel{
			PrefillPerToken:  es.PrefillPerToken,
			DecodeStepBase:   es.DecodeStepBase,
			DecodeStepPerSeq: es.DecodeStepPerSeq,
		},
		PrefillBudget:       es.PrefillBudget(),
		PrefillArrivalOrder: es.PrefillOrder == config.PrefillArrival,
	}, cache, o.Observer)
	if err != nil {
		_ = s.closeDev()
		return nil, fmt.Errorf("%w: %w", ErrOptions, err)
	}
	if s.tiers, err = newTiers(o, cache, s.log); err != nil {
		_ = s.closeDev()
		return nil, err
	}
	s.eng = eng
	s.salt = o.Salt
	if s.salt == nil {
		s.salt = requestSalt
	}
	return s, nil
}

// validate checks what New cannot repair: identity, credential and models.
func validate(o Options) error {
	switch {
	case o.Worker.ID == "":
		return fmt.Errorf("%w: Worker.ID is empty", ErrOptions)
	case o.Token == "":
		return fmt.Errorf("%w: Token is empty; a worker never runs unauthenticated", ErrOptions)
	case len(o.Models) == 0:
		return fmt.Errorf("%w: worker %q serves no models", ErrOptions, o.Worker.ID)
	}
	seen := make(map[string]bool, len(o.Models))
	for _, m := range o.Models {
		if m.Name == "" || seen[m.Name] {
			return fmt.Errorf("%w: model name %q is empty or repeated", ErrOptions, m.Name)
		}
		seen[m.Name] = true
	}
	for _, name := range o.Worker.Models {
		if !seen[name] {
			return fmt.Errorf("%w: worker %q lists model %q but Options.Models does not describe it", ErrOptions, o.Worker.ID, name)
		}
	}
	return nil
}

// newInstance is a random identifier of one run of a worker.
func newInstance() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}
