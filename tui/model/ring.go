package model

// Ring is a fixed-capacity history of samples, oldest first. The zero value
// is unusable; make one with NewRing.
type Ring struct {
	buf    []float64
	start  int
	n      int
	pushed uint64
}

// NewRing returns a ring that keeps the last capacity samples.
func NewRing(capacity int) *Ring {
	if capacity < 1 {
		capacity = 1
	}
	return &Ring{buf: make([]float64, capacity)}
}

// Push appends v, dropping the oldest sample when full.
func (r *Ring) Push(v float64) {
	r.pushed++
	if r.n < len(r.buf) {
		r.buf[(r.start+r.n)%len(r.buf)] = v
		r.n++
		return
	}
	r.buf[r.start] = v
	r.start = (r.start + 1) % len(r.buf)
}

// Prepend puts vals (oldest first) before the samples held, as many of
// the newest of them as there is room for.
func (r *Ring) Prepend(vals []float64) {
	vals = vals[max(0, len(vals)-(len(r.buf)-r.n)):]
	for i := len(vals) - 1; i >= 0; i-- {
		r.start = (r.start - 1 + len(r.buf)) % len(r.buf)
		r.buf[r.start] = vals[i]
		r.n++
	}
}

// Len is the number of samples held.
func (r *Ring) Len() int { return r.n }

// Cap is the most samples the ring holds.
func (r *Ring) Cap() int { return len(r.buf) }

// At returns sample i, 0 being the oldest held.
func (r *Ring) At(i int) float64 { return r.buf[(r.start+i)%len(r.buf)] }

// Last returns the newest sample, or 0 when empty.
func (r *Ring) Last() float64 {
	if r.n == 0 {
		return 0
	}
	return r.At(r.n - 1)
}

// Max returns the largest of the newest n samples (all when n <= 0).
func (r *Ring) Max(n int) float64 {
	if n <= 0 || n > r.n {
		n = r.n
	}
	m := 0.0
	for i := r.n - n; i < r.n; i++ {
		if v := r.At(i); v > m {
			m = v
		}
	}
	return m
}

// Avg returns the mean of the newest n samples (all when n <= 0).
func (r *Ring) Avg(n int) float64 {
	if n <= 0 || n > r.n {
		n = r.n
	}
	if n == 0 {
		return 0
	}
	s := 0.0
	for i := r.n - n; i < r.n; i++ {
		s += r.At(i)
	}
	return s / float64(n)
}

// Pushed is how many samples were ever pushed: a graph places samples by
// it, so they keep their cell while newer ones arrive.
func (r *Ring) Pushed() uint64 { return r.pushed }

// Reset forgets every sample.
func (r *Ring) Reset() { r.start, r.n, r.pushed = 0, 0, 0 }
