// Package password hashes and verifies local passwords with argon2id
// (RFC 9106), stored in the PHC string format so parameters can change later
// without invalidating existing hashes.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

// MinLength is the shortest password accepted for an account.
const MinLength = 12

// RFC 9106's second recommended option, with memory lowered to 64 MiB so a
// burst of sign-ins does not exhaust a small server.
const (
	timeCost    = 3
	memoryKiB   = 64 * 1024
	parallelism = 2
	keyLength   = 32
	saltLength  = 16
)

// ErrMismatch reports a password that does not match its hash.
var ErrMismatch = errors.New("password does not match")

// ErrTooShort reports a password under MinLength characters.
var ErrTooShort = fmt.Errorf("password must be at least %d characters", MinLength)

// Validate applies the password policy.
func Validate(pw string) error {
	if len([]rune(pw)) < MinLength {
		return ErrTooShort
	}
	return nil
}

// Hash returns the argon2id PHC string for pw.
func Hash(pw string) (string, error) {
	salt := make([]byte, saltLength)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	memory, iterations := uint32(memoryKiB), uint32(timeCost)
	if testing.Testing() {
		// Under `go test -race` a 64 MiB hash takes seconds, and the suite
		// creates hundreds of admins. The parameters are stored in each
		// hash, so Verify is the same code either way; only the cost differs.
		memory, iterations = 1024, 1
	}
	key := argon2.IDKey([]byte(pw), salt, iterations, memory, parallelism, keyLength)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, memory, iterations, parallelism, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify checks pw against a hash made by Hash, in constant time.
func Verify(hash, pw string) error {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return errors.New("verify password: unknown hash format")
	}
	var version int
	var memory, iterations uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return errors.New("verify password: unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &iterations, &threads); err != nil {
		return fmt.Errorf("verify password: parameters: %w", err)
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return fmt.Errorf("verify password: salt: %w", err)
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil {
		return fmt.Errorf("verify password: key: %w", err)
	}
	got := argon2.IDKey([]byte(pw), salt, iterations, memory, threads, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}
