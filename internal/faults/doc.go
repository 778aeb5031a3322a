// Package faults holds registrykit's fault-injection suite: every driver
// against registries that rate-limit, fail, reset connections, stall, send
// malformed challenges and tokens, point their realm somewhere they should
// not, redirect elsewhere, or answer too much. Each test also fails if any
// secret appears in a log line (captured at debug level) or an error.
package faults
