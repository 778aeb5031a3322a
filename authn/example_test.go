package authn_test

import (
	"encoding/json"
	"fmt"

	"github.com/molecule-ai/registrykit/authn"
)

// Secrets never print, whatever the verb or encoder.
func ExampleCredential() {
	c := authn.Credential{Username: "AWS", Password: "eyJwYXlsb2FkIjoi"}
	fmt.Printf("%v\n%+v\n", c, c)
	j, _ := json.Marshal(c)
	fmt.Println(string(j))
	// Output:
	// Credential{username="AWS" password=REDACTED}
	// Credential{username="AWS" password=REDACTED}
	// {"username":"AWS","password":"REDACTED"}
}
