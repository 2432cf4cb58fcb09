package registry

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/sirupsen/logrus"
)

// The distribution registry logs through logrus's process-wide standard
// logger and offers no per-instance logger to a caller outside its module.
// So that its messages reach the runtime's slog handler (in the runtime's
// format, and silent in tests that discard logs) instead of stderr, the
// first Start takes over that standard logger: its own output is discarded
// and a hook forwards every entry to the logger of the most recently started
// registry still running. One process normally runs one registry; with
// several, their messages cannot be told apart anyway.
var (
	bridgeOnce sync.Once
	sink       atomic.Pointer[slog.Logger]
	discard    = slog.New(slog.DiscardHandler)
)

// bridgeLogs routes logrus's standard logger to log from now on.
func bridgeLogs(log *slog.Logger) {
	bridgeOnce.Do(func() {
		std := logrus.StandardLogger()
		std.SetOutput(io.Discard)
		std.SetFormatter(silentFormatter{})
		std.AddHook(slogHook{})
	})
	sink.Store(log)
}

// unbridgeLogs stops routing to log, unless a later registry took over.
func unbridgeLogs(log *slog.Logger) {
	sink.CompareAndSwap(log, discard)
}

// silentFormatter skips formatting entries that are discarded anyway.
type silentFormatter struct{}

func (silentFormatter) Format(*logrus.Entry) ([]byte, error) { return nil, nil }

// slogHook forwards logrus entries to the current sink.
type slogHook struct{}

func (slogHook) Levels() []logrus.Level { return logrus.AllLevels }

func (slogHook) Fire(e *logrus.Entry) error {
	log := sink.Load()
	if log == nil {
		return nil
	}
	level := slogLevel(e.Level)
	ctx := context.Background()
	if !log.Enabled(ctx, level) {
		return nil
	}
	attrs := make([]slog.Attr, 0, len(e.Data)+1)
	attrs = append(attrs, slog.String("component", "registry"))
	for k, v := range e.Data {
		attrs = append(attrs, slog.Any(k, v))
	}
	log.LogAttrs(ctx, level, e.Message, attrs...)
	return nil
}

// slogLevel maps logrus levels to slog's. Distribution logs every request
// at Info ("response completed"), which is request chatter to the runtime,
// so its Info becomes Debug; warnings and errors keep their weight.
func slogLevel(l logrus.Level) slog.Level {
	switch {
	case l <= logrus.ErrorLevel: // panic, fatal, error
		return slog.LevelError
	case l == logrus.WarnLevel:
		return slog.LevelWarn
	default:
		return slog.LevelDebug
	}
}
