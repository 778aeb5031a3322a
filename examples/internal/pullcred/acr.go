package pullcred

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/backends/acr"
)

// acr returns the credential of an Azure Container Registry: the generic
// pair when set (an admin user, a repository-scoped token), which does not
// expire, else the ACR refresh token the driver obtains from an Entra ID
// identity, with the null GUID as user name (Azure/acr docs/AAD-OAuth.md,
// "Authenticating docker with an ACR refresh token") and the expiry its exp
// claim states. Without either it is ErrNotFound: the registry is pulled
// anonymously. Docker's config is not read.
func (r *Resolver) acr(ctx context.Context, rt route) (Credential, error) {
	o := r.options(rt)
	o.NoDockerConfig = true
	b, err := backends.Open(rt.prefix, o, acr.Driver(r.acrConfig))
	if err != nil {
		return Credential{}, err
	}
	cred, err := b.Credential(ctx)
	if err != nil {
		return Credential{}, err
	}
	switch {
	case cred.IdentityToken != "" && cred.Username != "":
		return Credential{Username: cred.Username, Password: cred.IdentityToken, Expires: jwtExpiry(cred.IdentityToken)}, nil
	case cred.Username != "" && cred.Password != "":
		return Credential{Username: cred.Username, Password: cred.Password}, nil
	}
	return Credential{}, ErrNotFound
}

// jwtExpiry returns the exp claim of tok, zero when it has none.
func jwtExpiry(tok string) time.Time {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}
	}
	var c struct {
		Exp int64 `json:"exp"`
	}
	if json.Unmarshal(b, &c) != nil || c.Exp <= 0 {
		return time.Time{}
	}
	return time.Unix(c.Exp, 0)
}
