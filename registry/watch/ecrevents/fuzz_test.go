package ecrevents

import (
	"encoding/json"
	"strings"
	"testing"
)

// Any SQS message body: no panic; a push only from an ECR event, naming a
// repository, never with a digest for a tag, and never from another
// account than the one given (none when none is given).
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{"source":"aws.ecr","detail-type":"ECR Image Action","account":"123456789012","detail":{"result":"SUCCESS","repository-name":"molecule-ai/workspace-template-codex","image-tag":"latest","action-type":"PUSH"}}`,
		`{"source":"aws.ecr","detail-type":"ECR Image Action","account":"123456789012","detail":{"result":"SUCCESS","repository-name":"r","image-tag":"sha256:0123","action-type":"PUSH"}}`,
		`{"source":"aws.ecr","detail-type":"ECR Image Action","detail":{"result":"FAILURE","action-type":"DELETE"}}`,
		`{"Type":"Notification","Message":"{}"}`,
		`{`,
	} {
		f.Add(seed, "123456789012")
		f.Add(seed, "")
	}
	f.Fuzz(func(t *testing.T, body, account string) {
		push, from, ok := parse(body, account)
		if push == nil {
			return
		}
		if !ok {
			t.Fatalf("a push %+v from a body that is not an ECR event", push)
		}
		if push.Repository == "" || strings.HasPrefix(push.Tag, "sha256:") {
			t.Fatalf("push %+v", push)
		}
		var e event
		if err := json.Unmarshal([]byte(body), &e); err != nil || account == "" || e.Account != account || from != account {
			t.Fatalf("a push from another account than %q: %s", account, body)
		}
	})
}
