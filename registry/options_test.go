package registry_test

import (
	"testing"

	"github.com/molecule-ai/registrykit/registry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A nil logger discards, as no logger does.
func TestWithLoggerNilDiscards(t *testing.T) {
	for name, opts := range map[string][]registry.Option{
		"nil logger": {registry.WithLogger(nil)},
		"no logger":  nil,
	} {
		t.Run(name, func(t *testing.T) {
			log := registry.NewOptions(opts...).Log()
			require.NotNil(t, log)
			assert.NotPanics(t, func() { log.Info("discarded") })
		})
	}
}
