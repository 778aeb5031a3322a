// Package ecrevents feeds a watcher from Amazon ECR's push events: an
// EventBridge rule sends "ECR Image Action" events to an SQS queue, which a
// [Consumer] long-polls; each push of a watched image is checked at once,
// and its message deleted only after the check ran, so a crash in between
// redelivers it rather than losing it. Only events of one AWS account
// count: [Consumer.Account], by default the account of the watcher's
// backend (its ECR host's); events of other accounts are ignored.
//
// The rule's event pattern:
//
//	{"source": ["aws.ecr"], "detail-type": ["ECR Image Action"],
//	 "detail": {"action-type": ["PUSH"], "result": ["SUCCESS"]}}
//
// with the queue as its target and no input transformer, so that each
// message's body is the event itself (EventBridge PutTargets: without
// Input, InputPath or InputTransformer "the entire event is passed to the
// target in JSON format"). The event's shape is ECR's
// (docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html):
//
//	{"version":"0","detail-type":"ECR Image Action","source":"aws.ecr",
//	 "account":"123456789012","region":"us-west-2","detail":{"result":"SUCCESS",
//	 "repository-name":"my-repository-name","image-digest":"sha256:…",
//	 "action-type":"PUSH","image-tag":"latest"}}
//
// It is a package of its own so that importing registry/watch does not
// bring in the SQS client.
package ecrevents

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/molecule-ai/registrykit/internal/host"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/watch"
)

// API is the part of the SQS client a Consumer uses.
type API interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

// Consumer long-polls one SQS queue of ECR push events for a watcher.
type Consumer struct {
	// Watcher checks the pushed images.
	Watcher *watch.Watcher
	// API is the SQS client (sqs.NewFromConfig).
	API API
	// QueueURL names the queue.
	QueueURL string
	// Account is the only AWS account whose events count; events of any
	// other account are deleted unchecked, logged at debug and reported to
	// the Observer as refused, reason "other account". When empty, it is
	// the account of the watcher's backend, parsed from its ECR host
	// (host.ParseECR); a backend whose host names no account (not
	// an ECR host) then counts no event at all, so set Account for it.
	Account string
	// Observer, when set, learns of each message (source "ecr").
	Observer watch.Observer
	// Logger, when set, receives the consumer's log lines; nil logs nothing.
	Logger *slog.Logger
	// Clock replaces the system clock (for tests).
	Clock registry.Clock
}

// waitTimeSeconds is the long-poll wait of each ReceiveMessage.
const waitTimeSeconds = 20

// Run receives and handles messages until ctx ends, and returns nil then. A
// failing ReceiveMessage is retried after a pause that doubles up to a
// minute.
func (c *Consumer) Run(ctx context.Context) error {
	if c.account() == "" {
		c.logger().Warn("ECR events: no account to accept events from: the backend's host is not an ECR host; set Consumer.Account",
			"host", c.Watcher.Backend().Host())
	}
	clock := c.clock()
	pause := time.Second
	for ctx.Err() == nil {
		out, err := c.API.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(c.QueueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: waitTimeSeconds,
		})
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if clock.Sleep(ctx, pause) != nil {
				break
			}
			pause = min(2*pause, time.Minute)
			continue
		}
		pause = time.Second
		for _, m := range out.Messages {
			if err := c.Handle(ctx, aws.ToString(m.Body)); err != nil {
				continue // not deleted: redelivered after its visibility timeout
			}
			// Checked: delete it even when shutting down, so that it is not
			// handled twice.
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			_, _ = c.API.DeleteMessage(dctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(c.QueueURL), ReceiptHandle: m.ReceiptHandle})
			cancel()
		}
	}
	return nil
}

// Handle checks the image one message's event announces, and returns nil
// once the message may be deleted: its check ran, or it announces nothing
// the watcher watches, or it cannot be read (it would never read better).
// An error means the check did not run (ctx ended) and the message must
// stay.
func (c *Consumer) Handle(ctx context.Context, body string) error {
	account := c.account()
	push, from, ok := parse(body, account)
	if !ok {
		c.delivered(false, "malformed")
		return nil
	}
	if from != account {
		c.logger().Debug("ECR events: ignoring an event of another account", "account", from, "accepted", account)
		c.delivered(false, "other account")
		return nil
	}
	if push == nil {
		c.delivered(true, "not a push")
		return nil
	}
	clock := c.clock()
	arrived := clock.Now()
	images := c.Watcher.Match([]watch.Push{*push})
	if len(images) == 0 {
		c.delivered(true, "not watched")
		return nil
	}
	c.delivered(true, "")
	for _, img := range images {
		events, err := c.Watcher.CheckNow(ctx, img.Name) // img came from Match: watched
		if err != nil {
			return err
		}
		for _, ev := range events {
			if ev.Kind == watch.Changed && c.Observer != nil {
				c.Observer.Confirmed(img, clock.Now().Sub(arrived))
			}
		}
	}
	return nil
}

// account is the account whose events count: Account, else the account of
// the backend's ECR host; "" when neither names one.
func (c *Consumer) account() string {
	if c.Account != "" {
		return c.Account
	}
	if h, ok := host.ParseECR(c.Watcher.Backend().Host()); ok {
		return h.Account
	}
	return ""
}

func (c *Consumer) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

func (c *Consumer) clock() registry.Clock {
	if c.Clock == nil {
		return (&registry.Options{}).Now()
	}
	return c.Clock
}

func (c *Consumer) delivered(accepted bool, reason string) {
	if c.Observer != nil {
		c.Observer.Delivered("ecr", accepted, reason)
	}
}

// event is the part of an EventBridge "ECR Image Action" event read here.
type event struct {
	Source     string `json:"source"`
	DetailType string `json:"detail-type"`
	Account    string `json:"account"`
	Detail     struct {
		Result     string `json:"result"`
		Repository string `json:"repository-name"`
		Tag        string `json:"image-tag"`
		ActionType string `json:"action-type"`
	} `json:"detail"`
}

// parse reads a message body: ok is false for one that is not an ECR
// event; from is the event's account; push is nil for an event that is not
// a successful push or is not from account ("" accepts none).
func parse(body, account string) (push *watch.Push, from string, ok bool) {
	var e event
	if json.Unmarshal([]byte(body), &e) != nil || e.Source != "aws.ecr" || e.DetailType != "ECR Image Action" {
		return nil, "", false
	}
	if account == "" || e.Account != account ||
		e.Detail.ActionType != "PUSH" || e.Detail.Result != "SUCCESS" || e.Detail.Repository == "" {
		return nil, e.Account, true
	}
	tag := e.Detail.Tag
	if strings.HasPrefix(tag, "sha256:") {
		tag = ""
	}
	return &watch.Push{Repository: e.Detail.Repository, Tag: tag}, e.Account, true
}
