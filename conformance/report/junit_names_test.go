package report

import "github.com/aruntime/arcert/internal/junit"

// The tests read junit.xml back into the shared JUnit types, by the name it had here.
type junitSuites = junit.Suites
