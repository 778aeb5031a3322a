package hookserver_test

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/molecule-ai/registrykit/examples/internal/hookserver"
	"github.com/molecule-ai/registrykit/examples/internal/hookservertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaults(t *testing.T) {
	srv := hookserver.New(http.NotFoundHandler(), hookserver.Timeouts{})
	assert.Equal(t, hookserver.DefaultHeaderTimeout, srv.ReadHeaderTimeout)
	assert.Equal(t, hookserver.DefaultReadTimeout, srv.ReadTimeout)
	srv = hookserver.New(http.NotFoundHandler(), hookserver.Timeouts{Read: time.Second})
	assert.Equal(t, time.Second, srv.ReadHeaderTimeout, "headers never get longer than the whole request")
}

// A body trickled after the headers is cut off at the read bound.
func TestTrickledBodyIsCutOff(t *testing.T) {
	handler := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(rw, "unreadable body", http.StatusBadRequest)
			return
		}
		rw.WriteHeader(http.StatusAccepted)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := hookserver.New(handler, hookserver.Timeouts{Read: 200 * time.Millisecond})
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	answered := hookservertest.Trickle(t, ln.Addr().String(), "/", nil)
	select {
	case status := <-answered:
		assert.NotEqual(t, http.StatusAccepted, status, "the body was never finished")
	case <-time.After(5 * time.Second):
		t.Fatal("the server still waits for a trickled body")
	}
}
