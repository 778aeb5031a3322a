package registry

import (
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Platform identifies one platform's image inside an index: OS,
// architecture and optional variant. It is go-containerregistry's type, so
// values pass between the two libraries unchanged.
type Platform = v1.Platform

// ParsePlatform parses "os/arch[/variant]" ("linux/amd64", "linux/arm64/v8").
// The OS and the architecture are required.
func ParsePlatform(s string) (Platform, error) {
	fail := func(reason string) (Platform, error) {
		return Platform{}, &ConfigError{Var: "platform", Value: s, Reason: reason, Fix: "write os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8"}
	}
	s = strings.TrimSpace(s)
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return fail("needs an OS and an architecture")
	}
	if strings.ContainsAny(s, ": \t") {
		return fail("contains ':' or white space")
	}
	p, err := v1.ParsePlatform(s)
	if err != nil {
		return fail(err.Error())
	}
	return *p, nil
}
