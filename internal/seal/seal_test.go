package seal

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestSealOpensOnlyWithSameKeyAndContext(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeySize)
	box, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := box.Seal([]byte("private key"), "site:1")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("private key")) {
		t.Fatal("sealed value contains the plaintext")
	}
	got, err := box.Open(sealed, "site:1")
	if err != nil || string(got) != "private key" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := box.Open(sealed, "site:2"); !errors.Is(err, ErrOpen) {
		t.Errorf("other context: %v, want ErrOpen", err)
	}
	other, _ := New(bytes.Repeat([]byte{8}, KeySize))
	if _, err := other.Open(sealed, "site:1"); !errors.Is(err, ErrOpen) {
		t.Errorf("other key: %v, want ErrOpen", err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := box.Open(sealed, "site:1"); !errors.Is(err, ErrOpen) {
		t.Errorf("tampered: %v, want ErrOpen", err)
	}
	if _, err := box.Open([]byte{1, 2}, "site:1"); !errors.Is(err, ErrOpen) {
		t.Errorf("short: %v, want ErrOpen", err)
	}
}

func TestParseKeyAcceptsHexAndBase64Only32Bytes(t *testing.T) {
	cases := []struct {
		in string
		ok bool
	}{
		{strings.Repeat("ab", 32), true},
		{"q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=", true},
		{"q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80", true},
		{strings.Repeat("ab", 16), false},
		{"not a key", false},
		{"", false},
	}
	for _, c := range cases {
		_, err := ParseKey(c.in)
		if (err == nil) != c.ok {
			t.Errorf("ParseKey(%q) err = %v, want ok=%v", c.in, err, c.ok)
		}
	}
}
