package watch

// Names the external tests use.
const (
	MaxBackoffIntervals       = maxBackoffIntervals
	DefaultHandlerConcurrency = defaultHandlerConcurrency
	MaxEventBody              = maxEventBody
	MinEventInterval          = minEventInterval
)
