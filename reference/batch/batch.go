// Package batch is the reference runtime's durable queue for the batch traffic class, in the shape
// of OpenAI's Batch API where it fits (inline requests with a custom_id, a batch object with a
// status and request counts, results per custom_id). Jobs live in a JetStream work-queue stream
// bounded by the declared capacity; the authenticated tenant travels in each message's headers,
// never in its body; a result is created once per job, so a job redelivered after a crash
// completes exactly once.
package batch

import (
	"encoding/json"
	"errors"
	"time"
)

// Names of the JetStream resources, and the header that carries the tenant bound at admission.
const (
	JobsStream    = "ARUNTIME_BATCH_JOBS"
	jobsSubject   = "aruntime.batch.jobs"
	BatchesBucket = "aruntime-batches"
	ResultsBucket = "aruntime-batch-results"
	IdemBucket    = "aruntime-batch-idempotency"
	HeaderTenant  = "Aruntime-Tenant"
	HeaderApp     = "Aruntime-Application"
	HeaderUser    = "Aruntime-User"
	HeaderBatch   = "Aruntime-Batch"
)

// Statuses of a batch, as OpenAI spells them.
const (
	StatusInProgress = "in_progress"
	StatusCompleted  = "completed"
)

// Sentinel errors of the package.
var (
	// ErrQueueFull means the jobs stream holds its declared capacity: the batch was not accepted.
	ErrQueueFull = errors.New("batch: queue full")
	// ErrNotFound means no batch with that id belongs to the caller.
	ErrNotFound = errors.New("batch: not found")
	// ErrInvalid means the batch request is malformed; the wrapping error names the field.
	ErrInvalid = errors.New("batch: invalid")
)

// Request is one line of a batch: a chat completion body with the caller's own id for it.
type Request struct {
	CustomID string          `json:"custom_id"`
	Body     json.RawMessage `json:"body"`
}

// Submission is the body of POST /v1/batches.
type Submission struct {
	Endpoint string    `json:"endpoint"`
	Requests []Request `json:"requests"`
}

// Counts are a batch's request counts.
type Counts struct {
	Total     int `json:"total"`
	Completed int `json:"completed"`
	Failed    int `json:"failed"`
}

// Batch is the batch object the API returns.
type Batch struct {
	ID        string    `json:"id"`
	Object    string    `json:"object"`
	Endpoint  string    `json:"endpoint"`
	Status    string    `json:"status"`
	Tenant    string    `json:"-"`
	CreatedAt int64     `json:"created_at"`
	Counts    Counts    `json:"request_counts"`
	Output    []Result  `json:"output,omitempty"`
	Created   time.Time `json:"-"`
	// customIDs are the batch's jobs in submission order, for a resumed submission to compare.
	customIDs []string
}

// record is what the batches bucket stores: the batch without its output and with its tenant.
type record struct {
	ID        string `json:"id"`
	Tenant    string `json:"tenant"`
	Endpoint  string `json:"endpoint"`
	Total     int    `json:"total"`
	CreatedAt int64  `json:"created_at"`
	// CustomIDs keeps the order results are returned in.
	CustomIDs []string `json:"custom_ids"`
}

// Result is one job's outcome: the response the synchronous endpoint would have given.
type Result struct {
	CustomID string   `json:"custom_id"`
	Response Response `json:"response"`
}

// Response is the status, outcome and body of a job's completion.
type Response struct {
	StatusCode int             `json:"status_code"`
	Outcome    string          `json:"outcome"`
	Reason     string          `json:"reason"`
	RequestID  string          `json:"request_id"`
	Body       json.RawMessage `json:"body"`
}

// job is one message of the jobs stream. Its tenant is in the headers.
type job struct {
	BatchID  string          `json:"batch_id"`
	CustomID string          `json:"custom_id"`
	Body     json.RawMessage `json:"body"`
}

// Principal is the identity a job runs as: the one bound when its batch was submitted.
type Principal struct {
	Tenant, Application, User string
}
