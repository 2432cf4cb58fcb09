package spec

import (
	"slices"
	"strings"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/chaos/fault"
	"github.com/aruntime/arcert/chaos/scenario"
)

// fault resolves one fault: its selector against the target's declared links (link kinds) or
// parts (node kinds), its mode.
func (c *compiler) fault(at string, ft Fault) scenario.Fault {
	out := scenario.Fault{Name: ft.Name, At: ft.At, For: ft.For}
	if ft.Command != nil {
		out.Command = &scenario.Command{Run: ft.Command.Run, Rollback: ft.Command.Rollback, Timeout: ft.Command.Timeout}
		return out
	}
	var sel Selector
	if ft.Select != nil { // Parse sees to it; a File built by hand may not
		sel = *ft.Select
	}
	mode, err := ParseMode(sel.Mode)
	if err != nil {
		c.p.add(at+".select.mode", "%s", err.Error())
	}
	out.Select = scenario.Selector{Role: sel.Role, Name: sel.Name, Part: sel.Part, Mode: mode}
	out.Fault = ft.faultOf()
	if isLinkKind(fault.Kind(ft.Kind)) {
		c.links(at+".select", sel)
	} else {
		c.parts(at+".select", sel)
	}
	return out
}

// links checks that the target declares a link the selector matches, naming what it does declare.
func (c *compiler) links(at string, sel Selector) {
	var names, parts []string
	for _, d := range c.t.Dependencies {
		if d.Role != link.Role(sel.Role) {
			continue
		}
		if !slices.Contains(names, d.Name) {
			names = append(names, d.Name)
		}
		if (sel.Name == "" || d.Name == sel.Name) && d.Part != "" {
			parts = append(parts, d.Part)
		}
	}
	switch {
	case len(names) == 0:
		c.p.add(at+".role", "%s declares no %s dependency to put a fault on", c.t.Source, sel.Role)
	case sel.Name != "" && !slices.Contains(names, sel.Name):
		c.p.add(at+".name", "%s declares no %s dependency named %q (its %s links: %s)", c.t.Source, sel.Role, sel.Name, sel.Role, strings.Join(names, ", "))
	case sel.Part != "" && !slices.Contains(parts, sel.Part):
		c.p.add(at+".part", "%s declares no part %q behind its %s links (parts: %s)", c.t.Source, sel.Part, sel.Role, orNone(parts))
	}
}

// parts checks a node fault's part name against the workers the target names behind its region
// links, when it names any; other parts are known only to the deployment.
func (c *compiler) parts(at string, sel Selector) {
	if sel.Role != "worker" || sel.Name == "" {
		return
	}
	var workers []string
	for _, d := range c.t.Dependencies {
		if d.Role == link.RoleRegion && d.Part != "" {
			workers = append(workers, d.Part)
		}
	}
	if len(workers) > 0 && !slices.Contains(workers, sel.Name) {
		c.p.add(at+".name", "%s names no worker %q behind its region links (workers: %s)", c.t.Source, sel.Name, strings.Join(workers, ", "))
	}
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}
