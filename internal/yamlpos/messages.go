package yamlpos

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Message is one mistake in a YAML file: its line (0 if unknown), the field path it is about
// (empty for the file's syntax) and what is wrong, in words a file's author reads, never a Go
// type.
type Message struct {
	Line  int
	Field string
	Text  string
}

// Source is the file a YAML error came from: its bytes, its node tree (nil when it did not
// parse) and the Go type it was decoded into (nil when it was decoded generically).
type Source struct {
	Data []byte
	Root *yaml.Node
	Type reflect.Type
}

var (
	yamlLine    = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	cannotRE    = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (.+)$")
	notFoundRE  = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	alreadySeen = regexp.MustCompile(`^mapping key "(.*)" already defined at line (\d+)$`)
)

// Messages splits the YAML library's error into its mistakes, each once (a mistake inside an
// anchor is reported by the library once per alias), located by line and field and said in
// words: `cannot unmarshal !!str` becomes `expected an integer, got the string "lots"`, `field x
// not found in type T` becomes `unknown field (did you mean y?)`, and a syntax error's line is
// moved to the line at fault (see SyntaxLine).
func Messages(err error, src Source) []Message {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		line, text := splitLine(err.Error())
		line = SyntaxLine(src.Data, line, text)
		if text == "did not find expected key" {
			// Almost always a key indented unlike the mapping it should belong to.
			text += " (is this line indented like the keys it belongs with?)"
		}
		return []Message{{Line: line, Text: text}}
	}
	out := make([]Message, 0, len(te.Errors))
	seen := map[Message]bool{}
	for _, raw := range te.Errors {
		line, text := splitLine(raw)
		m := describe(src, line, text)
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	return out
}

// splitLine separates the library's "yaml: line N: " prefix from its message.
func splitLine(msg string) (int, string) {
	if sub := yamlLine.FindStringSubmatch(msg); sub != nil {
		line, _ := strconv.Atoi(sub[1])
		return line, sub[2]
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}

// describe turns one of the decoder's messages into a located mistake in words.
func describe(src Source, line int, text string) Message {
	if m := notFoundRE.FindStringSubmatch(text); m != nil {
		path := keyPath(src.Root, line, m[1])
		msg := "unknown field"
		if guess := closest(m[1], fieldNames(typeAt(src.Type, parent(path)))); guess != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", guess)
		}
		return Message{Line: line, Field: path, Text: msg}
	}
	if m := cannotRE.FindStringSubmatch(text); m != nil {
		tag, value := m[1], m[2]
		path := valuePath(src.Root, line, tag, value)
		return Message{Line: line, Field: path, Text: "expected " + expected(typeAt(src.Type, path), m[3]) + ", got " + gotValue(tag, value)}
	}
	if m := alreadySeen.FindStringSubmatch(text); m != nil {
		return Message{Line: line, Field: keyPath(src.Root, line, m[1]), Text: "defined twice; the first is at line " + m[2]}
	}
	return Message{Line: line, Text: text}
}

// durationType is decoded from strings such as "500ms" by the YAML library.
var durationType = reflect.TypeFor[time.Duration]()

// expected names, in YAML's words, what a value of Go type t takes. goType is the library's
// spelling of it, used when t is unknown.
func expected(t reflect.Type, goType string) string {
	if t == nil {
		return expectedByName(goType)
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == durationType {
		return "a duration such as 500ms or 2s"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "a mapping"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	default:
		return "another kind of value"
	}
}

var intName = regexp.MustCompile(`^u?int(8|16|32|64)?$`)

// expectedByName is expected for a type known only by the library's name for it.
func expectedByName(goType string) string {
	switch {
	case goType == "time.Duration":
		return "a duration such as 500ms or 2s"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["):
		return "a mapping"
	case intName.MatchString(goType):
		return "an integer"
	case goType == "float32" || goType == "float64":
		return "a number"
	case goType == "bool":
		return "true or false"
	case goType == "string":
		return "a string"
	default:
		return "another kind of value"
	}
}

// gotValue names the value the library found, by its YAML tag.
func gotValue(tag, value string) string {
	switch tag {
	case "str":
		return strconv.Quote(value)
	case "seq":
		return "a list"
	case "map":
		return "a mapping"
	case "null":
		return "nothing (null)"
	case "int", "float", "bool":
		return value
	default:
		return "!!" + tag + " " + value
	}
}
