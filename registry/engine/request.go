package engine

import (
	"context"
	"net/http"

	"golang.org/x/oauth2"
)

// send is the engine's request loop: one authenticated request to the
// registry API. The backend's auth strategy gives the token, and, after the
// first answer, says whether to send once more (a refused token forgotten,
// a direct credential turned off, a challenge adopted) and records what the
// final answer shows. The caller maps the answer.
func (b *backend) send(ctx context.Context, method, path, accept, repository string) (*http.Response, *oauth2.Token, error) {
	var prev *oauth2.Token // the token of a first attempt that is being retried
	for {
		tok, fetched, err := b.auth.token(ctx, repository)
		if err != nil {
			return nil, nil, err
		}
		resp, err := b.do(ctx, method, path, accept, tok)
		if err != nil {
			return nil, tok, err
		}
		if prev == nil && b.auth.retry(ctx, repository, tok, fetched, resp) {
			drain(resp)
			prev = tok
			continue
		}
		b.auth.settle(repository, tok, prev, resp)
		return resp, tok, nil
	}
}

// do sends one request to the registry API with tok.
func (b *backend) do(ctx context.Context, method, path, accept string, tok *oauth2.Token) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, b.scheme+"://"+b.apiHost+path, nil)
	if err != nil {
		return nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	req.Header.Set("User-Agent", b.userAgent)
	if tok.AccessToken != "" {
		tok.SetAuthHeader(req)
	}
	return b.client.Do(req)
}
