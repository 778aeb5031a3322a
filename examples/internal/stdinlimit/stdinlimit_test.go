package stdinlimit_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/molecule-ai/registrykit/examples/internal/stdinlimit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadAll(t *testing.T) {
	for _, tc := range []struct {
		name    string
		size    int
		tooLong bool
	}{
		{"empty", 0, false},
		{"under the bound", 10, false},
		{"exactly the bound", 16, false},
		{"one byte over", 17, true},
		{"far over", 1 << 16, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := strings.Repeat("x", tc.size)
			for _, r := range []io.Reader{strings.NewReader(in), iotest.OneByteReader(strings.NewReader(in))} {
				got, err := stdinlimit.ReadAll(r, 16, "the request on stdin")
				if !tc.tooLong {
					require.NoError(t, err)
					assert.Equal(t, in, string(got))
					continue
				}
				var tl *stdinlimit.TooLargeError
				require.True(t, errors.As(err, &tl), "%v", err)
				assert.EqualError(t, err, "the request on stdin is larger than 16 bytes; send one request of at most that size")
				assert.LessOrEqual(t, len(got), 16, "nothing past the bound is kept")
			}
		})
	}
}
