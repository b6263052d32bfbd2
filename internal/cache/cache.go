// Package cache keeps values read from PostgreSQL in the process, for as
// long as the process is sure to hear of every change to them: a change is
// announced on a notification channel (see App.WatchConfig), and a cache is
// on only while its process listens.
package cache

import (
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Cache holds at most its size of values, the least recently used going
// first. It starts off.
type Cache[K comparable, V any] struct {
	mu sync.Mutex
	on bool
	// epoch moves on with every forget: a value read from the database
	// before a forget may be older than the change, and is not kept.
	epoch   Epoch
	entries *lru.Cache[K, V]
}

// Epoch is when a read began, for Put.
type Epoch uint64

// New returns a cache of size values.
func New[K comparable, V any](size int) *Cache[K, V] {
	entries, err := lru.New[K, V](size)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &Cache[K, V]{entries: entries}
}

// Get returns the value kept for key, and the epoch to Put a fresh read
// under when there is none.
func (c *Cache[K, V]) Get(key K) (V, Epoch, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var v V
	if !c.on {
		return v, c.epoch, false
	}
	v, ok := c.entries.Get(key)
	return v, c.epoch, ok
}

// On reports whether the cache keeps values: a preload while it is off
// would be read for nothing.
func (c *Cache[K, V]) On() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.on
}

// Epoch returns the epoch to Put values read from now on under.
func (c *Cache[K, V]) Epoch() Epoch {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// Put keeps v for key, unless the cache is off or something was forgotten
// since epoch.
func (c *Cache[K, V]) Put(key K, epoch Epoch, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on || epoch != c.epoch {
		return
	}
	c.entries.Add(key, v)
}

// Forget drops key's value after a change to it.
func (c *Cache[K, V]) Forget(key K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	c.entries.Remove(key)
}

// ForgetAll drops every value after a change that may concern any.
func (c *Cache[K, V]) ForgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	c.entries.Purge()
}

// Reset drops every value and turns the cache on (the process hears every
// change from now on) or off (changes may go unheard).
func (c *Cache[K, V]) Reset(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	c.on = on
	c.entries.Purge()
}
