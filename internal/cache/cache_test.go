package cache

import "testing"

func TestCacheKeepsOnlyWhatNoChangeCameAfter(t *testing.T) {
	c := New[string, int](2)
	_, epoch, ok := c.Get("a")
	if ok {
		t.Fatal("a cache starts off and holds nothing")
	}
	c.Put("a", epoch, 1)
	if _, _, ok := c.Get("a"); ok {
		t.Fatal("an off cache kept a value")
	}

	if c.On() {
		t.Fatal("a new cache is on")
	}
	c.Reset(true)
	if !c.On() {
		t.Fatal("Reset(true) left the cache off")
	}
	_, epoch, _ = c.Get("a")
	c.Put("a", epoch, 1)
	if v, _, ok := c.Get("a"); !ok || v != 1 {
		t.Fatalf("Get(a) = %d, %v after Put", v, ok)
	}

	// A read that began before a change is not kept: it may be older.
	_, before, _ := c.Get("b")
	c.Forget("x")
	c.Put("b", before, 2)
	if _, _, ok := c.Get("b"); ok {
		t.Fatal("a value read before a change was kept")
	}

	c.Forget("a")
	if _, _, ok := c.Get("a"); ok {
		t.Fatal("a forgotten value is still kept")
	}

	// At most size values, the least recently used going first.
	_, epoch, _ = c.Get("p")
	c.Put("p", epoch, 1)
	c.Put("q", epoch, 2)
	c.Get("p")
	c.Put("r", epoch, 3)
	if _, _, ok := c.Get("q"); ok {
		t.Fatal("the least recently used value was not dropped")
	}
	if _, _, ok := c.Get("p"); !ok {
		t.Fatal("a recently used value was dropped")
	}

	c.Reset(false)
	if _, _, ok := c.Get("p"); ok {
		t.Fatal("a cache turned off still serves")
	}
}
