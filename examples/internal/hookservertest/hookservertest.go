// Package hookservertest is a client that misbehaves against an event
// listener, for the tests of the programs that use hookserver.
package hookservertest

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Trickle sends a POST to addr with headers and a declared body of 1 KiB,
// then one body byte every 20 ms, never finishing it. The channel receives
// the status the server answers with (0 when it closes the connection
// without one).
func Trickle(t *testing.T, addr, path string, header http.Header) <-chan int {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop); _ = conn.Close() })
	req := "POST " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/json\r\nContent-Length: 1024\r\n"
	for k, vs := range header {
		for _, v := range vs {
			req += k + ": " + v + "\r\n"
		}
	}
	_, err = io.WriteString(conn, req+"\r\n{")
	require.NoError(t, err)
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := io.WriteString(conn, " "); err != nil {
					return
				}
			}
		}
	}()
	answered := make(chan int, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	return answered
}
