package containers

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	mobynet "github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/chaos/fault"
	"github.com/aruntime/arcert/deploy/images"
)

// containerName is the Docker name of a part of deployment id.
func containerName(id, part string) string { return "arcert-" + id + "-" + part }

// request is the container request every part shares: on the deployment's network under its
// alias, labelled with the deployment.
func (d *Deployment) request(name, image string, ports []string, waitFor wait.Strategy) testcontainers.ContainerRequest {
	return testcontainers.ContainerRequest{
		Image:          image,
		Name:           containerName(d.id, name),
		Networks:       []string{d.net.Name},
		NetworkAliases: map[string][]string{d.net.Name: {name}},
		ExposedPorts:   ports,
		Labels:         map[string]string{deploymentLabel: d.id, "dev.arcert.part": name},
		WaitingFor:     waitFor,
	}
}

// startToxiproxy starts toxiproxy's server and creates every link's proxy through its API; each
// link's Dial is where its proxy listens inside the server's container (see proxyLinks).
func (d *Deployment) startToxiproxy(ctx context.Context, links []link.Link) error {
	req := d.request(toxiproxyAlias, images.Toxiproxy, []string{toxiproxyAPI},
		wait.ForHTTP("/version").WithPort(toxiproxyAPI).WithStartupTimeout(StartTimeout))
	// Info logs every proxy started and every connection's end, without a line per API call, so
	// the tail a failure quotes shows what the links did.
	req.Env = map[string]string{"LOG_LEVEL": "info"}
	req.HostConfigModifier = func(hc *container.HostConfig) { hc.Sysctls = toxiproxySysctls() }
	if err := d.run(ctx, spec{name: toxiproxyAlias, role: toxiproxyAlias}, req); err != nil {
		return err
	}
	api, err := d.hostAddr(ctx, toxiproxyAlias, toxiproxyAPI)
	if err != nil {
		return err
	}
	d.engine = fault.New("http://" + api)
	for _, l := range links {
		if _, err := d.engine.Proxy(l); err != nil {
			return err
		}
	}
	return nil
}

// startPart starts one aruntime part with its configuration and waits until it serves.
func (d *Deployment) startPart(ctx context.Context, s spec) error {
	cfg, err := roleConfig(s.durable)
	if err != nil {
		return err
	}
	req := d.request(s.name, images.Aruntime, s.ports, wait.ForLog(s.ready).WithStartupTimeout(StartTimeout))
	req.Cmd = s.args
	req.Files = []testcontainers.ContainerFile{{Reader: bytes.NewReader(cfg), ContainerFilePath: configPath, FileMode: 0o644}}
	if s.role == RoleRouter {
		req.HostConfigModifier = d.publishRouter
	}
	return d.run(ctx, s, req)
}

// toxiproxySysctls bounds how long toxiproxy's dial to a part may hang. Toxiproxy dials a link's
// upstream in its accept loop, without a timeout: one dial that hangs holds every later
// connection to that link in the kernel's backlog. A part killed and restarted gets a new address,
// but Docker's DNS can still answer the old one to the dial its clients' immediate reconnect
// causes, and a SYN to an address no container holds is retransmitted for up to two minutes
// (tcp_syn_retries 6: 127 s) unless some container takes the address meanwhile: CI saw a restarted
// worker out of the router's rotation for 68 s, until the dial reached another worker that had
// been given the old address. Two retries fail such a dial after 7 s (1 + 2 + 4), and toxiproxy
// resolves the name again for the next connection; on a bridge network a SYN is seldom lost.
func toxiproxySysctls() map[string]string {
	return map[string]string{"net.ipv4.tcp_syn_retries": "2"}
}

// publishRouter publishes the router's ports on loopback ports chosen at deploy time, instead of
// ephemeral ones, so that they survive a restart of its container.
func (d *Deployment) publishRouter(hc *container.HostConfig) {
	lo := netip.MustParseAddr("127.0.0.1")
	hc.PortBindings = mobynet.PortMap{
		mobynet.MustParsePort(routerHTTP): {{HostIP: lo, HostPort: strconv.Itoa(d.hostHTTP)}},
		mobynet.MustParsePort(routerGRPC): {{HostIP: lo, HostPort: strconv.Itoa(d.hostGRPC)}},
	}
}

// run creates and starts a container and records it as a part, also when its start failed, so
// that Close removes it and the error quotes its logs.
func (d *Deployment) run(ctx context.Context, s spec, req testcontainers.ContainerRequest) error {
	c, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{ContainerRequest: req, Started: true})
	if dc, ok := c.(*testcontainers.DockerContainer); ok && dc != nil {
		d.mu.Lock()
		d.parts = append(d.parts, &part{spec: s, c: dc})
		d.mu.Unlock()
	}
	if err != nil {
		return fmt.Errorf("starting %s: %w", s.name, err)
	}
	return nil
}

// find returns the part called name (of role, when role is not empty).
func (d *Deployment) find(role, name string) (*part, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, p := range d.parts {
		if p.name == name && (role == "" || p.role == role) {
			return p, nil
		}
	}
	return nil, fmt.Errorf("%w: %s %q", ErrNoPart, role, name)
}

// hostAddr is the host address a part's port is published on.
func (d *Deployment) hostAddr(ctx context.Context, name, port string) (string, error) {
	p, err := d.find("", name)
	if err != nil {
		return "", err
	}
	mapped, err := p.c.MappedPort(ctx, port)
	if err != nil {
		return "", fmt.Errorf("%s: port %s: %w", name, port, err)
	}
	return net.JoinHostPort("127.0.0.1", mapped.Port()), nil
}

// freePorts picks two free loopback ports for the router. Another process could take one before
// the router's container does; Deploy then fails with Docker's "port is already allocated".
func freePorts() (int, int, error) {
	var ports [2]int
	for i := range ports {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, 0, fmt.Errorf("picking a host port for the router: %w", err)
		}
		defer func() { _ = lis.Close() }()
		ports[i] = lis.Addr().(*net.TCPAddr).Port
	}
	return ports[0], ports[1], nil
}

// tailLines is how many of each container's last log lines a failure quotes.
const tailLines = 15

// tails returns the last lines each part logged, for an error message.
func (d *Deployment) tails(ctx context.Context) string {
	var names []string
	for _, p := range d.snapshot() {
		names = append(names, p.name)
	}
	return d.tailsOf(ctx, names...)
}

// tailsOf is tails of the named parts only (those the deployment has).
func (d *Deployment) tailsOf(ctx context.Context, names ...string) string {
	var b strings.Builder
	for _, p := range d.snapshot() {
		if slices.Contains(names, p.name) {
			fmt.Fprintf(&b, "\n--- %s (last %d lines) ---\n%s", p.name, tailLines, strings.Join(p.lastLines(ctx, tailLines), "\n"))
		}
	}
	return b.String()
}

// snapshot is the deployment's parts, copied under its lock.
func (d *Deployment) snapshot() []*part {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]*part(nil), d.parts...)
}

// lastLines returns up to n of the last lines the part logged.
func (p *part) lastLines(ctx context.Context, n int) []string {
	rc, err := p.c.Logs(ctx)
	if err != nil {
		return []string{"(logs unavailable: " + err.Error() + ")"}
	}
	defer func() { _ = rc.Close() }()
	var lines []string
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return lines
}

// countLines counts the lines of the part's log that contain s: a restarted part has printed its
// ready line once more than before.
func (p *part) countLines(ctx context.Context, s string) (int, error) {
	rc, err := p.c.Logs(ctx)
	if err != nil {
		return 0, err
	}
	defer func() { _ = rc.Close() }()
	n := 0
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			n++
		}
	}
	return n, sc.Err()
}
