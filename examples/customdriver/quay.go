// Package customdriver is a third-party registrykit driver written against
// the public API alone: quay.io with a robot account. Without it quay.io is
// a host no driver claims, so its first request probes /v2/ and the
// distribution driver takes it with the generic credential variables;
// with it, the token realm is known in advance (no probe: one token request
// and one HEAD cold, one HEAD while the hour-long token lives), the robot's
// own variables are read, and an authentication error names them. The
// realm and service are quay.io's challenge, Bearer
// realm="https://quay.io/v2/auth",service="quay.io" (endpoints/v2/__init__.py
// in quay/quay); a robot is named "<namespace>+<robot>" and has a token
// (Red Hat Quay API guide, "Creating a robot account by using the Red Hat
// Quay API": {"name": "orgname+robot-name", "token": ...}), which it logs in
// with.
package customdriver

import (
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/engine"
)

// Flavor names the Quay flavor.
const Flavor registry.Flavor = "quay"

// quayHost is Quay's public registry.
const quayHost = "quay.io"

// Driver returns the Quay driver: quay.io by name, or any Quay host with
// the flavor forced. Credentials come from QUAY_ROBOT and QUAY_ROBOT_TOKEN,
// else the generic variables, else Docker's config. Pass it to
// backends.Open or backends.FromEnv, or to engine.Open with
// backends.Drivers().
func Driver() engine.Spec {
	return engine.Spec{
		Flavor:     Flavor,
		ClaimsHost: func(host string) bool { return host == quayHost },
		Configure: func(t engine.Target) (engine.Config, error) {
			host := t.Prefix.Host()
			return engine.Config{
				Auth: engine.TokenService{
					Realm:   engine.Scheme(host, t.Options) + "://" + host + "/v2/auth",
					Service: host,
					// Quay reads every scope of a token request
					// (endpoints/v2/v2auth.py, getlist("scope")).
					MultiScope: true,
				},
				Credentials: engine.DefaultCredentials(t, "QUAY_ROBOT", "QUAY_ROBOT_TOKEN", quayHost),
				Hint:        "set QUAY_ROBOT (namespace+robot) and QUAY_ROBOT_TOKEN, and give the robot read access to the repository",
			}, nil
		},
	}
}
