package ecrauth

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/molecule-ai/registrykit/registry"
)

// LoadConfig runs the AWS SDK's default chain (config.LoadDefaultConfig)
// with opts, in the environment of o.
//
// With the process environment the chain runs untouched, as in any AWS
// program. With any other environment ([registry.EnvMap] in a test, an
// embedding program's own), what the SDK would read from the process is
// taken from that environment instead and handed to the SDK as load
// options, which take precedence over the process: the shared config and
// credentials files (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, else
// under its HOME, else none), the profile (AWS_PROFILE), static keys
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), the region,
// AWS_CA_BUNDLE and AWS_EC2_METADATA_DISABLED. Service endpoints come from
// [Endpoint]. The SDK's own log lines go to o's logger at debug level,
// never to stderr.
//
// The SDK offers no way to hand it a whole environment, so a credential
// source the given environment does not name (keys, a profile, web identity,
// container credentials) can still be found by the SDK in the process
// environment; tests should run with an empty AWS process environment or
// name static keys.
func LoadConfig(ctx context.Context, o *registry.Options, opts ...func(*config.LoadOptions) error) (aws.Config, error) {
	if !o.Env.IsProcess() {
		opts = append(explicitEnvOptions(o.Env), opts...)
	}
	opts = append([]func(*config.LoadOptions) error{withLogger(o.Log())}, opts...)
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, &registry.Error{Kind: registry.ErrInvalidConfig, Op: "aws config", Err: err,
			Hint: "fix the AWS shared config or profile (AWS_PROFILE, AWS_CONFIG_FILE)"}
	}
	return cfg, nil
}

// explicitEnvOptions turns the AWS variables of a non-process environment
// into load options.
func explicitEnvOptions(env registry.Env) []func(*config.LoadOptions) error {
	files := func(explicit, name string) []string {
		if v := env.Get(explicit); v != "" {
			return []string{v}
		}
		if home := env.Get("HOME"); home != "" {
			return []string{filepath.Join(home, ".aws", name)}
		}
		return []string{} // set, and empty: no shared file at all
	}
	profile := firstOf(env, "AWS_PROFILE", "AWS_DEFAULT_PROFILE")
	opts := []func(*config.LoadOptions) error{
		config.WithSharedConfigFiles(files("AWS_CONFIG_FILE", "config")),
		config.WithSharedCredentialsFiles(files("AWS_SHARED_CREDENTIALS_FILE", "credentials")),
	}
	if id, secret := env.Get("AWS_ACCESS_KEY_ID"), env.Get("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret, env.Get("AWS_SESSION_TOKEN"))))
	} else if profile != "" {
		// A profile given in load options makes the SDK resolve credentials
		// from the shared files, never from the process's AWS keys.
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	if r := firstOf(env, "AWS_REGION", "AWS_DEFAULT_REGION"); r != "" {
		opts = append(opts, config.WithRegion(r))
	}
	if strings.EqualFold(env.Get("AWS_EC2_METADATA_DISABLED"), "true") {
		opts = append(opts, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	if bundle := env.Get("AWS_CA_BUNDLE"); bundle != "" {
		opts = append(opts, func(lo *config.LoadOptions) error {
			pem, err := os.ReadFile(bundle)
			if err != nil {
				return fmt.Errorf("AWS_CA_BUNDLE: %w", err)
			}
			lo.CustomCABundle = bytes.NewReader(pem)
			return nil
		})
	}
	return opts
}

// Endpoint returns the endpoint override for an AWS service ("ECR",
// "ECR_PUBLIC") from the environment: AWS_ENDPOINT_URL_<service>, else
// AWS_ENDPOINT_URL; "" when neither is set. The SDK reads these from the
// process environment itself; for any other environment the driver sets
// the client's BaseEndpoint from this.
func Endpoint(env registry.Env, service string) string {
	if env.IsProcess() {
		return ""
	}
	return firstOf(env, "AWS_ENDPOINT_URL_"+service, "AWS_ENDPOINT_URL")
}

func firstOf(env registry.Env, keys ...string) string {
	for _, k := range keys {
		if v := env.Get(k); v != "" {
			return v
		}
	}
	return ""
}

// Lazy creates a client on first use and keeps it; a failed creation is
// tried again on the next use. It lets a driver's Open do no I/O.
type Lazy[T any] struct {
	create func(context.Context) (T, error)

	mu   sync.Mutex
	done bool
	v    T
}

// Ready returns a Lazy that already holds v (a client the caller supplied).
func Ready[T any](v T) *Lazy[T] { return &Lazy[T]{done: true, v: v} }

// NewClient returns a Lazy client of an AWS service ("ECR", "ECR_PUBLIC"):
// on first use, load returns the AWS configuration and build makes the
// client from it and the service's endpoint override ([Endpoint]; "" when
// none).
func NewClient[T any](o *registry.Options, service string, load func(context.Context) (aws.Config, error), build func(cfg aws.Config, endpoint string) T) *Lazy[T] {
	return newLazy(func(ctx context.Context) (T, error) {
		cfg, err := load(ctx)
		if err != nil {
			var zero T
			return zero, err
		}
		return build(cfg, Endpoint(o.Env, service)), nil
	})
}

// NewLazy returns a Lazy over create.
func newLazy[T any](create func(context.Context) (T, error)) *Lazy[T] {
	return &Lazy[T]{create: create}
}

// Get returns the client, creating it when needed.
func (l *Lazy[T]) Get(ctx context.Context) (T, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return l.v, nil
	}
	v, err := l.create(ctx)
	if err != nil {
		return v, err
	}
	l.v, l.done = v, true
	return v, nil
}

// CredentialsConfigured reports whether the environment of o names AWS
// credentials, without resolving them (which could reach for instance
// metadata on a machine that has none).
func CredentialsConfigured(o *registry.Options) bool {
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		if _, ok := o.LookupEnv(k); ok {
			return true
		}
	}
	return false
}
