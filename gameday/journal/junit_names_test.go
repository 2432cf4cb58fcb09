package journal

import "github.com/aruntime/arcert/internal/junit"

// The tests read junit.xml back into the shared JUnit types, by the names they had here.
type (
	junitSuites = junit.Suites
	junitCase   = junit.Case
)
