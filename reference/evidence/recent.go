package evidence

// recentRecords is how many of the latest chained record ids the Service remembers. It catches a
// record appended twice in quick succession (a caller retrying an Append that in fact succeeded),
// which arrives as a first delivery in a new batch and so is not otherwise checked; older copies
// only arrive as replays or redeliveries, which are checked against the chain itself.
const recentRecords = 1 << 16

// recentIDs is a bounded set of the record ids chained last, oldest forgotten first. Only the
// Service's Run uses it.
type recentIDs struct {
	set  map[string]struct{}
	ring []string
	next int
}

func (r *recentIDs) has(id string) bool {
	_, ok := r.set[id]
	return ok
}

func (r *recentIDs) add(id string) {
	if r.set == nil {
		r.set = make(map[string]struct{}, recentRecords)
		r.ring = make([]string, recentRecords)
	}
	if old := r.ring[r.next]; old != "" {
		delete(r.set, old)
	}
	r.ring[r.next] = id
	r.set[id] = struct{}{}
	r.next = (r.next + 1) % recentRecords
}

// clear forgets everything, for when ids may name records that were never stored.
func (r *recentIDs) clear() { *r = recentIDs{} }
