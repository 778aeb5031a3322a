// Command adminrefresh serves the platform's admin endpoint that pulls
// workspace images through the Docker Engine and recreates their
// containers:
//
//	POST /admin/workspace-images/refresh?runtime=langgraph&recreate=true
//
// The registry comes from MOLECULE_IMAGE_REGISTRY through registrykit, so
// the Engine receives the right X-Registry-Auth for GHCR, ECR, Gitea or any
// registry. The Engine is reached as the docker CLI would (DOCKER_HOST).
// ADMIN_TOKEN, when set, is required as a Bearer token.
package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/moby/moby/client"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/examples/internal/engine"
	"github.com/molecule-ai/registrykit/registry"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to serve on")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := serve(*listen, log); err != nil {
		fmt.Fprintln(os.Stderr, "adminrefresh:", err)
		os.Exit(1)
	}
}

func serve(addr string, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b, err := backends.FromEnv(&registry.Options{Logger: log})
	if err != nil {
		return err
	}
	docker, err := client.New(client.FromEnv)
	if err != nil {
		return err
	}
	defer docker.Close()
	h := &Handler{Backend: b, Refresher: &engine.Refresher{Engine: docker, Backend: b, Log: log}, Log: log}
	mux := http.NewServeMux()
	mux.Handle(Path, requireToken(os.Getenv("ADMIN_TOKEN"), h))
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	log.Info("serving", "addr", addr, "registry", b.Prefix())
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// requireToken demands "Authorization: Bearer <token>" when token is set.
func requireToken(token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			writeError(w, http.StatusUnauthorized, "missing or wrong admin token")
			return
		}
		next.ServeHTTP(w, r)
	})
}
