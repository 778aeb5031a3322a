package host

import (
	"regexp"
	"strings"
)

// ecrHostPattern matches an ECR private registry host, per AWS's published
// endpoint forms (commercial, FIPS, China, EU sovereign, dual-stack and the
// isolated partitions).
var ecrHostPattern = regexp.MustCompile(`^(\d{12})\.dkr([.-])ecr(-fips)?\.([a-z]{2,5}(?:-[a-z]+)+-\d{1,2})\.(amazonaws\.com(?:\.cn)?|amazonaws\.eu|on\.aws|on\.amazonwebservices\.com\.cn|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$`)

// ECR is a parsed ECR private registry host such as
// "123456789012.dkr.ecr.us-east-2.amazonaws.com".
type ECR struct {
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

// ParseECR parses s ("host" or "host:port"; the port is ignored) as an ECR
// private registry host.
func ParseECR(s string) (ECR, bool) {
	h, err := Parse(s)
	if err != nil {
		return ECR{}, false
	}
	m := ecrHostPattern.FindStringSubmatch(h.Name())
	if m == nil {
		return ECR{}, false
	}
	return ECR{
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
func (h ECR) Partition() string {
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

// Docker Hub's names.
const (
	DockerHub        = "docker.io"
	dockerHubIndex   = "index.docker.io"
	DockerHubAPIHost = "registry-1.docker.io"
)

// IsDockerHub reports whether s is one of Docker Hub's names, with no port
// or port 443: "docker.io:8443" is another registry to Docker.
func IsDockerHub(s string) bool {
	h, err := Parse(s)
	if err != nil || (h.Port() != "" && h.Port() != "443") {
		return false
	}
	switch h.Name() {
	case DockerHub, dockerHubIndex, DockerHubAPIHost:
		return true
	}
	return false
}
