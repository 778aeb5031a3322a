package host

import "regexp"

// garHostPattern matches an Artifact Registry Docker host,
// "<location>-docker.pkg.dev", where location is a region
// ("europe-west1", "northamerica-northeast1") or a multi-region ("us",
// "europe", "asia"): docs.cloud.google.com/artifact-registry/docs/docker/names
// and .../docs/repositories/repo-locations ("gcloud artifacts locations
// list").
var garHostPattern = regexp.MustCompile(`^[a-z][a-z0-9]*(?:-[a-z0-9]+)*-docker\.pkg\.dev$`)

// IsGAR reports whether s ("host" or "host:port"; the port is ignored) is a
// Google Artifact Registry host: "<location>-docker.pkg.dev", or one of the
// Container Registry hosts that Artifact Registry serves as gcr.io
// repositories — gcr.io, us.gcr.io, eu.gcr.io and asia.gcr.io
// (docs.cloud.google.com/artifact-registry/docs/transition/gcr-repositories,
// "gcr.io domain support"). Other *.gcr.io names (mirror.gcr.io, a Docker
// Hub cache; k8s.gcr.io, frozen) are not.
func IsGAR(s string) bool {
	h, err := Parse(s)
	if err != nil {
		return false
	}
	switch n := h.Name(); n {
	case "gcr.io", "us.gcr.io", "eu.gcr.io", "asia.gcr.io":
		return true
	default:
		return garHostPattern.MatchString(n)
	}
}
