package host

import "strings"

// acrSuffixes are the DNS suffixes of Azure Container Registry login
// servers: the public cloud's, Azure China's and Azure Government's (the
// mapping of ratify-project/ratify's Azure auth provider and of
// Kubernetes' cloud-provider-azure ACR credential provider:
// azurecr.io -> containerregistry.azure.net, azurecr.cn ->
// containerregistry.azure.cn, azurecr.us -> containerregistry.azure.us).
var acrSuffixes = []string{".azurecr.io", ".azurecr.cn", ".azurecr.us"}

// ACRSuffix returns the Azure Container Registry suffix of s ("host" or
// "host:port"; the port is ignored), such as ".azurecr.io" for
// "contoso.azurecr.io", and whether s is an ACR login server at all: a
// name under one of the suffixes, with at least one label before it.
func ACRSuffix(s string) (string, bool) {
	h, err := Parse(s)
	if err != nil {
		return "", false
	}
	name := h.Name()
	for _, suf := range acrSuffixes {
		if label, ok := strings.CutSuffix(name, suf); ok && label != "" && !strings.HasSuffix(label, ".") {
			return suf, true
		}
	}
	return "", false
}
