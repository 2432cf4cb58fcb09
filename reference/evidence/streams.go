package evidence

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/aruntime/arcert/api/discovery"
)

// The durable evidence service keeps two JetStream streams. Clients (routers, workers) publish
// unchained records to the inbox; the Service, the chain's only writer, takes them in order,
// chains them and appends them to the chain stream. Splitting the two is what lets many writers
// share one chain: a client never needs to know the chain's tail, and the chain is extended under
// a compare-and-set on its last sequence, so it cannot fork.
const (
	// InboxStream holds records accepted from clients and not yet chained. It is a work queue:
	// a record leaves it once the Service has chained it.
	InboxStream = "EVIDENCE_IN"
	// InboxSubject is where clients publish records.
	InboxSubject = "aruntime.evidence.in"
	// ChainStream holds the chain: append-only (no delete, no purge, no limits), so evidence is
	// kept until an operator decides otherwise, and each record's stream sequence is its Seq.
	ChainStream = "EVIDENCE"
	// ChainSubjectPrefix and a request's subject token name the chain subject of one request,
	// so the records of a request are found without a scan.
	ChainSubjectPrefix = "aruntime.evidence.rec."
)

// inboxDedupeWindow is how long the inbox remembers a message's id (a digest of its contents) to
// drop a second copy: the same batch sent twice, such as a message flushed from the connection's
// reconnect buffer that its sender also timed out on. It is only the first line of defence — the
// Service recognises replayed, redelivered and recently repeated records itself (see Service) —
// so it stays at JetStream's usual two minutes, as the server keeps every id for that long.
const inboxDedupeWindow = 2 * time.Minute

// replayHeader marks an inbox message replayed from a client's spool: a copy of it may already
// be chained, so the Service looks before chaining it.
const replayHeader = "Arcert-Evidence-Replay"

// streamConfigs are the two streams as EnsureStreams declares them, each kept on replicas
// servers (below 1 means 1).
func streamConfigs(replicas int) []jetstream.StreamConfig {
	replicas = max(replicas, 1)
	return []jetstream.StreamConfig{
		{
			Name:        InboxStream,
			Description: "evidence records accepted from routers and workers, not yet chained",
			Subjects:    []string{InboxSubject},
			Retention:   jetstream.WorkQueuePolicy,
			Storage:     jetstream.FileStorage,
			Duplicates:  inboxDedupeWindow,
			Replicas:    replicas,
		},
		{
			Name:        ChainStream,
			Description: "append-only hash-chained evidence and billing records",
			Subjects:    []string{ChainSubjectPrefix + ">"},
			Retention:   jetstream.LimitsPolicy,
			Storage:     jetstream.FileStorage,
			DenyDelete:  true,
			DenyPurge:   true,
			// No direct gets: they may be answered by a replica that lags the leader, and the
			// Service's duplicate check and a tenant reading its evidence right after the
			// response must both see the latest records.
			AllowDirect: false,
			Replicas:    replicas,
		},
	}
}

// EnsureStreams creates both evidence streams, kept on replicas servers (durable.replicas: three
// on a cluster, one embedded), or brings them to the declared configuration, replica count
// included, so raising durable.replicas scales existing streams. Every role calls it at start
// with the same configuration, so whichever starts first creates them; calling it again is
// harmless. An existing stream keeps its placement, which belongs to the deployment. A stream
// already as declared is left
// alone: besides sparing the API, nats-server 2.15.2 races (by its own race detector) a stream
// update against a consumer being created on the same stream, which every role's start would
// otherwise provoke.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, replicas int) error {
	for _, cfg := range streamConfigs(replicas) {
		st, err := js.Stream(ctx, cfg.Name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			_, err = js.CreateStream(ctx, cfg)
			if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
				continue // another role created it with the same configuration just now
			}
		} else if err == nil {
			if cur := st.CachedInfo().Config; !declared(cur, cfg) {
				cfg.Placement = cur.Placement
				_, err = js.UpdateStream(ctx, cfg)
			}
		}
		if err != nil {
			return fmt.Errorf("evidence: ensure stream %s: %w", cfg.Name, err)
		}
	}
	return nil
}

// declared reports whether cur has every setting streamConfigs declares as want (a zero
// Duplicates leaves the server's default).
func declared(cur, want jetstream.StreamConfig) bool {
	return slices.Equal(cur.Subjects, want.Subjects) && cur.Description == want.Description &&
		cur.Retention == want.Retention && cur.Storage == want.Storage &&
		(want.Duplicates == 0 || cur.Duplicates == want.Duplicates) && cur.DenyDelete == want.DenyDelete &&
		cur.DenyPurge == want.DenyPurge && cur.AllowDirect == want.AllowDirect && cur.Replicas == want.Replicas
}

// subjectToken is a request id as one subject token. Ids made of letters, digits, '-' and '_'
// (the router's are) are used as they are, so subjects stay readable; anything else (dots,
// wildcards, spaces) is base64url-encoded behind a '~', which no plain id contains, so two ids
// never share a subject.
func subjectToken(requestID string) string {
	for _, c := range []byte(requestID) {
		if !plainTokenByte(c) {
			return "~" + base64.RawURLEncoding.EncodeToString([]byte(requestID))
		}
	}
	return requestID
}

// plainTokenByte reports whether c may appear in a subject token as it is.
func plainTokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// chainSubject is the chain subject of one request.
func chainSubject(requestID string) string { return ChainSubjectPrefix + subjectToken(requestID) }

// recordID identifies a record independently of where it ends up in the chain: the Hash of the
// record with its chain fields cleared. It is what the Service compares to find a copy already
// chained. It is not the request id, because one request may have more than one record (a
// request record and a later billing correction), and those must both be kept; only a copy of
// the same record is dropped.
func recordID(r discovery.Record) string {
	r.Seq, r.PrevHash, r.Hash = 0, "", ""
	return Hash(r)
}

// Limits of the durable store, so that no record can become a message the Service cannot write
// to the chain (a subject or payload NATS refuses), which would stall the chain behind it.
const (
	// maxRequestIDBytes bounds a request id, which becomes part of a subject.
	maxRequestIDBytes = 256
	// maxRecordBytes bounds one record's JSON, far above a real record (under 1 KiB) and far
	// below NATS's 1 MiB message limit.
	maxRecordBytes = 64 << 10
)

// unchained is r as a client hands it over: validated, Time in UTC, chain fields cleared.
func unchained(r discovery.Record) (discovery.Record, error) {
	if err := validate(r); err != nil {
		return discovery.Record{}, err
	}
	if len(r.RequestID) > maxRequestIDBytes {
		return discovery.Record{}, fmt.Errorf("%w: request_id of %d bytes, at most %d", ErrInvalidRecord, len(r.RequestID), maxRequestIDBytes)
	}
	r.Time = r.Time.UTC()
	r.Seq, r.PrevHash, r.Hash = 0, "", ""
	return r, nil
}

// decodeRecord parses a stored or spooled record.
func decodeRecord(b []byte) (discovery.Record, error) {
	if len(b) > maxRecordBytes {
		return discovery.Record{}, fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidRecord, len(b), maxRecordBytes)
	}
	var r discovery.Record
	if err := json.Unmarshal(b, &r); err != nil {
		return discovery.Record{}, fmt.Errorf("%w: %w", ErrInvalidRecord, err)
	}
	return r, nil
}
