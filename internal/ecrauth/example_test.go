package ecrauth_test

import (
	"encoding/base64"
	"fmt"

	"github.com/molecule-ai/registrykit/internal/ecrauth"
)

// An ECR authorization token is base64 of "AWS:<password>": the credential
// a Docker client presents.
func ExampleDecodeToken() {
	c, err := ecrauth.DecodeToken(base64.StdEncoding.EncodeToString([]byte("AWS:ecr-password")))
	fmt.Println(c.Username, err)
	fmt.Println(c) // the password prints redacted
	// Output:
	// AWS <nil>
	// Credential{username="AWS" password=REDACTED}
}
