package registrytest

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// SQSQueue is an imitation of one Amazon SQS queue for the real
// aws-sdk-go-v2 client: ReceiveMessage (with long polling) and
// DeleteMessage in the AWS JSON 1.0 protocol the SDK speaks
// (X-Amz-Target AmazonSQS.<Operation>), with each request's SigV4 signature
// verified. A received message stays in flight, invisible, until it is
// deleted or [SQSQueue.Redeliver] makes it visible again, as a visibility
// timeout would after a consumer crashed.
type SQSQueue struct {
	creds  aws.Credentials
	region string
	srv    *httptest.Server

	mu       sync.Mutex
	visible  []sqsMessage
	inFlight map[string]sqsMessage // receipt handle -> message
	deleted  int
	errors   []string
	arrived  chan struct{} // closed and replaced when a message is sent
	seq      int
}

type sqsMessage struct {
	id, body string
}

// NewSQSQueue starts a queue accepting requests signed by creds for region.
func NewSQSQueue(creds aws.Credentials, region string) *SQSQueue {
	q := &SQSQueue{creds: creds, region: region, inFlight: map[string]sqsMessage{}, arrived: make(chan struct{})}
	q.srv = httptest.NewServer(http.HandlerFunc(q.serve))
	return q
}

// URL is the endpoint to give the SDK (BaseEndpoint, AWS_ENDPOINT_URL_SQS).
func (q *SQSQueue) URL() string { return q.srv.URL }

// QueueURL is the queue's URL, as consumers name it.
func (q *SQSQueue) QueueURL() string { return q.srv.URL + "/123456789012/registry-events" }

// Close stops the server.
func (q *SQSQueue) Close() { q.srv.Close() }

// Send enqueues a message with body.
func (q *SQSQueue) Send(body string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.seq++
	q.visible = append(q.visible, sqsMessage{id: fmt.Sprintf("msg-%d", q.seq), body: body})
	close(q.arrived)
	q.arrived = make(chan struct{})
}

// Redeliver makes every in-flight message visible again.
func (q *SQSQueue) Redeliver() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for h, m := range q.inFlight {
		q.visible = append(q.visible, m)
		delete(q.inFlight, h)
	}
	close(q.arrived)
	q.arrived = make(chan struct{})
}

// Counts returns the messages visible, in flight and deleted.
func (q *SQSQueue) Counts() (visible, inFlight, deleted int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.visible), len(q.inFlight), q.deleted
}

// Errors returns what was wrong with rejected requests.
func (q *SQSQueue) Errors() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]string(nil), q.errors...)
}

func (q *SQSQueue) fail(w http.ResponseWriter, status int, code, msg string) {
	q.mu.Lock()
	q.errors = append(q.errors, code+": "+msg)
	q.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

func (q *SQSQueue) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := verifySigV4(r, body, q.creds, "sqs", q.region); err != nil {
		q.fail(w, http.StatusForbidden, "InvalidSignatureException", err.Error())
		return
	}
	var in struct {
		QueueUrl            string
		MaxNumberOfMessages int
		WaitTimeSeconds     int
		ReceiptHandle       string
	}
	if err := json.Unmarshal(body, &in); err != nil {
		q.fail(w, http.StatusBadRequest, "InvalidParameterValue", err.Error())
		return
	}
	if in.QueueUrl != q.QueueURL() {
		q.fail(w, http.StatusBadRequest, "AWS.SimpleQueueService.NonExistentQueue", "no such queue "+in.QueueUrl)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	switch r.Header.Get("X-Amz-Target") {
	case "AmazonSQS.ReceiveMessage":
		q.receive(w, r, in.MaxNumberOfMessages, time.Duration(in.WaitTimeSeconds)*time.Second)
	case "AmazonSQS.DeleteMessage":
		q.mu.Lock()
		_, ok := q.inFlight[in.ReceiptHandle]
		delete(q.inFlight, in.ReceiptHandle)
		if ok {
			q.deleted++
		}
		q.mu.Unlock()
		if !ok {
			q.fail(w, http.StatusBadRequest, "ReceiptHandleIsInvalid", "unknown receipt handle")
			return
		}
		_, _ = w.Write([]byte("{}"))
	default:
		q.fail(w, http.StatusBadRequest, "UnknownOperationException", r.Header.Get("X-Amz-Target"))
	}
}

// receive answers ReceiveMessage, long-polling up to wait for a message.
func (q *SQSQueue) receive(w http.ResponseWriter, r *http.Request, max int, wait time.Duration) {
	if max <= 0 {
		max = 1
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		q.mu.Lock()
		if len(q.visible) > 0 || wait <= 0 {
			n := min(max, len(q.visible))
			var out []map[string]string
			for _, m := range q.visible[:n] {
				q.seq++
				handle := fmt.Sprintf("%s-receipt-%d", m.id, q.seq)
				q.inFlight[handle] = m
				sum := md5.Sum([]byte(m.body))
				out = append(out, map[string]string{"MessageId": m.id, "ReceiptHandle": handle, "Body": m.body, "MD5OfBody": hex.EncodeToString(sum[:])})
			}
			q.visible = q.visible[n:]
			q.mu.Unlock()
			_ = json.NewEncoder(w).Encode(map[string]any{"Messages": out})
			return
		}
		arrived := q.arrived
		q.mu.Unlock()
		select {
		case <-arrived:
		case <-deadline.C:
			wait = 0
		case <-r.Context().Done():
			return
		}
	}
}
