// Package containers deploys the reference runtime one container per role on a private Docker
// network, with every dependency link through a toxiproxy container, so that the Resilience
// suites that run against the embedded runtime run against real container faults too: a part
// killed (SIGKILL), stopped, paused or cut off the network, and any link cut or degraded by the
// same fault engine. Images come from deploy/images, FROM scratch, so nothing is pulled.
//
// The topology is data: the links are the dependencies of fixtures/targets/containers.yaml
// (dial toxiproxy:PORT, upstream ALIAS:PORT), the parts' configuration is
// fixtures/config/containers.yaml, and Deploy creates every proxy before any part starts, so
// each part dials its proxies from its first connection.
package containers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// Sentinel errors of the package.
var (
	// ErrUnavailable means no Docker engine answers; its message says why, for a NOT_SUPPORTED
	// result rather than a failure.
	ErrUnavailable = errors.New("containers: no Docker engine available")
	// ErrDeploy marks a deployment that did not come up; the message ends with the last lines
	// each container logged.
	ErrDeploy = errors.New("containers: deployment failed")
	// ErrNoPart means a role and name match no part of the deployment.
	ErrNoPart = errors.New("containers: no such part")
	// ErrResidue means a part is left paused, stopped, exited or off the network.
	ErrResidue = errors.New("containers: residue left")
)

var envOnce sync.Once

// prepareEnv sets what testcontainers needs on machines that reach no container registry, unless
// the caller chose otherwise: no Ryuk reaper (its image cannot be pulled; Close removes what
// Deploy made) and the IPv4 loopback as the host of mapped ports (IPv6 localhost is not mapped,
// and waits on it time out). testcontainers reads its configuration once, so this runs before
// any of its calls. Its own log lines are silenced: errors here carry what matters.
func prepareEnv() {
	envOnce.Do(func() {
		for k, v := range map[string]string{"TESTCONTAINERS_RYUK_DISABLED": "true", "TESTCONTAINERS_HOST_OVERRIDE": "127.0.0.1"} {
			if _, set := os.LookupEnv(k); !set {
				_ = os.Setenv(k, v)
			}
		}
		tclog.SetDefault(tclog.NewNoopLogger())
	})
}

// Available returns nil when a Docker engine answers, and otherwise an ErrUnavailable whose
// message is the reason, so that a run without Docker reports the containerized deployment as
// not supported instead of failing.
func Available(ctx context.Context) (err error) {
	prepareEnv()
	defer func() {
		// The Docker client library panics on some malformed DOCKER_HOST values.
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrUnavailable, r)
		}
	}()
	docker, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Errorf("%w (%s): %w", ErrUnavailable, where(), err)
	}
	defer func() { _ = docker.Close() }()
	if _, err := docker.Ping(ctx, client.PingOptions{}); err != nil {
		return fmt.Errorf("%w (%s): ping: %w", ErrUnavailable, where(), err)
	}
	return nil
}

// defaultSocket is where a Docker engine listens unless DOCKER_HOST says otherwise.
const defaultSocket = "/var/run/docker.sock"

// where says where an engine was looked for, since the client library's own reasons (for example
// "rootless Docker not found") name only its last attempt.
func where() string {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return "DOCKER_HOST=" + h
	}
	if _, err := os.Stat(defaultSocket); err != nil {
		return "DOCKER_HOST is unset and there is no " + defaultSocket
	}
	return "DOCKER_HOST is unset; " + defaultSocket + " does not answer"
}
