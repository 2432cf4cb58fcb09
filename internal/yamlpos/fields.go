package yamlpos

import (
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// visit walks the tree in document order, calling fn with each key (nil for a sequence item),
// value and the value's path, until fn returns true. It does not follow aliases: a mistake inside
// an anchor is found where the anchor is defined, which is where it is fixed.
func visit(n *yaml.Node, path string, fn func(key, value *yaml.Node, path string) bool) bool {
	if n == nil {
		return false
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if visit(c, path, fn) {
				return true
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			if fn(k, v, p) || visit(v, p, fn) {
				return true
			}
		}
	case yaml.SequenceNode:
		for i, v := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			if fn(nil, v, p) || visit(v, p, fn) {
				return true
			}
		}
	}
	return false
}

// keyPath is the path of the mapping key name written at line, or "" if there is none.
func keyPath(root *yaml.Node, line int, name string) string {
	var found string
	visit(root, "", func(k, _ *yaml.Node, p string) bool {
		if k != nil && k.Line == line && k.Value == name {
			found = p
		}
		return found != ""
	})
	return found
}

// valuePath is the path of the value at line that the library reported by its tag and its value
// (shortened by the library to 7 characters and "..." when longer than 10), or "".
func valuePath(root *yaml.Node, line int, tag, value string) string {
	var found string
	prefix, cut := strings.CutSuffix(value, "...")
	visit(root, "", func(_, v *yaml.Node, p string) bool {
		if v.Line != line || v.Kind == yaml.AliasNode {
			return false
		}
		switch {
		case tag == "seq":
			found = pick(v.Kind == yaml.SequenceNode, p)
		case tag == "map":
			found = pick(v.Kind == yaml.MappingNode, p)
		case cut:
			found = pick(v.Kind == yaml.ScalarNode && strings.HasPrefix(v.Value, prefix), p)
		default:
			found = pick(v.Kind == yaml.ScalarNode && v.Value == value, p)
		}
		return found != ""
	})
	return found
}

func pick(ok bool, p string) string {
	if ok {
		return p
	}
	return ""
}

// parent is the path of the mapping that holds path's last field.
func parent(path string) string {
	if i := strings.LastIndex(path, "."); i >= 0 {
		return path[:i]
	}
	return ""
}

// typeAt is the Go type the value at path decodes into, following yaml tags from t, or nil.
func typeAt(t reflect.Type, path string) reflect.Type {
	for _, part := range split(path) {
		if t == nil {
			return nil
		}
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if _, err := strconv.Atoi(part); err == nil {
			if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
				return nil
			}
			t = t.Elem()
			continue
		}
		switch t.Kind() {
		case reflect.Map:
			t = t.Elem()
		case reflect.Struct:
			t = fieldType(t, part)
		default:
			return nil
		}
	}
	return t
}

// fieldType is the type of the field of struct t that YAML calls name, or nil.
func fieldType(t reflect.Type, name string) reflect.Type {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, inline := yamlName(f)
		if inline {
			if ft := fieldType(f.Type, name); ft != nil {
				return ft
			}
		} else if tag == name {
			return f.Type
		}
	}
	return nil
}

// fieldNames lists the names YAML knows for the fields of struct t.
func fieldNames(t reflect.Type) []string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, inline := yamlName(f)
		switch {
		case inline:
			names = append(names, fieldNames(f.Type)...)
		case name != "-" && f.IsExported():
			names = append(names, name)
		}
	}
	return names
}

// yamlName is the YAML library's name for a struct field, and whether it is inlined.
func yamlName(f reflect.StructField) (string, bool) {
	tag := f.Tag.Get("yaml")
	name, opts, _ := strings.Cut(tag, ",")
	if strings.Contains(","+opts+",", ",inline,") {
		return "", true
	}
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name, false
}

// closest is the name among known nearest to name, if it is near enough to be a misspelling
// (at most a third of its letters differ), else "".
func closest(name string, known []string) string {
	best, bestD := "", len(name)/3+1
	for _, k := range known {
		if d := distance(name, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
