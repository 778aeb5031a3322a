package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/molecule-ai/registrykit/examples/internal/stdinlimit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A request past the bound is refused with the shared stdin limit's error.
func TestRequestOverTheBoundIsRefused(t *testing.T) {
	_, err := decodeRequest(strings.NewReader(strings.Repeat(" ", stdinlimit.Max+1)))
	var tooLarge *stdinlimit.TooLargeError
	require.True(t, errors.As(err, &tooLarge), "%v", err)
	assert.Contains(t, err.Error(), "the request on stdin is larger than 1048576 bytes")
}
