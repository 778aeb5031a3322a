package host

import "strings"

// acrSuffixes are the DNS suffixes of Azure Container Registry login
// servers: the public cloud's (learn.microsoft.com, azure/container-registry/
// container-registry-endpoint-reference: "myregistry.azurecr.io", and the
// regional "myregistry.<region-name>.geo.azurecr.io"), Azure China's
// (docs.azure.cn, container-registry/container-registry-firewall-access-rules:
// "myregistry.azurecr.cn") and Azure Government's (azurecr.us, with audience
// containerregistry.azure.us in ratify-project/ratify's Azure auth provider
// and Kubernetes' cloud-provider-azure ACR credential provider).
var acrSuffixes = []string{".azurecr.io", ".azurecr.cn", ".azurecr.us"}

// ACRSuffix returns the Azure Container Registry suffix of s ("host" or
// "host:port"; the port is ignored), such as ".azurecr.io" for
// "contoso.azurecr.io", and whether s is an ACR login server at all: a
// name under one of the suffixes, with at least one label before it. A
// dedicated data endpoint ("myregistry.<region-name>.data.azurecr.io",
// layer downloads only, reached by redirect; the endpoint reference above)
// is not a login server.
func ACRSuffix(s string) (string, bool) {
	h, err := Parse(s)
	if err != nil {
		return "", false
	}
	name := h.Name()
	for _, suf := range acrSuffixes {
		label, ok := strings.CutSuffix(name, suf)
		if !ok || label == "" || strings.HasSuffix(label, ".") || strings.HasSuffix(label, ".data") {
			continue
		}
		return suf, true
	}
	return "", false
}
