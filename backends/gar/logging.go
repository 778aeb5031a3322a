package gar

import (
	"context"
	"log/slog"
)

// redacting passes the metadata package's log lines to the backend's
// logger at debug level, as the ECR drivers do with the AWS SDK's
// (internal/ecrauth), but keeps only the method, URL and status of its
// "request" and "response" attributes: the response's payload is the access
// token. golang.org/x/oauth2 and its google package do not log.
type redacting struct{ next slog.Handler }

func (h redacting) Enabled(ctx context.Context, _ slog.Level) bool {
	return h.next.Enabled(ctx, slog.LevelDebug)
}

func (h redacting) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, slog.LevelDebug, "gcp metadata: "+r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		v := a.Value.Resolve()
		if v.Kind() != slog.KindGroup {
			return true
		}
		for _, g := range v.Group() {
			switch g.Key {
			case "method", "url", "status":
				out.AddAttrs(slog.String(g.Key, g.Value.String()))
			}
		}
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h redacting) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h redacting) WithGroup(string) slog.Handler      { return h }
