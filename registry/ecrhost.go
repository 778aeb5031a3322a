package registry

import (
	"regexp"
	"strings"
)

// ecrHostPattern matches an ECR private registry host, per AWS's published
// endpoint forms (commercial, FIPS, China, EU sovereign, dual-stack and the
// isolated partitions).
var ecrHostPattern = regexp.MustCompile(`^(\d{12})\.dkr([.-])ecr(-fips)?\.([a-z]{2,5}(?:-[a-z]+)+-\d{1,2})\.(amazonaws\.com(?:\.cn)?|amazonaws\.eu|on\.aws|on\.amazonwebservices\.com\.cn|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$`)

// ECRHost is a parsed ECR private registry host such as
// "123456789012.dkr.ecr.us-east-2.amazonaws.com".
type ECRHost struct {
	// Account is the 12-digit AWS account ID.
	Account string
	// Region is the AWS region, e.g. "us-east-2".
	Region string
	// FIPS reports a FIPS endpoint ("dkr.ecr-fips").
	FIPS bool
	// DualStack reports a dual-stack endpoint ("dkr-ecr").
	DualStack bool
	// Suffix is the DNS suffix after the region, e.g. "amazonaws.com.cn".
	Suffix string
}

// ParseECRHost parses host (a port, if any, is ignored) as an ECR private
// registry host.
func ParseECRHost(host string) (ECRHost, bool) {
	m := ecrHostPattern.FindStringSubmatch(hostName(host))
	if m == nil {
		return ECRHost{}, false
	}
	return ECRHost{
		Account:   m[1],
		DualStack: m[2] == "-",
		FIPS:      m[3] != "",
		Region:    m[4],
		Suffix:    m[5],
	}, true
}

// Partition returns the AWS partition the host belongs to: "aws",
// "aws-cn", "aws-us-gov", "aws-eusc", "aws-iso", "aws-iso-b", "aws-iso-e"
// or "aws-iso-f".
func (h ECRHost) Partition() string {
	switch h.Suffix {
	case "amazonaws.com.cn", "on.amazonwebservices.com.cn":
		return "aws-cn"
	case "amazonaws.eu":
		return "aws-eusc"
	case "c2s.ic.gov":
		return "aws-iso"
	case "sc2s.sgov.gov":
		return "aws-iso-b"
	case "cloud.adc-e.uk":
		return "aws-iso-e"
	case "csp.hci.ic.gov":
		return "aws-iso-f"
	}
	if strings.HasPrefix(h.Region, "us-gov-") {
		return "aws-us-gov"
	}
	return "aws"
}
