// Package bounded is a map safe for concurrent use whose size has a bound:
// the one helper behind every per-key memory the engine keeps (tokens per
// scope, refusals per repository, platform digests per index), so that a
// long-lived backend over many repositories stays bounded by what is in use.
package bounded

import "sync"

// DefaultMax is the bound of a Map whose Max is zero.
const DefaultMax = 1024

// Map is a bounded map. The zero value is ready to use; a Map must not be
// copied after first use.
type Map[K comparable, V any] struct {
	// Max bounds the number of entries; zero means DefaultMax.
	Max int
	// Stale reports entries worth nothing any more (an expired token). When
	// it is set, only stale entries are ever evicted: a full map of live
	// entries grows past Max, bounded by what is in use, since evicting a
	// live token would only fetch it again. When it is nil, arbitrary
	// entries go once the map is full.
	Stale func(V) bool

	mu sync.Mutex
	m  map[K]V
}

// Get returns the value of k.
func (m *Map[K, V]) Get(k K) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[k]
	return v, ok
}

// Set stores v under k.
func (m *Map[K, V]) Set(k K, v V) {
	m.Update(k, func(V, bool) V { return v })
}

// Update stores f(old, present) under k, atomically.
func (m *Map[K, V]) Update(k K, f func(old V, ok bool) V) V {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.m[k]
	v := f(old, ok)
	if !ok {
		m.makeRoom()
	}
	m.m[k] = v
	return v
}

// Delete removes k.
func (m *Map[K, V]) Delete(k K) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, k)
}

// Len returns the number of entries.
func (m *Map[K, V]) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.m)
}

// makeRoom makes room for one more entry, with m.mu held: with Stale, the
// stale entries go; without, arbitrary ones (Go's map order), down to three
// quarters of the bound so that eviction is not paid on every insertion.
func (m *Map[K, V]) makeRoom() {
	if m.m == nil {
		m.m = map[K]V{}
	}
	limit := m.Max
	if limit <= 0 {
		limit = DefaultMax
	}
	if len(m.m) < limit {
		return
	}
	if m.Stale != nil {
		for k, v := range m.m {
			if m.Stale(v) {
				delete(m.m, k)
			}
		}
		return
	}
	for k := range m.m {
		if len(m.m) <= limit*3/4 {
			break
		}
		delete(m.m, k)
	}
}
