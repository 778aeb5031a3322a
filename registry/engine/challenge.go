package engine

import (
	"context"
	"net/http"
	"strings"

	"github.com/molecule-ai/registrykit/registry"
)

// maxChallengeHeader bounds the WWW-Authenticate text parsed from one
// answer; the rest is ignored.
const maxChallengeHeader = 8 << 10

// ping sends GET <scheme>://<host>/v2/ and returns the registry's challenge:
// Scheme "" when the registry answered 200 (no authentication), otherwise
// "Bearer" or "Basic" with the challenge's parameters (Bearer wins when
// both are offered, as Gitea 1.26 does). It costs one request; redirects
// must pass the realm rule.
func ping(ctx context.Context, client *http.Client, host, scheme string, o *registry.Options) (*registry.Challenge, error) {
	ctx, cancel := withDeadline(ctx, o)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+host+"/v2/", nil)
	if err != nil {
		return nil, &registry.Error{Kind: registry.ErrInvalidConfig, Op: "ping", Image: host, Err: err}
	}
	req.Header.Set("User-Agent", userAgent(o))
	resp, err := guarded(client, host, scheme, o, true, nil).Do(req)
	if err != nil {
		return nil, transportError(err, "ping", host)
	}
	defer drain(resp)
	switch resp.StatusCode {
	case http.StatusOK:
		return &registry.Challenge{Insecure: scheme == "http"}, nil
	case http.StatusUnauthorized:
		c, ok := parseChallenge(resp.Header.Values("WWW-Authenticate"))
		if !ok {
			return nil, unsupportedChallenge(resp, host)
		}
		c.Insecure = scheme == "http"
		return c, nil
	}
	return nil, pingError(resp, host, o)
}

// parseChallenge reads the challenges of WWW-Authenticate header values
// (RFC 7235: several headers, several challenges per header, quoted or
// token parameter values) and returns the Bearer one if any, else the Basic
// one. Parameter names are lowercased. It reports false when neither is
// offered.
func parseChallenge(headers []string) (*registry.Challenge, bool) {
	var basic *registry.Challenge
	budget := maxChallengeHeader
	for _, h := range headers {
		if len(h) > budget {
			h = h[:budget]
		}
		budget -= len(h)
		for _, c := range parseChallenges(h) {
			switch {
			case c.IsBearer():
				return c, true
			case c.IsBasic() && basic == nil:
				basic = c
			}
		}
		if budget <= 0 {
			break
		}
	}
	return basic, basic != nil
}

// parseChallenges splits one header value into challenges.
func parseChallenges(h string) []*registry.Challenge {
	var out []*registry.Challenge
	var cur *registry.Challenge
	p := &scanner{s: h}
	for {
		p.skip(" \t,")
		if p.done() {
			return out
		}
		tok := p.token()
		if tok == "" {
			p.i++ // a stray character: skip it
			continue
		}
		p.skip(" \t")
		if !p.done() && p.peek() == '=' {
			p.i++
			p.skip(" \t")
			var v string
			if !p.done() && p.peek() == '"' {
				v = p.quoted()
			} else {
				v = p.token()
			}
			if cur != nil {
				cur.Params[strings.ToLower(tok)] = v
			}
			continue
		}
		cur = &registry.Challenge{Scheme: canonicalScheme(tok), Params: map[string]string{}}
		out = append(out, cur)
	}
}

type scanner struct {
	s string
	i int
}

func (p *scanner) done() bool { return p.i >= len(p.s) }
func (p *scanner) peek() byte { return p.s[p.i] }

func (p *scanner) skip(set string) {
	for p.i < len(p.s) && strings.IndexByte(set, p.s[p.i]) >= 0 {
		p.i++
	}
}

// token reads an RFC 7230 token, also taking '/' and ':' so that an
// unquoted URL value reads whole ('=' separates parameters).
func (p *scanner) token() string {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),;<=>?@[\\]{}", c) >= 0 {
			break
		}
		p.i++
	}
	return p.s[start:p.i]
}

// quoted reads a quoted-string, unescaping backslash pairs.
func (p *scanner) quoted() string {
	p.i++ // opening quote
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '\\' && p.i+1 < len(p.s):
			b.WriteByte(p.s[p.i+1])
			p.i += 2
		case c == '"':
			p.i++
			return b.String()
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return b.String()
}

func canonicalScheme(s string) string {
	switch strings.ToLower(s) {
	case "bearer":
		return "Bearer"
	case "basic":
		return "Basic"
	}
	return s
}

// knownChallenge is the Bearer challenge of a registry whose realm and
// service are known in advance (GHCR, Gitea, ECR Public), so that no probe
// is needed.
func knownChallenge(realm, service string, insecure bool) *registry.Challenge {
	return &registry.Challenge{Scheme: "Bearer", Params: map[string]string{"realm": realm, "service": service}, Insecure: insecure}
}
