package registry

import "strings"

// Challenge is what a registry's GET /v2/ answered.
type Challenge struct {
	// Scheme is the authentication scheme, "Bearer" or "Basic", or "" when
	// the registry needs no authentication.
	Scheme string
	// Params holds the challenge's parameters (realm, service, scope), with
	// lowercased keys.
	Params map[string]string
	// Insecure reports that the registry was reached over plain HTTP.
	Insecure bool
}

// IsBearer reports whether c is a Bearer challenge.
func (c *Challenge) IsBearer() bool { return c != nil && strings.EqualFold(c.Scheme, "bearer") }

// IsBasic reports whether c is a Basic challenge.
func (c *Challenge) IsBasic() bool { return c != nil && strings.EqualFold(c.Scheme, "basic") }
