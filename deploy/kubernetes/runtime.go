package kubernetes

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"reflect"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/aruntime/arcert/reference/config"
)

// aruntimeImage is the repository of cmd/aruntime's image (deploy/images); containers of it run
// the reference runtime and are checked against the configuration they mount.
const aruntimeImage = "arcert/aruntime"

// pod is one aruntime container with the configuration it runs.
type pod struct {
	w    workload
	c    *corev1.Container
	role string            // the aruntime subcommand
	args map[string]string // its --flag value pairs
	cfg  *config.Config
	// from is the kind of object the configuration file comes from: Secret or ConfigMap.
	from string
}

func (p pod) String() string {
	return fmt.Sprintf("%s container %s (aruntime %s)", p.w, p.c.Name, p.role)
}

// CheckRuntime checks every aruntime container against the runtime configuration it mounts: the
// configuration parses and validates with reference/config, as `aruntime check` does, with the
// provider keys its env supplies; the ports the container declares are exactly those its role
// listens on; every address it dials reaches, through a Service of the overlay, a port a pod
// declares; and the configurations of one namespace agree except where a role's must differ.
func (m *Manifests) CheckRuntime() error {
	pods, errs := m.aruntimePods()
	for _, p := range pods {
		for _, err := range append(m.checkListens(p), m.checkDials(p)...) {
			errs = append(errs, fmt.Errorf("%s: %s: %w", m.Dir, p, err))
		}
	}
	errs = append(errs, agree(m.Dir, pods))
	return errors.Join(errs...)
}

// aruntimePods lists the containers of the aruntime image with the configuration each runs.
func (m *Manifests) aruntimePods() ([]pod, []error) {
	var errs []error
	var pods []pod
	for _, w := range m.workloads() {
		for i := range w.template.Spec.Containers {
			c := &w.template.Spec.Containers[i]
			if !strings.HasPrefix(c.Image, aruntimeImage+":") {
				continue
			}
			p, err := m.loadPod(w, c)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %s container %s: %w", m.Dir, w, c.Name, err))
				continue
			}
			pods = append(pods, p)
		}
	}
	return pods, errs
}

// loadPod reads the container's arguments and parses the configuration file --config names from
// the Secret or ConfigMap mounted there.
func (m *Manifests) loadPod(w workload, c *corev1.Container) (pod, error) {
	p := pod{w: w, c: c, args: map[string]string{}}
	if len(c.Command) > 0 || len(c.Args) == 0 {
		return p, errors.New("want the image's entrypoint with args naming the aruntime subcommand")
	}
	p.role = c.Args[0]
	for i := 1; i+1 < len(c.Args); i += 2 {
		if !strings.HasPrefix(c.Args[i], "--") {
			return p, fmt.Errorf("argument %q: want --flag value pairs after the subcommand", c.Args[i])
		}
		p.args[c.Args[i]] = c.Args[i+1]
	}
	file := p.args["--config"]
	if file == "" {
		return p, errors.New("no --config: the runtime would run its embedded dev configuration")
	}
	data, from, err := m.mounted(w, c, file)
	if err != nil {
		return p, err
	}
	env, err := m.env(w.namespace, c)
	if err != nil {
		return p, err
	}
	p.from = from
	p.cfg, err = parseWithEnv(file, data, env)
	return p, err
}

// mounted returns the content of file in container c: the key of the Secret or ConfigMap volume
// mounted on its directory, and which of the two it is.
func (m *Manifests) mounted(w workload, c *corev1.Container, file string) ([]byte, string, error) {
	dir, base := path.Split(file)
	for _, vm := range c.VolumeMounts {
		if path.Clean(vm.MountPath) != path.Clean(dir) || vm.SubPath != "" {
			continue
		}
		for _, v := range w.template.Spec.Volumes {
			if v.Name != vm.Name {
				continue
			}
			switch {
			case v.Secret != nil:
				if s := m.secret(w.namespace, v.Secret.SecretName); s != nil {
					data, err := pick(s.Data, v.Secret.Items, base, "Secret "+s.Name)
					return data, "Secret", err
				}
				return nil, "", fmt.Errorf("%s: no Secret %s", file, v.Secret.SecretName)
			case v.ConfigMap != nil:
				if cm := m.configMap(w.namespace, v.ConfigMap.Name); cm != nil {
					keys := map[string][]byte{}
					for k, s := range cm.Data {
						keys[k] = []byte(s)
					}
					data, err := pick(keys, v.ConfigMap.Items, base, "ConfigMap "+cm.Name)
					return data, "ConfigMap", err
				}
				return nil, "", fmt.Errorf("%s: no ConfigMap %s", file, v.ConfigMap.Name)
			}
		}
	}
	return nil, "", fmt.Errorf("%s: no Secret or ConfigMap volume is mounted on %s", file, dir)
}

// pick returns the key of data that appears in a volume as the file base.
func pick(data map[string][]byte, items []corev1.KeyToPath, base, what string) ([]byte, error) {
	key := base
	if len(items) > 0 {
		key = ""
		for _, it := range items {
			if it.Path == base {
				key = it.Key
			}
		}
	}
	if v, ok := data[key]; ok && key != "" {
		return v, nil
	}
	return nil, fmt.Errorf("%s does not project a file %s", what, base)
}

// env resolves the container's environment: literal values and Secret keys.
func (m *Manifests) env(namespace string, c *corev1.Container) (map[string]string, error) {
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil:
			r := e.ValueFrom.SecretKeyRef
			s := m.secret(namespace, r.Name)
			if s == nil {
				return nil, fmt.Errorf("env %s: no Secret %s", e.Name, r.Name)
			}
			v, ok := s.Data[r.Key]
			if !ok {
				return nil, fmt.Errorf("env %s: Secret %s has no key %q", e.Name, r.Name, r.Key)
			}
			env[e.Name] = string(v)
		}
	}
	return env, nil
}

// agree checks that the configurations of a namespace are one configuration: they may differ
// only in what the durable part's role changes (it embeds JetStream or serves the registry).
func agree(dir string, pods []pod) error {
	type seen struct {
		p   pod
		cfg config.Config
	}
	first := map[string]seen{}
	var errs []error
	for _, p := range pods {
		n := *p.cfg
		n.Source, n.Durable.NATSURL, n.Durable.NATSListen, n.Artifacts.RegistryListen = "", "", "", ""
		f, ok := first[p.w.namespace]
		if !ok {
			first[p.w.namespace] = seen{p, n}
			continue
		}
		if !reflect.DeepEqual(f.cfg, n) {
			errs = append(errs, fmt.Errorf("%s: %s runs %s and %s runs %s, which differ beyond durable.nats_url, durable.nats_listen and artifacts.registry_listen",
				dir, f.p, f.p.cfg.Source, p, p.cfg.Source))
		}
	}
	return errors.Join(errs...)
}

// hostPort splits an address or URL into host and port.
func hostPort(addr string) (string, int32, error) {
	if strings.Contains(addr, "://") {
		u, err := url.Parse(addr)
		if err != nil {
			return "", 0, err
		}
		addr = u.Host
		if u.Port() == "" {
			addr = net.JoinHostPort(u.Hostname(), map[string]string{"http": "80", "https": "443", "nats": "4222"}[u.Scheme])
		}
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.ParseInt(port, 10, 32)
	if err != nil {
		return "", 0, fmt.Errorf("%s: port %q: %w", addr, port, err)
	}
	return host, int32(n), nil
}

// declared lists the container ports of c.
func declared(c *corev1.Container) []int32 {
	var out []int32
	for _, p := range c.Ports {
		out = append(out, p.ContainerPort)
	}
	slices.Sort(out)
	return out
}
