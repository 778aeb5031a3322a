package ecrauth

import "context"

// Names the external tests use.

func NewLazy[T any](f func(context.Context) (T, error)) *Lazy[T] { return newLazy(f) }

func Sanitize(s string) string { return sanitize(s) }
