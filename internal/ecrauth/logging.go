package ecrauth

import (
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"
)

// sdkLogger routes the AWS SDK's own log lines to the backend's slog
// logger instead of the SDK's default, which prints to stderr
// ("SDK 2026/12/04 … WARN falling back to IMDSv1: …" from a CLI on a machine
// without AWS credentials). The SDK classifies its lines as Warn or Debug;
// both are details of how credentials were resolved, not failures (a failure
// comes back as an error), so both go at debug level, the classification
// kept as an attribute.
type sdkLogger struct{ log *slog.Logger }

func (l sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	l.log.Debug("aws sdk: "+sanitize(fmt.Sprintf(format, v...)), slog.String("classification", string(c)))
}

// withLogger is the load option that installs log as the SDK's logger.
func withLogger(log *slog.Logger) func(*config.LoadOptions) error {
	return config.WithLogger(sdkLogger{log: log})
}
