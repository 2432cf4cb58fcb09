package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// defaultHealthz is the monitoring endpoint of a server started with `-m 8222`. nats-server
// answers it with 200 only once JetStream is up and, in a cluster, this server is current with
// the meta leader and its streams; anything else is unhealthy.
const defaultHealthz = "http://127.0.0.1:8222/healthz"

// healthTimeout bounds one check, well inside a Compose healthcheck's own timeout.
const healthTimeout = 3 * time.Second

// healthz GETs the URL in args (or defaultHealthz) and fails unless it answers 200.
func healthz(args []string) error {
	url := defaultHealthz
	switch len(args) {
	case 0:
	case 1:
		url = args[0]
	default:
		return errors.New("usage: natsd healthz [URL]")
	}
	c := http.Client{Timeout: healthTimeout}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}
