package bounded

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestGetSetUpdateDelete(t *testing.T) {
	var m Map[string, int]
	_, ok := m.Get("a")
	assert.False(t, ok)
	m.Set("a", 1)
	assert.Equal(t, 2, m.Update("a", func(old int, ok bool) int { return old + 1 }))
	v, ok := m.Get("a")
	assert.True(t, ok)
	assert.Equal(t, 2, v)
	m.Delete("a")
	assert.Zero(t, m.Len())
}

func TestTheBoundHolds(t *testing.T) {
	tests := []struct{ max, inserts int }{{0, 5000}, {1, 10}, {2, 10}, {3, 10}, {8, 1000}, {100, 100}}
	for _, tt := range tests {
		m := Map[int, int]{Max: tt.max} // no Stale: arbitrary eviction
		limit := tt.max
		if limit == 0 {
			limit = DefaultMax
		}
		for i := range tt.inserts {
			m.Set(i, i)
			assert.LessOrEqual(t, m.Len(), limit, "max %d after %d", tt.max, i)
			v, ok := m.Get(i)
			assert.True(t, ok, "the entry just stored is kept")
			assert.Equal(t, i, v)
		}
	}
}

func TestStaleEntriesGoFirst(t *testing.T) {
	m := Map[int, bool]{Max: 4, Stale: func(live bool) bool { return !live }}
	m.Set(1, true)
	m.Set(2, false)
	m.Set(3, true)
	m.Set(4, false)
	m.Set(5, true) // full: the two stale entries go, nothing else
	for _, k := range []int{1, 3, 5} {
		_, ok := m.Get(k)
		assert.True(t, ok, "live entry %d kept", k)
	}
	assert.Equal(t, 3, m.Len())
}

// With Stale set, a live entry is never evicted: a full map of live entries
// grows (evicting a live token would only fetch it again).
func TestLiveEntriesAreNeverEvictedWhenStaleIsSet(t *testing.T) {
	m := Map[int, bool]{Max: 4, Stale: func(live bool) bool { return !live }}
	for i := range 10 {
		m.Set(i, true)
	}
	assert.Equal(t, 10, m.Len())
	m.Set(10, false)
	m.Set(11, true) // makes room: only the stale entry goes
	assert.Equal(t, 11, m.Len())
}

func TestUpdatingAnExistingKeyEvictsNothing(t *testing.T) {
	m := Map[int, int]{Max: 2}
	m.Set(1, 1)
	m.Set(2, 2)
	m.Set(2, 3)
	assert.Equal(t, 2, m.Len())
}

func TestConcurrentUse(t *testing.T) {
	m := Map[int, int]{Max: 16}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				m.Update(i%32, func(old int, _ bool) int { return old + g })
				m.Get(i % 7)
			}
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, m.Len(), 16)
}
