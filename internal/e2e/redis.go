package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisServer is a redis-server process on a loopback port, without
// persistence, that a test can stop and start again on the same port.
type RedisServer struct {
	Addr string
	cmd  *exec.Cmd
	done chan error
}

// ErrNoRedis reports that redis-server is not installed.
var ErrNoRedis = errors.New("redis-server not found on PATH (Debian: apt-get install redis-server; .ci/run installs it)")

// StartRedis starts redis-server on a free loopback port.
func StartRedis() (*RedisServer, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, ErrNoRedis
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	r := &RedisServer{Addr: addr}
	return r, r.Start()
}

// Start starts the server (again) on its port and waits until it answers.
func (r *RedisServer) Start() error {
	_, port, _ := net.SplitHostPort(r.Addr)
	r.cmd = exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning")
	var out bytes.Buffer // its log, for the error when it does not start
	r.cmd.Stdout, r.cmd.Stderr = &out, &out
	if err := r.cmd.Start(); err != nil {
		return err
	}
	r.done = make(chan error, 1)
	go func() { r.done <- r.cmd.Wait() }()
	c := redis.NewClient(&redis.Options{Addr: r.Addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := c.Ping(context.Background()).Err(); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			r.Stop()
			return fmt.Errorf("redis-server on port %s did not answer: %w; its log: %s", strconv.Quote(port), err, out.String())
		}
		select {
		case err := <-r.done:
			return fmt.Errorf("redis-server exited: %v; its log: %s", err, out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop kills the server, as a crash would, and waits for it to exit.
func (r *RedisServer) Stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	<-r.done
	r.cmd = nil
}
