package bench

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/molecule-ai/registrykit/internal/e2e"
)

// A fleet of three asks the registry once per image per tick after the
// first, whose requests are every watcher's own seeds.
func TestMeasureFleet(t *testing.T) {
	res, err := MeasureFleet(context.Background(), 3, 3)
	if errors.Is(err, e2e.ErrNoRedis) && os.Getenv("REGISTRYKIT_REQUIRE_REDIS") != "1" {
		t.Skip(err)
	}
	require.NoError(t, err)
	assert.Equal(t, 9, res.Images)
	assert.GreaterOrEqual(t, res.FirstTick, int64(3*9), "every watcher seeds from its own HEADs")
	assert.InDelta(t, 9, res.Requests, 0.01, "one request per image per tick for the fleet")
	assert.Positive(t, res.Redis)
	assert.Positive(t, res.BytesPerWatcher)
}
