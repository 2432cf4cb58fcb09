package kubernetes

import "testing"

// TestBrokenManifestsFail proves the checks can fail: each case breaks the manifests one way a
// cluster would only show at run time, and the checks must name it.
func TestBrokenManifestsFail(t *testing.T) {
	const dev, prod = "overlays/dev", "overlays/production"
	runBroken(t, []broken{
		{"unknown field", dev, []edit{{"base/router.yaml", "readinessProbe:", "readinesProbe:"}}, `unknown field "spec.template.spec.containers[0].readinesProbe"`},
		{"field in the wrong case", dev, []edit{{"base/cache.yaml", "containerPort: 7000", "containerport: 7000"}}, "containerport"},
		{"unknown kind", dev, []edit{
			{"overlays/dev/extra.yaml", "", "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: router\n"},
			{"overlays/dev/kustomization.yaml", "  - provider.yaml\n", "  - provider.yaml\n  - extra.yaml\n"},
		}, "no API type known for networking.k8s.io/v1 Ingress"},
		{"Service selecting nothing", dev, []edit{{"base/cache.yaml", "spec:\n  selector:\n    app.kubernetes.io/component: cache", "spec:\n  selector:\n    app.kubernetes.io/component: cash"}}, "Service cache: its selector"},
		{"targetPort no pod declares", dev, []edit{{"base/router.yaml", "targetPort: grpc", "targetPort: grpcs"}}, "targetPort grpcs is not a port of Deployment router"},
		{"missing Secret", dev, []edit{{"base/router.yaml", "name: aruntime-provider", "name: aruntime-providers"}}, "no Secret aruntime-providers"},
		{"missing Secret key", dev, []edit{{"base/worker.yaml", "key: key", "key: token"}}, `has no key "token"`},
		{"missing configuration file", dev, []edit{{"base/cache.yaml", "path: aruntime.yaml", "path: runtime.yaml"}}, "does not project a file aruntime.yaml"},
		{"probe on an undeclared port", dev, []edit{{"base/cache.yaml", "tcpSocket:\n              port: cache", "tcpSocket:\n              port: 7001"}}, "readinessProbe port 7001 is not a port of the container"},
		{"no memory limit", dev, []edit{{"base/cache.yaml", "cpu: \"2\"\n              memory: 10Gi", "cpu: \"2\""}}, "container cache: no memory limit"},
		{"config listens elsewhere", dev, []edit{
			{"overlays/dev/aruntime.yaml", "http_listen: 0.0.0.0:8080", "http_listen: 0.0.0.0:8088"},
			{"overlays/dev/durable.yaml", "http_listen: 0.0.0.0:8080", "http_listen: 0.0.0.0:8088"},
		}, "declares ports [8080 8081], but /etc/aruntime/aruntime.yaml makes it listen on [8081 8088]"},
		{"config dials a pod that does not exist", dev, []edit{
			{"overlays/dev/aruntime.yaml", "address: worker-0.worker:9000", "address: worker-1.worker:9000"},
			{"overlays/dev/durable.yaml", "address: worker-0.worker:9000", "address: worker-1.worker:9000"},
		}, `dials "worker-1.worker:9000"`},
		{"config dials a misspelt headless Service", dev, []edit{
			{"overlays/dev/aruntime.yaml", "address: worker-0.worker:9000", "address: worker-0.workers:9000"},
			{"overlays/dev/durable.yaml", "address: worker-0.worker:9000", "address: worker-0.workers:9000"},
		}, `no Service "workers"`},
		{"config dials no Service", dev, []edit{
			{"overlays/dev/aruntime.yaml", "address: cache:7000", "address: l2:7000"},
			{"overlays/dev/durable.yaml", "address: cache:7000", "address: l2:7000"},
		}, `no Service "l2"`},
		{"worker id not in the config", dev, []edit{{"base/worker.yaml", "name: worker\n  labels", "name: gpu\n  labels"}}, "worker id gpu-0 is not a worker"},
		{"configurations that disagree", dev, []edit{{"overlays/dev/durable.yaml", "max_body_bytes: 1048576", "max_body_bytes: 2097152"}}, "differ beyond"},
		{"provider key not in the env", dev, []edit{{"overlays/dev/provider.yaml", "name: ARUNTIME_PROVIDER_KEY", "name: PROVIDER_KEY"}}, "environment variable ARUNTIME_PROVIDER_KEY is not set"},
		{"grace shorter than the drain", dev, []edit{{"base/router.yaml", "terminationGracePeriodSeconds: 30", "terminationGracePeriodSeconds: 20"}}, "terminationGracePeriodSeconds 20 is shorter"},
		{"embedded JetStream port not declared", dev, []edit{{"overlays/dev/durable-nats.yaml", "containerPort: 4222", "containerPort: 4223"}}, "declares ports [4223 5000], but /etc/aruntime/durable.yaml makes it listen on [4222 5000]"},
	})
}

// TestBrokenProductionFails proves CheckProduction can fail, one promise of the overlay at a time.
func TestBrokenProductionFails(t *testing.T) {
	const prod = "overlays/production"
	bothConfigs := func(old, new string) []edit {
		return []edit{{"overlays/production/aruntime.yaml", old, new}, {"overlays/production/durable.yaml", old, new}}
	}
	runBroken(t, []broken{
		{"two NATS nodes", prod, []edit{{"overlays/production/nats.yaml", "replicas: 3", "replicas: 2"}}, "2 replicas, want 3"},
		{"NATS without anti-affinity", prod, []edit{{"overlays/production/nats.yaml", "- topologyKey: kubernetes.io/hostname", "- topologyKey: topology.kubernetes.io/zone"}}, "no required pod anti-affinity"},
		{"NATS route to a pod that does not exist", prod, []edit{{"overlays/production/nats.conf", "nats-2.nats-cluster", "nats-3.nats-cluster"}}, "cluster routes [nats://nats-0.nats-cluster:6222 nats://nats-1.nats-cluster:6222 nats://nats-3.nats-cluster:6222], want the set's own pods"},
		{"NATS server names alike", prod, []edit{{"overlays/production/nats.conf", "server_name: $POD_NAME", "server_name: nats"}}, "JetStream clustering needs each node named apart"},
		{"NATS unknown setting", prod, []edit{{"overlays/production/nats.conf", "lame_duck_duration", "lame_duck_durration"}}, "lame_duck_durration"},
		{"NATS store on no volume", prod, []edit{{"overlays/production/nats.conf", "store_dir: /data/jetstream", "store_dir: /tmp/jetstream"}}, "is on no persistent volume claim"},
		{"NATS PDB below quorum", prod, []edit{{"overlays/production/disruption.yaml", "name: nats\nspec:\n  maxUnavailable: 1", "name: nats\nspec:\n  maxUnavailable: 2"}}, "PodDisruptionBudget nats lets a drain take the JetStream quorum (2 of 3)"},
		{"router without a PDB", prod, []edit{{"overlays/production/disruption.yaml", "name: router\nspec:\n  maxUnavailable: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/component: router", "name: router\nspec:\n  maxUnavailable: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/component: cache"}}, "Deployment router: 2 replicas but no PodDisruptionBudget"},
		{"router without preStop", prod, []edit{{"base/router.yaml", "          lifecycle:\n            preStop:\n              sleep:\n                seconds: 5\n", ""}}, "no preStop sleep"},
		{"router ready on another path", prod, []edit{{"base/router.yaml", "path: /healthz", "path: /metrics"}}, "readiness is not an HTTP GET of /healthz"},
		{"worker without a GPU", prod, []edit{{"overlays/production/worker.yaml", "          resources:\n            requests:\n              nvidia.com/gpu: \"1\"\n            limits:\n              nvidia.com/gpu: \"1\"\n", "          resources: {}\n"}}, "no nvidia.com/gpu limit"},
		{"worker on the simulated device", prod, bothConfigs("backend: nvml", "backend: sim"), `runs device backend "sim", not "nvml"`},
		{"worker on another GPU index", prod, bothConfigs("index: 0", "index: 1"), "device.index must be 0"},
		{"workers not spread over zones", prod, []edit{{"overlays/production/worker.yaml", "topologyKey: topology.kubernetes.io/zone", "topologyKey: kubernetes.io/hostname"}}, "StatefulSet worker: 3 replicas but no topologySpreadConstraint"},
		{"inline provider key", prod, bothConfigs("key_env: ARUNTIME_PROVIDER_KEY", "key: inline-provider-key"), "key is inline"},
		{"configuration in a ConfigMap", prod, []edit{
			{"overlays/production/kustomization.yaml", "configMapGenerator:\n", "configMapGenerator:\n  - name: aruntime-config\n    files:\n      - aruntime.yaml\n      - durable.yaml\n"},
			{"base/cache.yaml", "secret:\n            secretName: aruntime-config", "configMap:\n            name: aruntime-config"},
		}, "comes from a ConfigMap, not a Secret"},
		{"cache reaches workers", prod, []edit{{"overlays/production/network.yaml", "app.kubernetes.io/component: router", "app.kubernetes.io/component: cache"}}, "its podSelector matches Deployment cache"},
		{"any namespace reaches workers", prod, []edit{{"overlays/production/network.yaml", "        - podSelector:", "        - namespaceSelector: {}\n        - podSelector:"}}, "a peer that is not a podSelector"},
		{"an allow-all policy over every pod", prod, []edit{
			{"overlays/production/allow-all.yaml", "", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: allow-all\nspec:\n  podSelector: {}\n  ingress:\n    - {}\n"},
			{"overlays/production/kustomization.yaml", "  - network.yaml\n", "  - network.yaml\n  - allow-all.yaml\n"},
		}, "NetworkPolicy allow-all lets more than routers reach"},
		{"workers not isolated", prod, []edit{{"overlays/production/network.yaml", "policyTypes: [Ingress]", "policyTypes: [Egress]"}}, "no NetworkPolicy isolates its pods"},
	})
}
