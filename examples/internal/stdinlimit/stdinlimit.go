// Package stdinlimit bounds what the credential helpers read from their
// standard input: the request is small (a server URL, a kubelet request of
// a few hundred bytes), and a helper must not buffer whatever a caller
// pipes into it.
package stdinlimit

import (
	"fmt"
	"io"
)

// Max is the most a helper reads from stdin: 1 MiB.
const Max = 1 << 20

// TooLargeError is returned once the input passes the bound.
type TooLargeError struct {
	// What names the input, e.g. "the request on stdin".
	What string
	// Limit is the bound in bytes.
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is larger than %d bytes; send one request of at most that size", e.What, e.Limit)
}

// Reader returns a reader of r that yields at most limit bytes and then,
// if r has more, a [*TooLargeError] naming what: a reader past the bound is
// an error, never a silent truncation.
func Reader(r io.Reader, limit int64, what string) io.Reader {
	return &reader{r: r, left: limit, limit: limit, what: what}
}

// ReadAll reads all of r through [Reader].
func ReadAll(r io.Reader, limit int64, what string) ([]byte, error) {
	return io.ReadAll(Reader(r, limit, what))
}

type reader struct {
	r     io.Reader
	left  int64 // bytes still allowed
	limit int64
	what  string
}

func (b *reader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One more byte tells the end of the input from more of it.
		var one [1]byte
		for {
			n, err := b.r.Read(one[:])
			if n > 0 {
				return 0, &TooLargeError{What: b.what, Limit: b.limit}
			}
			if err != nil {
				return 0, err
			}
		}
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}
