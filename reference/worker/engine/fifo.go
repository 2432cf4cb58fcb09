package engine

// fifo is a growable ring of waiting sequences. A slice with a moving head
// would keep reallocating under steady load; the ring reuses its buffer, so
// queueing does not allocate once it has grown to the working size.
type fifo struct {
	buf  []*seq
	head int
	n    int
}

func (q *fifo) len() int { return q.n }

func (q *fifo) push(s *seq) {
	if q.n == len(q.buf) {
		buf := make([]*seq, max(16, 2*len(q.buf)))
		for i := range q.n {
			buf[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = buf, 0
	}
	q.buf[(q.head+q.n)%len(q.buf)] = s
	q.n++
}

// peek returns the oldest sequence, or nil when empty.
func (q *fifo) peek() *seq {
	if q.n == 0 {
		return nil
	}
	return q.buf[q.head]
}

// pop removes and returns the oldest sequence, or nil when empty.
func (q *fifo) pop() *seq {
	if q.n == 0 {
		return nil
	}
	s := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	return s
}
