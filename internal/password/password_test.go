package password

import (
	"encoding/base64"

	"errors"
	"golang.org/x/crypto/argon2"
	"testing"
)

func TestHashVerifiesOnlyTheSamePassword(t *testing.T) {
	h, err := Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(h, "correct horse battery"); err != nil {
		t.Fatalf("right password: %v", err)
	}
	if err := Verify(h, "correct horse batterY"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("wrong password: got %v, want ErrMismatch", err)
	}
	h2, _ := Hash("correct horse battery")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
}

func TestVerifyRefusesMalformedHashes(t *testing.T) {
	for _, h := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA", "$argon2id$v=19$m=1,t=1,p=1$!!$AA"} {
		if err := Verify(h, "whatever"); err == nil || errors.Is(err, ErrMismatch) {
			t.Errorf("Verify(%q) = %v, want a format error", h, err)
		}
	}
}

func TestValidateNeedsTwelveCharacters(t *testing.T) {
	cases := map[string]bool{"": false, "elevenchars": false, "twelve chars": true, "ééééééééééé": false, "éééééééééééé": true}
	for pw, ok := range cases {
		if err := Validate(pw); (err == nil) != ok {
			t.Errorf("Validate(%q) = %v, want ok=%v", pw, err, ok)
		}
	}
}

func TestVerifyUsesTheParametersStoredInTheHash(t *testing.T) {
	// A production-cost hash (made with the real parameters) verifies too.
	const production = "$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHRzYWx0c2FsdA$"
	salt := []byte("saltsaltsaltsalt")
	key := argon2.IDKey([]byte("correct horse battery"), salt, 3, 65536, 2, 32)
	h := production + base64.RawStdEncoding.EncodeToString(key)
	if err := Verify(h, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if err := Verify(h, "wrong horse battery"); !errors.Is(err, ErrMismatch) {
		t.Fatal(err)
	}
}
