package main

import (
	"context"
	"encoding/json"
	"time"
)

func runToken(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "token", "[flags] (--runtime RT | NAME)", `  registryctl token --runtime langgraph
  registryctl token --reveal workspace-template-codex | jq -r .token
`, true)
	runtime := fs.String("runtime", "", "a workspace runtime whose repository the token is for")
	reveal := fs.Bool("reveal", false, "also print the token itself (it is a secret)")
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	b, repo, _, err := target(e, c, *runtime, fs.Args())
	if err != nil {
		return err
	}
	tok, err := b.Token(ctx, repo)
	if err != nil {
		return err
	}
	out := struct {
		Type   string     `json:"type"`
		Expiry *time.Time `json:"expiry"`
		Token  string     `json:"token,omitempty"`
	}{Type: tok.Type()}
	if tok.AccessToken == "" {
		out.Type = "none"
	}
	if !tok.Expiry.IsZero() {
		exp := tok.Expiry.UTC()
		out.Expiry = &exp
	}
	if *reveal {
		out.Token = tok.AccessToken
	}
	return json.NewEncoder(e.stdout).Encode(out)
}
