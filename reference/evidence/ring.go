package evidence

import "github.com/aruntime/arcert/api/discovery"

// ring is the Memory store's records, oldest first, in a circular buffer. Dropping the oldest
// record and appending a new one moves no other record and, once the buffer has grown to the
// number of records the bounds let it hold, allocates nothing: a slice re-sliced from the front
// and appended at the back would copy the whole store into a new array every so often, and the
// garbage of those copies, not the records, would set the process's peak memory.
type ring struct {
	buf  []discovery.Record
	head int // index of the oldest record
	n    int
}

// ringMinCap is the buffer's first size and smallest growth; past it the buffer grows by a
// quarter at a time (up to the record bound), so that slots beyond what the byte bound lets the
// store hold stay few: each is a whole Record of memory.
const ringMinCap = 1024

func (r *ring) len() int { return r.n }

// at is the i-th record, oldest first.
func (r *ring) at(i int) *discovery.Record { return &r.buf[(r.head+i)%len(r.buf)] }

// push appends rec, growing the buffer (up to maxLen records) when it is full.
func (r *ring) push(rec discovery.Record, maxLen int) {
	if r.n == len(r.buf) {
		grown := make([]discovery.Record, min(len(r.buf)+max(ringMinCap, len(r.buf)/4), maxLen))
		for i := range r.n {
			grown[i] = *r.at(i)
		}
		r.buf, r.head = grown, 0
	}
	r.buf[(r.head+r.n)%len(r.buf)] = rec
	r.n++
}

// pop drops the oldest record, releasing its strings.
func (r *ring) pop() discovery.Record {
	old := r.buf[r.head]
	r.buf[r.head] = discovery.Record{}
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	return old
}
