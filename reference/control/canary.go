package control

import (
	"crypto/sha256"
	"encoding/binary"
)

// DesiredDigest is the artifact digest workerID should serve for the model named model, whose
// repository document is doc: the document's digest, unless a rollout is moving the model away
// from exactly that digest, in which case a worker takes the rollout's ToDigest when its canary
// bucket is under the rollout's Weight and FromDigest otherwise.
//
// A pinned model ignores rollouts. A rollout whose FromDigest is not the model's current digest is
// stale (the model document changed after it, by promotion or rollback) and is ignored too, so the
// model document always has the last word.
//
// The bucket depends only on (workerID, model), so a worker stays in or out of a canary across
// restarts and across weight changes: raising the weight only adds workers, never swaps them.
func DesiredDigest(model string, doc ModelDoc, rollout *RolloutDoc, workerID string) string {
	if doc.Pinned || rollout == nil || rollout.FromDigest != doc.ArtifactDigest {
		return doc.ArtifactDigest
	}
	if canaryBucket(workerID, model) < rollout.Weight {
		return rollout.ToDigest
	}
	return rollout.FromDigest
}

// canaryBucket places a worker in 0..99 for a model. A cryptographic hash is used for its even
// spread over similar ids (w-1, w-2, ...), not for secrecy; the zero byte keeps ("ab", "c") and
// ("a", "bc") apart.
func canaryBucket(workerID, model string) int {
	h := sha256.New()
	h.Write([]byte(workerID))
	h.Write([]byte{0})
	h.Write([]byte(model))
	return int(binary.BigEndian.Uint64(h.Sum(nil)[:8]) % maxWeight)
}
