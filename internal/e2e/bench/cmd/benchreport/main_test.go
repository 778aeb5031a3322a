package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSlowerP(t *testing.T) {
	slow := []float64{110, 112, 111, 115, 113, 114}
	fast := []float64{100, 101, 99, 102, 98, 100}
	assert.Less(t, slowerP(slow, fast), 0.01, "clearly slower")
	assert.Greater(t, slowerP(fast, slow), 0.99, "clearly faster")
	assert.InDelta(t, 0.5, slowerP(fast, fast), 0.01, "the same")
	assert.Equal(t, 1.0, slowerP(nil, fast))
}

func TestParseBench(t *testing.T) {
	in := `goos: linux
cpu: Test CPU
BenchmarkCheck/raw/c=1-2   100  500000 ns/op  1.000 req/op  66000 B/op  688 allocs/op
BenchmarkCheck/raw/c=1-2   100  700000 ns/op  1.000 req/op  66000 B/op  688 allocs/op
BenchmarkCheck/raw/c=1-2   100  600000 ns/op  1.000 req/op  66000 B/op  688 allocs/op
BenchmarkClient/oras-go/c=64-2 100 40000 ns/op 1.000 req/op 7900 B/op 98 allocs/op
`
	res, env, err := parseBench(strings.NewReader(in))
	require.NoError(t, err)
	assert.Equal(t, []string{"cpu: Test CPU"}, env)
	r := res["Check"]["raw"][1]
	assert.Equal(t, 600000.0, r.ns, "median")
	assert.Equal(t, 3, r.runs)
	assert.Equal(t, 98.0, res["Client"]["oras-go"][64].allocs)
}
