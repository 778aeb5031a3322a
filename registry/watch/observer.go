package watch

import "time"

// Observer learns what the watcher does, for metrics: a small interface so
// that the library needs no metrics dependency (examples/imagewatch wires it
// to Prometheus). Its methods are called synchronously and must not block
// for long; they may be called concurrently. Registry requests and token
// fetches are observed on the backend, with registry.Options.OnRequest.
type Observer interface {
	// Checked reports one check of img: its outcome (Seed, Changed, Failed,
	// or "" when the digest had not moved) and how long it took.
	Checked(img Image, outcome Kind, took time.Duration, err error)
	// Delivered reports an event delivery from source ("github", "gitea", "harbor",
	// "distribution", "dockerhub", "ecr"): accepted, or refused and why
	// ("signature", "malformed", "too large", "unreadable"; "other account"
	// for an ECR event of an account the consumer does not accept; accepted
	// deliveries for no watched image say "not watched").
	Delivered(source string, accepted bool, reason string)
	// Confirmed reports a change an event announced and a check confirmed,
	// and the time from the event's arrival to the confirmation.
	Confirmed(img Image, sinceEvent time.Duration)
}

func (w *Watcher) observeCheck(img Image, outcome Kind, took time.Duration, err error) {
	if w.observer != nil {
		w.observer.Checked(img, outcome, took, err)
	}
}
