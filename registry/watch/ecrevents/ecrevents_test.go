package ecrevents_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/molecule-ai/registrykit/registry/watch"
	"github.com/molecule-ai/registrykit/registry/watch/ecrevents"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const host = "123456789012.dkr.ecr.us-east-2.amazonaws.com"

var creds = aws.Credentials{AccessKeyID: "AKIDSQSTEST012345678", SecretAccessKey: "sqs/test/secret"}

// pushEvent is ECR's "ECR Image Action" event as EventBridge delivers it
// to SQS (docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html).
func pushEvent(account, repo, tag string) string {
	return fmt.Sprintf(`{"version":"0","id":"13cde686-328b-6117-af20-0e5566167482","detail-type":"ECR Image Action","source":"aws.ecr",
"account":%q,"time":"2026-11-16T01:54:34Z","region":"us-east-2","resources":[],"detail":{"result":"SUCCESS","repository-name":%q,
"image-digest":"sha256:7f5b2640fca6c3e0bfa6b46ab1b4a1cdf5e0c2e3e6f1a0d6c4f1b3f2e1d0c9b8","action-type":"PUSH","image-tag":%q}}`, account, repo, tag)
}

// confirmations is an Observer that signals each confirmed change.
type confirmations chan string

func (c confirmations) Checked(watch.Image, watch.Kind, time.Duration, error) {}
func (c confirmations) Delivered(string, bool, string)                        {}
func (c confirmations) Confirmed(img watch.Image, _ time.Duration)            { c <- img.Runtime }

func setup(t *testing.T) (*watch.Watcher, *registrytest.Backend, *registrytest.SQSQueue, *sqs.Client) {
	t.Helper()
	b := registrytest.NewBackend(host + "/molecule-ai")
	b.SetDigest("workspace-template-codex", "latest", registrytest.Digest("v1"))
	w, err := watch.New(b, &watch.Options{Runtimes: []string{"codex"}, Clock: registrytest.NewClock(time.Now())})
	require.NoError(t, err)
	w.Check(context.Background())
	q := registrytest.NewSQSQueue(creds, "us-east-2")
	t.Cleanup(q.Close)
	client := sqs.NewFromConfig(aws.Config{Region: "us-east-2", Credentials: credentials.StaticCredentialsProvider{Value: creds},
		BaseEndpoint: aws.String(q.URL()), RetryMaxAttempts: 1})
	return w, b, q, client
}

// A push arriving on the queue is checked at once, confirmed by the
// watcher's own request, and its message deleted after the check.
func TestPushFromTheQueue(t *testing.T) {
	w, b, q, client := setup(t)
	b.SetDigest("workspace-template-codex", "latest", registrytest.Digest("v2"))
	q.Send(pushEvent("123456789012", "molecule-ai/workspace-template-codex", "latest"))
	seen := make(confirmations, 1)
	c := &ecrevents.Consumer{Watcher: w, API: client, QueueURL: q.QueueURL(), Account: "123456789012", Observer: seen}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()
	select {
	case rt := <-seen:
		assert.Equal(t, "codex", rt)
	case <-time.After(10 * time.Second):
		t.Fatal("no change confirmed")
	}
	cancel()
	require.NoError(t, <-done)
	visible, inFlight, deleted := q.Counts()
	assert.Equal(t, [3]int{0, 0, 1}, [3]int{visible, inFlight, deleted})
	assert.Empty(t, q.Errors(), "every request was correctly signed")
	assert.Equal(t, registrytest.Digest("v2"), w.Seen()[host+"/molecule-ai/workspace-template-codex:latest"])
}

// Events for another account, other actions and unwatched images cost
// nothing and are deleted; a message that is not an event is deleted too.
func TestIrrelevantMessages(t *testing.T) {
	w, b, _, _ := setup(t)
	c := &ecrevents.Consumer{Watcher: w, Account: "123456789012"}
	before := b.Calls()
	for _, body := range []string{
		pushEvent("999999999999", "molecule-ai/workspace-template-codex", "latest"),
		pushEvent("123456789012", "someone/else", "latest"),
		`{"source":"aws.ecr","detail-type":"ECR Image Action","account":"123456789012","detail":{"action-type":"DELETE","result":"SUCCESS","repository-name":"molecule-ai/workspace-template-codex"}}`,
		`not json`, `{"source":"aws.s3"}`,
	} {
		require.NoError(t, c.Handle(context.Background(), body), body)
	}
	assert.Equal(t, before, b.Calls(), "no registry request")
}

// A consumer that stops before the check ran leaves the message in the
// queue: redelivered, it is handled then.
func TestMessageKeptUntilChecked(t *testing.T) {
	w, b, q, client := setup(t)
	b.SetDigest("workspace-template-codex", "latest", registrytest.Digest("v2"))
	c := &ecrevents.Consumer{Watcher: w, API: client, QueueURL: q.QueueURL()}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	err := c.Handle(cancelled, pushEvent("123456789012", "molecule-ai/workspace-template-codex", "latest"))
	require.Error(t, err, "the check did not run: the message must stay")

	q.Send(pushEvent("123456789012", "molecule-ai/workspace-template-codex", "latest"))
	out, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.QueueURL())})
	require.NoError(t, err)
	require.Len(t, out.Messages, 1)
	q.Redeliver() // the consumer crashed before deleting it
	seen := make(confirmations, 1)
	c.Observer = seen
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()
	select {
	case <-seen:
	case <-time.After(10 * time.Second):
		t.Fatal("the redelivered message was not handled")
	}
	stop()
	require.NoError(t, <-done)
	_, _, deleted := q.Counts()
	assert.Equal(t, 1, deleted)
}
