package compose

import (
	"context"
	"fmt"
)

// CutNetwork disconnects the part role/name from the project's network named as
// docker-compose.yaml names it (a router from "state", a region's worker from "eu-west"): the
// part keeps running and stays on its other networks.
func (d *Deployment) CutNetwork(ctx context.Context, role, name, network string) error {
	net, err := d.attachedNetwork(role, name, network)
	if err != nil {
		return err
	}
	return d.disconnect(ctx, name, net)
}

// RestoreNetwork connects the part to the network again with the aliases it had there, so the
// names others dial it by resolve again; a part still on the network is left alone.
func (d *Deployment) RestoreNetwork(ctx context.Context, role, name, network string) error {
	net, err := d.attachedNetwork(role, name, network)
	if err != nil {
		return err
	}
	return d.connect(ctx, name, net)
}

// attachedNetwork resolves the network and checks the part was on it when the deployment was
// opened: a cut of a network the part was never on would prove nothing.
func (d *Deployment) attachedNetwork(role, name, network string) (string, error) {
	if _, err := d.find(role, name); err != nil {
		return "", err
	}
	net, err := d.network(network)
	if err != nil {
		return "", err
	}
	if _, ok := d.attached[name][net]; !ok {
		return "", fmt.Errorf("%w: %s %s is not on network %s (it is on %v)", ErrDeployment, role, name, network, sortedKeys(d.attached[name]))
	}
	return net, nil
}
