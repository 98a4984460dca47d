"""Policy tests of the deployment: the rendered Kubernetes manifests, the
Dockerfile and the runbook, checked without a cluster.

Every Kustomize build is rendered with `kubectl kustomize` (by `deploy/check`,
which passes the folder in SEN_DEPLOY_RENDERED, or here when run alone:
`python -m pytest deploy/test_deploy.py`). The tests then read the YAML and check
what a production installation needs of it: every container non-root, without
privilege escalation or capabilities, on a read-only root with the RuntimeDefault
seccomp profile; every Deployment with probes, requests and limits and a drain
that fits its grace period; every workload selected by a NetworkPolicy, and the
policies allowing exactly the calls the architecture makes; Secrets referenced,
never written; a database per service and one for the gateway's web sessions,
each URL from a mounted Secret, each with its migration Job running its part's
image and settings; production with two or more replicas and a
PodDisruptionBudget.

`python deploy/test_deploy.py --render DIR` only renders (used by deploy/check).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
RUNBOOK = ROOT / "docs" / "OPERATIONS.md"

SERVICES = ["schools", "pupils", "referrals", "caseloads"]
PARTS = ["gateway", *SERVICES]

# Who calls whom on the TLS port (docs/ARCHITECTURE.md): nothing else may connect.
CALLS = {
    ("gateway", "schools"),
    ("gateway", "pupils"),
    ("gateway", "referrals"),
    ("gateway", "caseloads"),
    ("pupils", "schools"),
    ("referrals", "pupils"),
    ("caseloads", "schools"),
    ("caseloads", "pupils"),
    ("caseloads", "referrals"),
}

# Optional components, enabled the way the runbook says: uncommenting their lines.
COMPONENT_SWITCHES = {
    "components/cert-manager": "overlays/production/release/kustomization.yaml",
    "components/monitoring": "overlays/production/kustomization.yaml",
    "components/demo-certificate": "overlays/demo/kustomization.yaml",
}

# name -> (kustomization folder under deploy/k8s, with the optional components enabled?)
BUILDS = {
    "production": ("overlays/production", False),
    "production-migrations": ("overlays/production/migrations", False),
    "production-gateway-api": ("overlays/production-gateway-api", False),
    "demo": ("overlays/demo", False),
    "production-components": ("overlays/production", True),
    "production-migrations-components": ("overlays/production/migrations", True),
    "demo-certificate": ("overlays/demo", True),
}
PRODUCTION_BUILDS = [b for b in BUILDS if b.startswith("production")]
APP_BUILDS = ["production", "production-components", "production-gateway-api"]
INGRESS_BUILDS = ["production", "production-components"]
MIGRATION_BUILDS = ["production-migrations", "production-migrations-components"]
DEMO_BUILDS = ["demo", "demo-certificate"]
COMPONENT_BUILDS = ["production-components", "production-migrations-components", "demo-certificate"]

# Secrets and ConfigMaps the operator makes (docs/OPERATIONS.md says how).
OPERATOR_CONFIGMAPS = {"sen-identity-public-keys", "sen-postgres-ca", "sen-gateway-backend-ca"}

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "ReplicaSet"}


# --- rendering ------------------------------------------------------------------


def enable_component(kustomization: Path, component: str) -> None:
    """Uncomments `# components:` / `#   - …/<component>` in a kustomization, or
    `  # - …/<component>` under an uncommented `components:`."""
    text = kustomization.read_text()
    pattern = re.compile(r"^# components:\n#(   - \S*" + re.escape(component) + r")\n", re.M)
    new, count = pattern.subn(lambda m: "components:\n" + m.group(1)[1:] + "\n", text)
    if count == 0:
        pattern = re.compile(r"^  # (- \S*" + re.escape(component) + r")\n", re.M)
        new, count = pattern.subn(lambda m: "  " + m.group(1) + "\n", text)
    if count != 1:
        raise RuntimeError(f"{kustomization}: no commented 'components:' entry for {component}")
    kustomization.write_text(new)


def render_all(out: Path) -> dict[str, Path]:
    """Renders every build into `out/<name>.yaml`; returns the files."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        switched = Path(scratch) / "k8s"
        shutil.copytree(K8S, switched)
        for component, kustomization in COMPONENT_SWITCHES.items():
            enable_component(switched / kustomization, component)
        files = {}
        for name, (folder, with_components) in BUILDS.items():
            source = (switched if with_components else K8S) / folder
            result = subprocess.run(["kubectl", "kustomize", str(source)], capture_output=True, text=True)
            if result.returncode != 0:
                raise RuntimeError(f"kubectl kustomize {folder} failed:\n{result.stderr}")
            files[name] = out / f"{name}.yaml"
            files[name].write_text(result.stdout)
        return files


@pytest.fixture(scope="session")
def rendered(tmp_path_factory) -> dict[str, list[dict]]:
    given = os.environ.get("SEN_DEPLOY_RENDERED")
    folder = Path(given) if given else tmp_path_factory.mktemp("rendered")
    if not given:
        render_all(folder)
    builds = {}
    for name in BUILDS:
        path = folder / f"{name}.yaml"
        assert path.is_file(), f"{path} is missing: render with `python deploy/test_deploy.py --render DIR`"
        builds[name] = [o for o in yaml.safe_load_all(path.read_text()) if o]
    return builds


# --- reading objects --------------------------------------------------------------


def of_kind(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


def named(objects: list[dict], kind: str, name: str) -> dict:
    found = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def workloads(objects: list[dict]) -> list[dict]:
    return [o for o in objects if o["kind"] in WORKLOAD_KINDS]


def pod_template(workload: dict) -> dict:
    if workload["kind"] == "Pod":
        return workload
    if workload["kind"] == "CronJob":
        return workload["spec"]["jobTemplate"]["spec"]["template"]
    return workload["spec"]["template"]


def pod_spec(workload: dict) -> dict:
    return pod_template(workload)["spec"]


def pod_labels(workload: dict) -> dict:
    return pod_template(workload).get("metadata", {}).get("labels", {})


def all_containers(spec: dict) -> list[dict]:
    return spec.get("initContainers", []) + spec.get("containers", [])


def ident(o: dict) -> str:
    return f"{o['kind']}/{o['metadata']['name']}"


def environment(objects: list[dict], container: dict) -> dict[str, object]:
    """The container's variables: its ConfigMaps' data, then its own `env`."""
    env: dict[str, object] = {}
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef")
        if ref:
            env.update(named(objects, "ConfigMap", ref["name"]).get("data", {}))
    for item in container.get("env", []):
        env[item["name"]] = item.get("value", item.get("valueFrom"))
    return env


def mounted_from(workload: dict, container: dict, path: str) -> tuple[tuple[str, str], str]:
    """Where the file at `path` in `container` comes from: (("secret" or
    "configMap", its name), the key), following the volume mounts and items,
    and the sources of a projected volume."""
    volumes = {v["name"]: v for v in pod_spec(workload).get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        folder = mount["mountPath"].rstrip("/") + "/"
        if not path.startswith(folder):
            continue
        relative = path[len(folder) :]
        volume = volumes[mount["name"]]
        if "projected" in volume:
            sources = volume["projected"]["sources"]
            for source in sources:
                for kind, projection in source.items():
                    items = {i["path"]: i["key"] for i in projection.get("items", [])}
                    if relative in items:
                        return (kind, projection["name"]), items[relative]
            whole = [(kind, projection) for s in sources for kind, projection in s.items() if not projection.get("items")]
            assert len(whole) == 1, f"{ident(workload)}: which source of volume {mount['name']} holds {path} is unclear"
            kind, projection = whole[0]
            return (kind, projection["name"]), relative
        for kind, name_field in (("secret", "secretName"), ("configMap", "name")):
            if kind in volume:
                source = volume[kind]
                items = {i["path"]: i["key"] for i in source.get("items", [])}
                key = items.get(relative, relative) if items else relative
                assert not items or relative in items, f"{ident(workload)}: {path} is not among the items of volume {mount['name']}"
                return (kind, source[name_field]), key
    raise AssertionError(f"{ident(workload)}: nothing is mounted at {path}")


def part_of(workload: dict) -> str:
    """gateway, schools, …, demo, or <service>-migrate, from the app name."""
    return pod_labels(workload)["app.kubernetes.io/name"].removeprefix("sen-")


def selector_matches(selector: dict | None, labels: dict) -> bool:
    if selector is None:
        return False
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


CPU = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")
MEMORY = re.compile(r"^(\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?$")
MEMORY_UNITS = {None: 1, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def cpu(quantity) -> float:
    match = CPU.match(str(quantity))
    assert match, f"unreadable CPU quantity {quantity!r}"
    return float(match.group(1)) / (1000 if match.group(2) else 1)


def memory(quantity) -> int:
    match = MEMORY.match(str(quantity))
    assert match, f"unreadable memory quantity {quantity!r}"
    return int(match.group(1)) * MEMORY_UNITS[match.group(2)]


# --- NetworkPolicy evaluation -----------------------------------------------------


def policies_selecting(objects: list[dict], labels: dict, direction: str) -> list[dict]:
    return [
        p
        for p in of_kind(objects, "NetworkPolicy")
        if direction in p["spec"].get("policyTypes", ["Ingress"]) and selector_matches(p["spec"]["podSelector"], labels)
    ]


def port_allowed(rule: dict, port: int, protocol: str = "TCP") -> bool:
    ports = rule.get("ports")
    if not ports:
        return True
    return any(p.get("port") == port and p.get("protocol", "TCP") == protocol for p in ports)


def peer_is_pod(peer: dict, labels: dict, namespace: str, own_namespace: str) -> bool:
    """Whether a policy peer matches a pod with `labels` in `namespace`."""
    if "ipBlock" in peer:
        return False
    namespace_selector = peer.get("namespaceSelector")
    if namespace_selector is None:
        if namespace != own_namespace:
            return False
    elif not selector_matches(namespace_selector, {"kubernetes.io/metadata.name": namespace}):
        return False
    pod_selector = peer.get("podSelector")
    return pod_selector is None or selector_matches(pod_selector, labels)


def may_connect(objects: list[dict], source: dict, target: dict, port: int) -> bool:
    """Whether the policies let pods of `source` open TCP `port` on pods of `target`."""
    namespace = source["metadata"].get("namespace", "default")
    source_labels, target_labels = pod_labels(source), pod_labels(target)
    egress = policies_selecting(objects, source_labels, "Egress")
    egress_ok = not egress or any(
        port_allowed(rule, port) and any(peer_is_pod(p, target_labels, namespace, namespace) for p in rule.get("to", []))
        for policy in egress
        for rule in policy["spec"].get("egress", [])
    )
    ingress = policies_selecting(objects, target_labels, "Ingress")
    ingress_ok = not ingress or any(
        port_allowed(rule, port)
        and any(peer_is_pod(p, source_labels, namespace, namespace) for p in rule.get("from", []))
        for policy in ingress
        for rule in policy["spec"].get("ingress", [])
    )
    return egress_ok and ingress_ok


def is_default_deny(policy: dict) -> bool:
    spec = policy["spec"]
    return (
        spec["podSelector"] == {}
        and set(spec.get("policyTypes", [])) == {"Ingress", "Egress"}
        and not spec.get("ingress")
        and not spec.get("egress")
    )


# --- every build --------------------------------------------------------------------


@pytest.mark.parametrize("build", BUILDS)
def test_no_secret_is_written_in_a_manifest(rendered, build):
    objects = rendered[build]
    assert of_kind(objects, "Secret") == [], "Secrets are made by the operator or cert-manager, never rendered"
    for config_map in of_kind(objects, "ConfigMap"):
        for key, value in config_map.get("data", {}).items():
            text = str(value)
            assert "-----BEGIN" not in text, f"{ident(config_map)} {key}: key material in a ConfigMap"
            assert not re.search(r"://[^/\s:@]+:[^/\s@]+@", text), f"{ident(config_map)} {key}: a URL with a password"
            assert not key.endswith("DATABASE_URL"), f"{ident(config_map)}: database URLs belong in a Secret"
    for workload in workloads(objects):
        for container in all_containers(pod_spec(workload)):
            for item in container.get("env", []):
                if re.search(r"DATABASE_URL|PASSWORD|SECRET|TOKEN", item["name"]):
                    assert "secretKeyRef" in item.get("valueFrom", {}), (
                        f"{ident(workload)}: {item['name']} must come from a Secret (secretKeyRef)"
                    )


@pytest.mark.parametrize("build", BUILDS)
def test_every_container_is_locked_down(rendered, build):
    found = workloads(rendered[build])
    assert found
    for workload in found:
        spec = pod_spec(workload)
        pod = spec.get("securityContext", {})
        where = ident(workload)
        assert spec.get("automountServiceAccountToken") is False, f"{where}: no API token is needed"
        for host in ("hostNetwork", "hostPID", "hostIPC"):
            assert not spec.get(host), f"{where}: {host}"
        assert not any("hostPath" in v for v in spec.get("volumes", [])), f"{where}: hostPath volume"
        assert spec.get("serviceAccountName"), f"{where}: its own ServiceAccount"
        named(rendered[build], "ServiceAccount", spec["serviceAccountName"])
        for container in all_containers(spec):
            own = container.get("securityContext", {})
            at = f"{where} container {container['name']}"

            def effective(key):
                return own.get(key, pod.get(key))

            assert effective("runAsNonRoot") is True, f"{at}: runAsNonRoot"
            assert isinstance(effective("runAsUser"), int) and effective("runAsUser") >= 10000, f"{at}: runAsUser"
            assert effective("runAsGroup") not in (None, 0), f"{at}: runAsGroup"
            assert own.get("allowPrivilegeEscalation") is False, f"{at}: allowPrivilegeEscalation"
            assert not own.get("privileged"), f"{at}: privileged"
            assert own.get("readOnlyRootFilesystem") is True, f"{at}: readOnlyRootFilesystem"
            capabilities = own.get("capabilities", {})
            assert "ALL" in capabilities.get("drop", []), f"{at}: drop ALL capabilities"
            assert not capabilities.get("add"), f"{at}: adds capabilities"
            seccomp = own.get("seccompProfile", pod.get("seccompProfile", {}))
            assert seccomp.get("type") == "RuntimeDefault", f"{at}: seccomp RuntimeDefault"


@pytest.mark.parametrize("build", BUILDS)
def test_every_container_has_requests_and_limits(rendered, build):
    for workload in workloads(rendered[build]):
        for container in all_containers(pod_spec(workload)):
            at = f"{ident(workload)} container {container['name']}"
            resources = container.get("resources", {})
            requests, limits = resources.get("requests", {}), resources.get("limits", {})
            for resource in ("cpu", "memory"):
                assert resource in requests, f"{at}: requests.{resource}"
                assert resource in limits, f"{at}: limits.{resource}"
            assert cpu(requests["cpu"]) <= cpu(limits["cpu"]), f"{at}: CPU request above limit"
            assert memory(requests["memory"]) <= memory(limits["memory"]), f"{at}: memory request above limit"


@pytest.mark.parametrize("build", BUILDS)
def test_every_deployment_has_probes_on_its_admin_port(rendered, build):
    objects = rendered[build]
    for deployment in of_kind(objects, "Deployment"):
        for container in pod_spec(deployment)["containers"]:
            at = f"{ident(deployment)} container {container['name']}"
            env = environment(objects, container)
            ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
            assert str(env.get("SEN_ADMIN_LISTEN", "")).endswith(f":{ports.get('admin')}"), (
                f"{at}: the probes' port must be SEN_ADMIN_LISTEN's"
            )
            for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
                assert kind in container, f"{at}: {kind}"
            if part_of(deployment) in SERVICES:
                # Services: native gRPC probes against grpc.health.v1 (the admin port is plaintext).
                for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
                    assert container[kind].get("grpc", {}).get("port") == ports["admin"], f"{at}: {kind} is gRPC on admin"
            else:
                # The gateway and the embedded demo: HTTP /healthz and /readyz on the admin port.
                assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", f"{at}: liveness /healthz"
                assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", f"{at}: readiness /readyz"
                for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
                    assert container[kind]["httpGet"]["port"] in ("admin", ports["admin"]), f"{at}: {kind} on admin"


@pytest.mark.parametrize("build", BUILDS)
def test_the_grace_period_covers_the_drain(rendered, build):
    objects = rendered[build]
    for deployment in of_kind(objects, "Deployment"):
        spec = pod_spec(deployment)
        for container in spec["containers"]:
            at = f"{ident(deployment)} container {container['name']}"
            grace = int(environment(objects, container).get("SEN_SHUTDOWN_GRACE_SECONDS", 20))
            pause = container.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
            assert pause > 0, f"{at}: a preStop pause lets the endpoint go before SIGTERM"
            assert spec.get("terminationGracePeriodSeconds", 30) > pause + grace, (
                f"{at}: terminationGracePeriodSeconds must exceed preStop ({pause}) + SEN_SHUTDOWN_GRACE_SECONDS ({grace})"
            )


@pytest.mark.parametrize("build", BUILDS)
def test_every_workload_is_selected_by_a_network_policy(rendered, build):
    objects = rendered[build]
    namespaces = {w["metadata"].get("namespace") for w in workloads(objects)}
    for namespace in namespaces:
        denies = [p for p in of_kind(objects, "NetworkPolicy") if p["metadata"].get("namespace") == namespace]
        assert any(is_default_deny(p) for p in denies), f"namespace {namespace}: a default-deny NetworkPolicy"
    for workload in workloads(objects):
        labels = pod_labels(workload)
        own = [
            p
            for p in of_kind(objects, "NetworkPolicy")
            if not is_default_deny(p) and p["spec"]["podSelector"] != {} and selector_matches(p["spec"]["podSelector"], labels)
        ]
        assert own, f"{ident(workload)}: no NetworkPolicy of its own selects its pods"


@pytest.mark.parametrize("build", BUILDS)
def test_no_policy_opens_everything(rendered, build):
    for policy in of_kind(rendered[build], "NetworkPolicy"):
        for direction, peers in (("ingress", "from"), ("egress", "to")):
            for rule in policy["spec"].get(direction, []):
                assert rule.get(peers), f"{ident(policy)}: a {direction} rule without '{peers}' allows every peer"
                assert rule.get("ports"), f"{ident(policy)}: a {direction} rule without ports allows every port"
                for peer in rule[peers]:
                    if peer.get("ipBlock", {}).get("cidr") == "0.0.0.0/0":
                        assert direction == "egress" and peer["ipBlock"].get("except"), (
                            f"{ident(policy)}: 0.0.0.0/0 only as an egress range with the private ranges excepted"
                        )


@pytest.mark.parametrize("build", BUILDS)
def test_one_image_pinned_by_tag_and_digest(rendered, build):
    images = set()
    for workload in workloads(rendered[build]):
        for container in all_containers(pod_spec(workload)):
            images.add(container["image"])
            assert container.get("imagePullPolicy"), f"{ident(workload)}: imagePullPolicy"
    assert len(images) == 1, f"every pod runs the one sen image, found {images}"
    image = images.pop()
    pinned = re.fullmatch(r"(?P<name>[^@]+):(?P<tag>[\w.-]+)@sha256:[0-9a-f]{64}", image)
    assert pinned and pinned["tag"] != "latest", f"{image}: a release tag and a digest (kustomize `images:`)"


@pytest.mark.parametrize("build", BUILDS)
def test_every_referenced_configmap_exists_or_is_the_operators(rendered, build):
    objects = rendered[build]
    made = {c["metadata"]["name"] for c in of_kind(objects, "ConfigMap")}
    for workload in workloads(objects):
        spec = pod_spec(workload)
        references = [s["configMapRef"]["name"] for c in all_containers(spec) for s in c.get("envFrom", []) if "configMapRef" in s]
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                references.append(volume["configMap"]["name"])
            for source in volume.get("projected", {}).get("sources", []):
                if "configMap" in source:
                    references.append(source["configMap"]["name"])
        for name in references:
            assert name in made or name in OPERATOR_CONFIGMAPS, f"{ident(workload)}: ConfigMap {name} is neither rendered nor documented"


@pytest.mark.parametrize("build", BUILDS)
def test_services_reach_their_pods(rendered, build):
    objects = rendered[build]
    for service in of_kind(objects, "Service"):
        targets = [w for w in of_kind(objects, "Deployment") if selector_matches({"matchLabels": service["spec"]["selector"]}, pod_labels(w))]
        assert len(targets) == 1, f"{ident(service)}: selects {len(targets)} Deployments"
        ports = {p["name"] for c in pod_spec(targets[0])["containers"] for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in ports, f"{ident(service)}: targetPort {port['targetPort']} is not a named container port"


# --- production ----------------------------------------------------------------------


@pytest.mark.parametrize("build", APP_BUILDS)
def test_production_runs_each_part_in_its_own_deployment(rendered, build):
    objects = rendered[build]
    deployments = {d["metadata"]["name"]: d for d in of_kind(objects, "Deployment")}
    assert set(deployments) == {f"sen-{p}" for p in PARTS}
    for part in PARTS:
        container = pod_spec(deployments[f"sen-{part}"])["containers"][0]
        assert container["args"] == ["serve", part]
        env = environment(objects, container)
        assert env["SEN_MODE"] == "production"
        assert env["SEN_LOG_FORMAT"] == "json"
        assert env["SEN_TLS_CERT_FILE"] and env["SEN_TLS_KEY_FILE"]
        for variable, value in env.items():
            if variable.endswith("_URL") and str(value).startswith("https://sen-"):
                host, port = re.fullmatch(r"https://([a-z-]+):(\d+)", value).groups()
                service = named(objects, "Service", host)
                assert int(port) in [p["port"] for p in service["spec"]["ports"]], f"{part}: {variable} port"
        if part in SERVICES:
            assert env["SEN_TLS_CLIENT_CA_FILE"], f"{part}: mutual TLS"
            assert env["SEN_IDENTITY_PUBLIC_KEY_FILES"], f"{part}: trusted identity keys"
            assert "SEN_DATABASE_URL" not in env, f"{part}: the URL and its password come from a file, not the environment"
            secret, key = mounted_from(deployments[f"sen-{part}"], container, env["SEN_DATABASE_URL_FILE"])
            assert (secret, key) == (("secret", f"sen-{part}-database"), "url"), f"{part}: SEN_DATABASE_URL_FILE"
        else:
            # The gateway's only data is its web sessions' store, whose URL and
            # password come from a mounted file, never an environment variable.
            assert "SEN_DATABASE_URL" not in env and "SEN_DATABASE_URL_FILE" not in env, "the gateway has no service's database"
            assert "SEN_GATEWAY_DATABASE_URL" not in env, "the session store's URL comes from a file, not the environment"
            secret, key = mounted_from(deployments["sen-gateway"], container, env["SEN_GATEWAY_DATABASE_URL_FILE"])
            assert (secret, key) == (("secret", "sen-gateway-database"), "url"), "SEN_GATEWAY_DATABASE_URL_FILE"
            assert env["SEN_OIDC_ISSUER"].startswith("https://"), "the gateway trusts the council's provider"


@pytest.mark.parametrize("build", APP_BUILDS)
def test_production_keeps_two_replicas_and_a_budget(rendered, build):
    objects = rendered[build]
    for deployment in of_kind(objects, "Deployment"):
        name = deployment["metadata"]["name"]
        assert "replicas" not in deployment["spec"], f"{name}: the HorizontalPodAutoscaler owns the replica count"
        rolling = deployment["spec"]["strategy"]["rollingUpdate"]
        assert rolling["maxUnavailable"] == 0, f"{name}: a rollout never drops below the current replicas"
        autoscalers = [h for h in of_kind(objects, "HorizontalPodAutoscaler") if h["spec"]["scaleTargetRef"]["name"] == name]
        assert len(autoscalers) == 1, f"{name}: one HorizontalPodAutoscaler"
        autoscaler = autoscalers[0]["spec"]
        assert autoscaler["scaleTargetRef"]["kind"] == "Deployment"
        assert autoscaler["minReplicas"] >= 2, f"{name}: at least two replicas"
        assert autoscaler["maxReplicas"] >= autoscaler["minReplicas"]
        budgets = [
            b for b in of_kind(objects, "PodDisruptionBudget") if selector_matches(b["spec"]["selector"], pod_labels(deployment))
        ]
        assert len(budgets) == 1, f"{name}: one PodDisruptionBudget"
        budget = budgets[0]["spec"]
        assert budget.get("minAvailable", 0) >= 1, f"{name}: PodDisruptionBudget minAvailable >= 1"
        assert budget["minAvailable"] < autoscaler["minReplicas"], f"{name}: the budget must still allow a drain"


@pytest.mark.parametrize("build", APP_BUILDS)
def test_the_network_allows_exactly_the_architectures_calls(rendered, build):
    objects = rendered[build]
    by_part = {part_of(d): d for d in of_kind(objects, "Deployment")}
    allowed = {
        (source, target)
        for source in PARTS
        for target in PARTS
        if source != target and may_connect(objects, by_part[source], by_part[target], 8443)
    }
    assert allowed == CALLS, f"unexpected: {sorted(allowed - CALLS)}, missing: {sorted(CALLS - allowed)}"
    for source in PARTS:
        for target in PARTS:
            assert not may_connect(objects, by_part[source], by_part[target], 9090) or source == target, (
                f"{source} may reach {target}'s admin port"
            )


@pytest.mark.parametrize("build", APP_BUILDS)
def test_only_the_gateway_is_reachable_from_outside_the_namespace(rendered, build):
    objects = rendered[build]
    prometheus: set[str] = set()
    deployments = sorted(of_kind(objects, "Deployment"), key=lambda d: part_of(d) != "gateway")
    for deployment in deployments:
        outside = set()
        for policy in policies_selecting(objects, pod_labels(deployment), "Ingress"):
            for rule in policy["spec"].get("ingress", []):
                for peer in rule.get("from", []):
                    assert "ipBlock" not in peer, f"{ident(policy)}: no address range may call in"
                    if "namespaceSelector" in peer:
                        namespace = peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                        outside |= {(namespace, p["port"]) for p in rule["ports"]}
        if part_of(deployment) == "gateway":
            # One namespace (the ingress controller's) on the TLS port, one (Prometheus's) on the admin port.
            assert sorted(port for _, port in outside) == [8443, 9090], f"{ident(deployment)}: reachable from {outside}"
            prometheus = {namespace for namespace, port in outside if port == 9090}
        elif of_kind(objects, "ServiceMonitor"):
            # With the monitoring component: Prometheus's namespace, on the admin port only.
            assert outside == {(namespace, 9090) for namespace in prometheus}, f"{ident(deployment)}: reachable from {outside}"
        else:
            assert outside == set(), f"{ident(deployment)}: reachable from outside the namespace: {outside}"


@pytest.mark.parametrize("build", PRODUCTION_BUILDS)
def test_egress_goes_only_where_the_part_needs(rendered, build):
    objects = rendered[build]
    for workload in workloads(objects):
        part = part_of(workload)
        labels = pod_labels(workload)
        destinations = set()
        for policy in policies_selecting(objects, labels, "Egress"):
            for rule in policy["spec"].get("egress", []):
                for peer in rule["to"]:
                    for port in rule["ports"]:
                        if "ipBlock" in peer:
                            destinations.add(("address", port["port"]))
                        elif "namespaceSelector" in peer:
                            destinations.add((peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"], port["port"]))
                        else:
                            destinations.add((peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"], port["port"]))
        collectors = {d for d in destinations if d[1] == 4317}
        assert len(collectors) == 1 and "address" not in next(iter(collectors)), f"{ident(workload)}: one OTLP collector namespace"
        expected = {("kube-system", 53), *collectors}
        if part in SERVICES or part == "gateway" or part.endswith("-migrate"):
            expected.add(("address", 5432))
        if part == "gateway":
            expected.add(("address", 443))
        expected |= {(f"sen-{target}", 8443) for source, target in CALLS if source == part}
        assert destinations == expected, f"{ident(workload)}: egress to {sorted(destinations)}"


@pytest.mark.parametrize("build", APP_BUILDS)
def test_the_namespace_enforces_the_restricted_pod_security_standard(rendered, build):
    namespaces = of_kind(rendered[build], "Namespace")
    assert [n["metadata"]["name"] for n in namespaces] == ["sen"]
    assert namespaces[0]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for o in rendered[build]:
        if o["kind"] != "Namespace":
            assert o["metadata"].get("namespace") == "sen", f"{ident(o)} is outside the namespace"


@pytest.mark.parametrize("build", INGRESS_BUILDS)
def test_the_ingress_sends_only_to_the_gateway_over_tls(rendered, build):
    objects = rendered[build]
    ingresses = of_kind(objects, "Ingress")
    assert {i["metadata"]["name"] for i in ingresses} == {"sen-gateway", "sen-gateway-grpc"}
    host = None
    for ingress in ingresses:
        spec = ingress["spec"]
        assert spec.get("ingressClassName"), f"{ident(ingress)}: an ingress class"
        tls_hosts = {h for t in spec["tls"] for h in t["hosts"]}
        assert all(t.get("secretName") for t in spec["tls"]), f"{ident(ingress)}: TLS certificate Secret"
        for rule in spec["rules"]:
            assert rule["host"] in tls_hosts, f"{ident(ingress)}: {rule['host']} without TLS"
            host = host or rule["host"]
            assert rule["host"] == host, "both Ingresses serve the one public host"
            for path in rule["http"]["paths"]:
                assert path["backend"]["service"] == {"name": "sen-gateway", "port": {"name": "https"}}
    # The gRPC Ingress carries every gRPC service the gateway serves.
    grpc_paths = {p["path"] for r in named(objects, "Ingress", "sen-gateway-grpc")["spec"]["rules"] for p in r["http"]["paths"]}
    services = set()
    for proto in (ROOT / "proto").rglob("*.proto"):
        text = proto.read_text()
        package = re.search(r"^package\s+([\w.]+);", text, re.M).group(1)
        services |= {f"/{package}.{s}" for s in re.findall(r"^service\s+(\w+)", text, re.M)}
    assert services, "no gRPC services found in proto/"
    assert services <= grpc_paths, f"gRPC services missing from sen-gateway-grpc: {sorted(services - grpc_paths)}"


# --- migrations --------------------------------------------------------------------


@pytest.mark.parametrize("build", MIGRATION_BUILDS)
def test_one_migration_job_per_database_with_its_parts_image_and_settings(rendered, build):
    """A Job per service, and one for the gateway's session store, each running
    its part's image with its part's settings and files."""
    jobs = {j["metadata"]["name"]: j for j in of_kind(rendered[build], "Job")}
    assert set(jobs) == {f"sen-{p}-migrate" for p in PARTS}
    app = rendered[build.replace("-migrations", "")]
    for part in PARTS:
        job, deployment = jobs[f"sen-{part}-migrate"], named(app, "Deployment", f"sen-{part}")
        job_pod, app_pod = pod_spec(job), pod_spec(deployment)
        container, served = job_pod["containers"][0], app_pod["containers"][0]
        assert container["args"] == ["migrate", part]
        assert job_pod["restartPolicy"] == "Never"
        assert job["spec"]["backoffLimit"] <= 5 and job["spec"]["activeDeadlineSeconds"] > 0
        assert container["image"] == served["image"], f"{part}: the Job runs the Deployment's image"
        # Same ConfigMap name means same content: the name carries the content's hash.
        assert container["envFrom"] == served["envFrom"], f"{part}: the Job reads the part's settings"
        assert container.get("env") == served.get("env"), f"{part}: the same variables"
        if part in SERVICES:
            assert job_pod["volumes"] == [v for v in app_pod["volumes"]], f"{part}: the same mounted files"
            assert container["volumeMounts"] == served["volumeMounts"]
        else:
            # The gateway's files but the web sign-in's client secret, which migrating does not read.
            served_volumes = {v["name"]: v for v in app_pod["volumes"]}
            for volume in job_pod["volumes"]:
                assert served_volumes.get(volume["name"]) == volume, f"{part}: volume {volume['name']} as the Deployment's"
            assert set(served_volumes) - {v["name"] for v in job_pod["volumes"]} <= {"oidc-client"}, f"{part}: a file missing"
            assert container["volumeMounts"] == [m for m in served["volumeMounts"] if m["name"] != "oidc-client"]
        assert pod_labels(job)["egress.sen/postgresql"] == "true"


def test_the_migration_build_shares_the_applications_configmaps(rendered):
    app = {c["metadata"]["name"]: c["data"] for c in of_kind(rendered["production"], "ConfigMap")}
    migrations = {c["metadata"]["name"]: c["data"] for c in of_kind(rendered["production-migrations"], "ConfigMap")}
    for name, data in migrations.items():
        assert app.get(name) == data, f"{name}: the two builds must make identical ConfigMaps"
    shared = {"sen-allow-postgresql", "sen-allow-dns", "sen-allow-otlp", "sen-default-deny"}
    for name in shared:
        assert named(rendered["production"], "NetworkPolicy", name) == named(rendered["production-migrations"], "NetworkPolicy", name)


# --- demo ---------------------------------------------------------------------------


@pytest.mark.parametrize("build", DEMO_BUILDS)
def test_the_demo_is_one_embedded_pod_on_a_volume(rendered, build):
    objects = rendered[build]
    (deployment,) = of_kind(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"]["type"] == "Recreate", "SQLite on a ReadWriteOnce volume: never two pods"
    spec = pod_spec(deployment)
    (container,) = spec["containers"]
    assert not container.get("args") and not container.get("command"), "`sen` without arguments: the embedded platform"
    env = environment(objects, container)
    assert env["SEN_MODE"] == "embedded"
    assert not env["SEN_LISTEN"].startswith("127."), "reachable from the Service"
    assert env["SEN_TLS_CERT_FILE"] and env["SEN_TLS_KEY_FILE"], "embedded mode needs TLS off loopback"
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    # The data lives in a folder of its own on the volume: the volume's root is
    # group-writable under fsGroup, and the platform refuses a folder others can open.
    data_mount = os.path.dirname(env["SEN_DATA_DIR"].rstrip("/"))
    assert data_mount in mounts and env["SEN_DATA_DIR"] != data_mount, "SEN_DATA_DIR is a folder on the data volume"
    data = volumes[mounts[data_mount]]
    claim = named(objects, "PersistentVolumeClaim", data["persistentVolumeClaim"]["claimName"])
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    tls_dir = os.path.dirname(env["SEN_TLS_CERT_FILE"])
    assert volumes[mounts[tls_dir]]["secret"]["secretName"] == "sen-demo-tls"
    assert [n["metadata"]["name"] for n in of_kind(objects, "Namespace")] == ["sen-demo"]


# --- cert-manager --------------------------------------------------------------------


def local_schema(obj: dict) -> dict | None:
    group_version = obj["apiVersion"].replace("/", "_")
    path = K8S / "schemas" / f"{group_version}_{obj['kind'].lower()}.json"
    return json.loads(path.read_text()) if path.is_file() else None


@pytest.mark.parametrize("build", BUILDS)
def test_every_object_has_a_schema(rendered, build):
    import kubernetes_validate

    versions = os.environ.get("SEN_K8S_VERSIONS", "1.34.0 1.37.0").split()
    for obj in rendered[build]:
        if local_schema(obj) is not None:
            continue
        for version in versions:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.SchemaNotFoundError:
                pytest.fail(f"{ident(obj)} ({obj['apiVersion']}): no schema, add one to deploy/k8s/schemas")


@pytest.mark.parametrize("build", BUILDS)
def test_objects_of_other_apis_match_their_schemas(rendered, build):
    """cert-manager, Prometheus Operator and Gateway API objects, against deploy/k8s/schemas."""
    import jsonschema

    found = [o for o in rendered[build] if local_schema(o) is not None]
    if build in COMPONENT_BUILDS:
        assert any(o["apiVersion"].startswith("cert-manager.io/") for o in found), "the component adds cert-manager objects"
    for obj in found:
        schema = local_schema(obj)
        assert schema is not None, f"{ident(obj)}: no schema in deploy/k8s/schemas"
        errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(obj), key=str)
        assert not errors, f"{ident(obj)}: " + "; ".join(f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors)


@pytest.mark.parametrize("build", COMPONENT_BUILDS)
def test_cert_manager_makes_every_tls_secret_the_pods_mount(rendered, build):
    objects = rendered[build]
    certificates = {c["spec"]["secretName"]: c for c in of_kind(objects, "Certificate")}
    issuers = {i["metadata"]["name"] for i in of_kind(objects, "Issuer")}
    for certificate in certificates.values():
        assert certificate["spec"]["issuerRef"]["name"] in issuers, f"{ident(certificate)}: its Issuer is in the build"
    namespaces = {w["metadata"]["namespace"] for w in workloads(objects)}
    for obj in objects:
        if obj["apiVersion"].startswith("cert-manager.io/"):
            assert obj["metadata"].get("namespace") in namespaces, f"{ident(obj)}: in the pods' namespace"
    for workload in workloads(objects):
        for volume in pod_spec(workload).get("volumes", []):
            name = volume.get("secret", {}).get("secretName", "")
            if not name.endswith("-tls"):
                continue
            assert name in certificates, f"{ident(workload)}: no Certificate makes {name}"
            spec = certificates[name]["spec"]
            part = part_of(workload).removesuffix("-migrate")
            assert f"sen-{part}" in spec["dnsNames"], f"{name}: names the Service sen-{part}"
            needed = {"server auth"} if part == "demo" else {"server auth", "client auth"}
            assert needed <= set(spec["usages"]), f"{name}: usages {needed}"


def service_hosts(objects: list[dict]) -> dict[str, set[str]]:
    """Every host a part calls (the SEN_<PART>_URL settings) -> the TLS Secrets of the
    pods its Service selects, i.e. the certificates that must carry that name."""
    hosts: dict[str, set[str]] = {}
    for workload in workloads(objects):
        for container in all_containers(pod_spec(workload)):
            for variable, value in environment(objects, container).items():
                called = re.fullmatch(r"SEN_([A-Z]+)_URL", variable)
                if called and called.group(1).lower() in PARTS and isinstance(value, str) and "://" in value:
                    host = re.match(r"\w+://([^:/]+)", value).group(1)
                    hosts.setdefault(host, set())
    for host in hosts:
        service = named(objects, "Service", host)
        selected = [w for w in workloads(objects) if w["kind"] == "Deployment" and selector_matches({"matchLabels": service["spec"]["selector"]}, pod_labels(w))]
        assert selected, f"Service {host} selects no Deployment"
        for workload in selected:
            container = pod_spec(workload)["containers"][0]
            (kind, secret), _ = mounted_from(workload, container, environment(objects, container)["SEN_TLS_CERT_FILE"])
            hosts[host].add(secret)
    return hosts


def option_b_certificates(runbook: str, folder: Path) -> dict[str, set[str]]:
    """Runs the runbook's step 5 "Option B" openssl commands in `folder` (kubectl
    replaced by a recorder) and returns each Secret's certificate DNS names, after
    checking each certificate against the CA for both TLS purposes."""
    section = runbook[runbook.index("**Option B: your own CA**") :]
    script = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    shim = folder / "bin"
    shim.mkdir()
    (shim / "kubectl").write_text('#!/bin/sh\nprintf \'%s\\n\' "$*" >> "$KUBECTL_LOG"\n')
    (shim / "kubectl").chmod(0o755)
    env = {**os.environ, "PATH": f"{shim}:{os.environ['PATH']}", "KUBECTL_LOG": str(folder / "kubectl.log")}
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=folder, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"the Option B commands fail:\n{result.stderr}"
    names = {}
    for line in (folder / "kubectl.log").read_text().splitlines():
        secret = re.search(r"create secret generic (\S+)", line).group(1)
        certificate = folder / re.search(r"tls\.crt=(\S+)", line).group(1)
        for purpose in ("sslserver", "sslclient"):
            verified = subprocess.run(["openssl", "verify", "-purpose", purpose, "-CAfile", str(folder / "ca.crt"), str(certificate)], capture_output=True, text=True)
            assert verified.returncode == 0, f"{secret}: not valid for {purpose}: {verified.stdout}{verified.stderr}"
        text = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", str(certificate)], capture_output=True, text=True, check=True).stdout
        names[secret] = set(re.findall(r"DNS:([^,\s]+)", text))
    return names


@pytest.mark.skipif(not shutil.which("openssl"), reason="openssl runs the runbook's Option B commands")
def test_every_name_a_part_calls_is_in_its_certificate_both_ways_of_making_them(rendered, tmp_path):
    """Callers reach the services by the names in their SEN_*_URL settings (the
    headless Services) and check them against the served certificate: each name
    must be in the certificate cert-manager makes (Option A) and in the one the
    runbook's openssl commands make (Option B)."""
    hosts = {}
    for build in APP_BUILDS:
        for host, secrets in service_hosts(rendered[build]).items():
            hosts.setdefault(host, set()).update(secrets)
    assert {f"sen-{s}-headless" for s in SERVICES} <= set(hosts), f"the parts call the headless Services: {sorted(hosts)}"
    managed = {c["spec"]["secretName"]: set(c["spec"].get("dnsNames", [])) for c in of_kind(rendered["production-components"], "Certificate")}
    made = option_b_certificates(RUNBOOK.read_text(), tmp_path)
    assert set(made) == {f"sen-{p}-tls" for p in PARTS}, f"Option B makes one Secret per part: {sorted(made)}"
    missing = []
    for host, secrets in sorted(hosts.items()):
        for secret in sorted(secrets):
            for option, certificates in (("cert-manager (Option A)", managed), ("the runbook's openssl (Option B)", made)):
                names = certificates.get(secret, set())
                if not {host, f"{host}.sen.svc.cluster.local"} <= names:
                    missing.append(f"{host} (and .sen.svc.cluster.local) not in {secret} made by {option}")
    assert not missing, "; ".join(missing)


# --- web sign-in, database TLS ----------------------------------------------------


def public_host(objects: list[dict]) -> str:
    """The one host name the public entrance (Ingresses or Gateway listeners) serves."""
    hosts = {r["host"] for i in of_kind(objects, "Ingress") for r in i["spec"]["rules"]}
    hosts |= {l["hostname"] for g in of_kind(objects, "Gateway") for l in g["spec"]["listeners"]}
    assert len(hosts) == 1, f"one public host name, found {sorted(hosts)}"
    return hosts.pop()


@pytest.mark.parametrize("build", APP_BUILDS)
def test_the_production_gateway_serves_the_web_sign_in(rendered, build):
    """Without SEN_OIDC_CLIENT_ID and SEN_PUBLIC_URL the gateway serves no web pages in
    production (404 at /): both are set, the public URL is the entrance's host, and
    the client secret is a file from the Secret sen-oidc-client."""
    objects = rendered[build]
    gateway = named(objects, "Deployment", "sen-gateway")
    container = pod_spec(gateway)["containers"][0]
    env = environment(objects, container)
    assert env.get("SEN_OIDC_CLIENT_ID"), "SEN_OIDC_CLIENT_ID: the web sign-in's client id"
    assert env.get("SEN_PUBLIC_URL") == f"https://{public_host(objects)}", (
        f"SEN_PUBLIC_URL {env.get('SEN_PUBLIC_URL')!r} must be https:// and the public host (the redirect URI is registered at the provider)"
    )
    secret_file = env.get("SEN_OIDC_CLIENT_SECRET_FILE")
    assert secret_file, "SEN_OIDC_CLIENT_SECRET_FILE: the confidential client's secret"
    source, key = mounted_from(gateway, container, secret_file)
    assert source == ("secret", "sen-oidc-client") and key == "client-secret", f"{secret_file} comes from {source} {key}"


@pytest.mark.parametrize("build", APP_BUILDS)
def test_the_production_gateway_keeps_its_web_sessions_in_a_database_of_its_own(rendered, build):
    """With web sign-in the production gateway does not start without its session
    store: SEN_GATEWAY_DATABASE_URL_FILE is the `url` of the Secret
    sen-gateway-database, mounted as a file, with the server's CA bundle beside
    it, and the network lets the gateway reach PostgreSQL as it lets the
    services. The earlier key of a rotation (docs/OPERATIONS.md, section 11) is an
    optional item of the identity Secret, mounted only while the Secret holds it."""
    objects = rendered[build]
    gateway = named(objects, "Deployment", "sen-gateway")
    container = pod_spec(gateway)["containers"][0]
    env = environment(objects, container)
    assert env.get("SEN_OIDC_CLIENT_ID"), "web sign-in, which needs the session store"
    assert "SEN_GATEWAY_DATABASE_URL" not in env, "the URL and its password come from a file, not the environment"
    url_file = env.get("SEN_GATEWAY_DATABASE_URL_FILE")
    assert url_file, "SEN_GATEWAY_DATABASE_URL_FILE: required in production with SEN_OIDC_CLIENT_ID"
    assert mounted_from(gateway, container, url_file) == (("secret", "sen-gateway-database"), "url")
    assert mounted_from(gateway, container, "/etc/sen/postgres/ca.pem") == (("configMap", "sen-postgres-ca"), "ca.pem")

    def database_egress(workload: dict) -> list[tuple[str, str]]:
        return sorted(
            (policy["metadata"]["name"], json.dumps(rule, sort_keys=True))
            for policy in policies_selecting(objects, pod_labels(workload), "Egress")
            for rule in policy["spec"].get("egress", [])
            if rule.get("ports") and port_allowed(rule, 5432) and all("ipBlock" in peer for peer in rule["to"])
        )

    assert pod_labels(gateway).get("egress.sen/postgresql") == "true", "the label sen-allow-postgresql selects"
    reaches = database_egress(gateway)
    assert reaches and reaches == database_egress(named(objects, "Deployment", "sen-pupils")), (
        f"the gateway reaches PostgreSQL as the services do: {reaches}"
    )

    signing_key = env["SEN_GATEWAY_SIGNING_KEY_FILE"]
    assert mounted_from(gateway, container, signing_key) == (("secret", "sen-gateway-identity-key"), "gateway-identity.key.pem")
    previous = f"{os.path.dirname(signing_key)}/gateway-other.key.pem"
    assert mounted_from(gateway, container, previous) == (("secret", "sen-gateway-identity-key"), "gateway-other.key.pem")
    optional = {
        item["path"]: bool(source["secret"].get("optional"))
        for volume in pod_spec(gateway)["volumes"]
        for source in volume.get("projected", {}).get("sources", [])
        if "secret" in source
        for item in source["secret"].get("items", [])
    }
    assert optional == {"gateway-identity.key.pem": False, "gateway-other.key.pem": True}, (
        "the signing key is required, the earlier key optional"
    )
    assert f"SEN_GATEWAY_PREVIOUS_KEY_FILES={previous}" in RUNBOOK.read_text(), "the rotation steps name the mounted file"


@pytest.mark.parametrize("build", [*APP_BUILDS, *MIGRATION_BUILDS])
def test_the_services_check_the_database_servers_certificate(rendered, build):
    """The database URLs say sslmode=verify-full&sslrootcert=/etc/sen/postgres/ca.pem
    (docs/OPERATIONS.md); every pod that connects has that bundle mounted."""
    objects = rendered[build]
    for workload in workloads(objects):
        if pod_labels(workload).get("egress.sen/postgresql") != "true":
            continue
        container = pod_spec(workload)["containers"][0]
        assert mounted_from(workload, container, "/etc/sen/postgres/ca.pem") == (("configMap", "sen-postgres-ca"), "ca.pem")
    runbook = RUNBOOK.read_text()
    assert "sslmode=verify-full&sslrootcert=/etc/sen/postgres/ca.pem" in runbook
    script = (ROOT / "deploy" / "postgres" / "create-databases.sh").read_text()
    assert "sslmode=verify-full&sslrootcert=/etc/sen/postgres/ca.pem" in script, "the script writes the same URLs"


# --- monitoring ------------------------------------------------------------------------


def registered_metrics() -> set[str]:
    """Every metric name the code registers, with the suffixes Prometheus adds."""
    names = set()
    for folder in ("services", "gateway", "web", "cli"):
        for source in (ROOT / folder).rglob("*.rs"):
            names |= set(re.findall(r"register\(\s*\"(sen_[a-z0-9_]+)\"", source.read_text()))
    assert {"sen_gateway_requests", "sen_caseloads_reconcile_passes"} <= names, f"registrations not found: {names}"
    exposed = set(names)
    for name in names:
        exposed |= {f"{name}{suffix}" for suffix in ("_total", "_bucket", "_sum", "_count", "_created")}
    return exposed


def metrics_named(text: str) -> set[str]:
    return set(re.findall(r"\b(sen_[a-z0-9_]+)", text)) - {"sen_tenant", "sen_school"}


def test_the_monitoring_component_scrapes_every_part_and_alerts_on_the_platforms_slos(rendered):
    objects = rendered["production-components"]
    monitors = {m["metadata"]["name"]: m["spec"] for m in of_kind(objects, "ServiceMonitor")}
    assert set(monitors) == {f"sen-{p}" for p in PARTS}, f"one ServiceMonitor per part: {sorted(monitors)}"
    for part in PARTS:
        service = named(objects, "Service", f"sen-{part}")
        assert selector_matches(monitors[f"sen-{part}"]["selector"], service["metadata"]["labels"])
        ports = {p["name"]: p for p in service["spec"]["ports"]}
        for endpoint in monitors[f"sen-{part}"]["endpoints"]:
            assert endpoint["port"] == "admin" and endpoint["path"] == "/metrics", f"sen-{part}: /metrics on the admin port"
            assert ports["admin"]["port"] == 9090
    (rule,) = of_kind(objects, "PrometheusRule")
    alerts = {r["alert"]: r["expr"] for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r}
    needed = {
        "the gateway's error ratio": "sen_gateway_requests_total",
        "the gateway's latency": "sen_gateway_request_duration_seconds_bucket",
        "a service down": "sen_gateway_upstream_up",
        "the caseloads reconciler failing": "sen_caseloads_reconciled_allocations_total",
        "the caseloads reconciler stopped": "sen_caseloads_reconcile_passes_total",
        "a certificate ending within 14 days": "sen_tls_certificate_expiry_timestamp_seconds",
    }
    for what, metric in needed.items():
        assert any(metric in expr for expr in alerts.values()), f"no alert on {what} ({metric})"
    assert any("14 * 86400" in expr for expr in alerts.values()), "certificates: 14 days"
    for alert in alerts:
        assert alert in RUNBOOK.read_text(), f"docs/OPERATIONS.md does not say what to do about {alert}"


def test_every_metric_in_the_alerts_and_the_dashboard_is_one_the_code_registers(rendered):
    """A renamed or removed metric would leave an alert that never fires and an empty
    panel: the names in the rules and the dashboard must be the code's."""
    exposed = registered_metrics()
    objects = rendered["production-components"]
    used = {}
    for rule in of_kind(objects, "PrometheusRule"):
        for group in rule["spec"]["groups"]:
            for r in group["rules"]:
                used[f"{ident(rule)} {r.get('alert', r.get('record'))}"] = metrics_named(r["expr"])
    dashboards = [c for c in of_kind(objects, "ConfigMap") if c["metadata"].get("labels", {}).get("grafana_dashboard") == "1"]
    assert len(dashboards) == 1, "one Grafana dashboard ConfigMap"
    for key, text in dashboards[0]["data"].items():
        dashboard = json.loads(text)
        for panel in dashboard["panels"]:
            targets = panel.get("targets", [])
            assert targets, f"{key}: panel {panel['title']!r} has no query"
            used[f"{key} {panel['title']!r}"] = set().union(*(metrics_named(t["expr"]) for t in targets))
            assert used[f"{key} {panel['title']!r}"], f"{key}: panel {panel['title']!r} shows no platform metric"
    unknown = {where: sorted(names - exposed) for where, names in used.items() if names - exposed}
    assert not unknown, f"metrics the code does not register: {unknown}"


def promtool() -> str | None:
    return os.environ.get("SEN_PROMTOOL") or shutil.which("promtool")


def test_the_alerts_fire_on_a_killed_service_an_ending_certificate_and_a_burning_error_budget(rendered, tmp_path):
    """`promtool test rules` over deploy/prometheus/alerts_test.yaml: the series of a
    killed service, a certificate its renewal missed, an error ratio above the
    objective and a stopped reconciler raise their alerts, with the words the
    on-call person reads, only after their `for:`; healthy series raise nothing.
    Every paging alert has such a test."""
    tool = promtool()
    if not tool:
        if os.environ.get("SEN_DEPLOY_RENDERED"):
            pytest.fail("promtool is missing: deploy/check fetches it (Debian package prometheus)")
        pytest.skip("promtool is not installed (deploy/check fetches it)")
    (rule,) = of_kind(rendered["production-components"], "PrometheusRule")
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}, sort_keys=False))
    tests = ROOT / "deploy" / "prometheus" / "alerts_test.yaml"
    shutil.copy(tests, tmp_path / tests.name)
    for command in (["check", "rules", "rules.yaml"], ["test", "rules", tests.name]):
        result = subprocess.run([tool, *command], cwd=tmp_path, capture_output=True, text=True)
        assert result.returncode == 0, f"promtool {' '.join(command)}:\n{result.stdout}{result.stderr}"
    pages = {r["alert"] for g in rule["spec"]["groups"] for r in g["rules"] if r.get("labels", {}).get("severity") == "page"}
    fired = set(re.findall(r"^\s+alertname: (\w+)\n\s+exp_alerts:\n\s+- exp_labels", tests.read_text(), re.M))
    assert pages and pages <= fired, f"paging alerts without a test that fires them: {sorted(pages - fired)}"


# --- Gateway API -----------------------------------------------------------------------


def test_the_gateway_api_overlay_replaces_the_ingresses_with_routes_to_the_gateway_over_tls(rendered):
    objects = rendered["production-gateway-api"]
    assert of_kind(objects, "Ingress") == [], "the routes replace the Ingresses"
    host = public_host(objects)
    assert host == public_host(rendered["production"]), "the same host name as the production overlay's"
    (gateway,) = of_kind(objects, "Gateway")
    (listener,) = gateway["spec"]["listeners"]
    assert listener["protocol"] == "HTTPS" and listener["tls"]["mode"] == "Terminate"
    assert [r["name"] for r in listener["tls"]["certificateRefs"]] == ["sen-gateway-public-tls"]
    routes = of_kind(objects, "HTTPRoute") + of_kind(objects, "GRPCRoute")
    assert {r["kind"] for r in routes} == {"HTTPRoute", "GRPCRoute"}
    for route in routes:
        assert route["spec"]["hostnames"] == [host], f"{ident(route)}: the public host"
        assert [(p["name"], p.get("sectionName")) for p in route["spec"]["parentRefs"]] == [(gateway["metadata"]["name"], listener["name"])]
        for rule in route["spec"]["rules"]:
            assert rule["backendRefs"] == [{"name": "sen-gateway", "port": 8443}], f"{ident(route)}: only the gateway's TLS port"
    (grpc,) = of_kind(objects, "GRPCRoute")
    routed = {m["method"]["service"] for rule in grpc["spec"]["rules"] for m in rule["matches"]}
    services = set()
    for proto in (ROOT / "proto").rglob("*.proto"):
        text = proto.read_text()
        package = re.search(r"^package\s+([\w.]+);", text, re.M).group(1)
        services |= {f"{package}.{s}" for s in re.findall(r"^service\s+(\w+)", text, re.M)}
    assert services and services <= routed, f"gRPC services missing from the GRPCRoute: {sorted(services - routed)}"
    (policy,) = of_kind(objects, "BackendTLSPolicy")
    assert policy["spec"]["targetRefs"] == [{"group": "", "kind": "Service", "name": "sen-gateway", "sectionName": "https"}]
    assert policy["spec"]["validation"]["hostname"] == "sen-gateway", "the name in the gateway's internal certificate"
    assert [r["name"] for r in policy["spec"]["validation"]["caCertificateRefs"]] == ["sen-gateway-backend-ca"]
    assert "sen-gateway-backend-ca" in RUNBOOK.read_text()


# --- documentation and image ------------------------------------------------------


def test_the_runbook_names_every_setting_and_every_secret(rendered):
    runbook = RUNBOOK.read_text()
    variables = set()
    for objects in rendered.values():
        for config_map in of_kind(objects, "ConfigMap"):
            variables |= {k for k in config_map.get("data", {}) if re.fullmatch(r"[A-Z][A-Z0-9_]*", k)}
    for example in (ROOT / "deploy").glob("*.env.example"):
        variables |= {line.split("=", 1)[0] for line in example.read_text().splitlines() if re.match(r"^[A-Z_]+=", line)}
    missing = sorted(v for v in variables if f"`{v}`" not in runbook)
    assert not missing, f"docs/OPERATIONS.md does not describe {missing}"
    secrets = set()
    for objects in rendered.values():
        for workload in workloads(objects):
            spec = pod_spec(workload)
            for volume in spec.get("volumes", []):
                secrets.add(volume.get("secret", {}).get("secretName"))
                for source in volume.get("projected", {}).get("sources", []):
                    secrets.add(source.get("secret", {}).get("name"))
            for container in all_containers(spec):
                for item in container.get("env", []):
                    secrets.add(item.get("valueFrom", {}).get("secretKeyRef", {}).get("name"))
        for ingress in of_kind(objects, "Ingress"):
            secrets |= {t["secretName"] for t in ingress["spec"]["tls"]}
    secrets.discard(None)
    secrets |= OPERATOR_CONFIGMAPS
    missing = sorted(s for s in secrets if s not in runbook)
    assert not missing, f"docs/OPERATIONS.md does not say how to make {missing}"


def test_the_dockerfile_builds_one_locked_binary_for_a_non_root_user(rendered):
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    instructions = [line for line in dockerfile.splitlines() if line and not line.startswith("#")]
    stages = [line for line in instructions if line.startswith("FROM ")]
    assert len(stages) >= 2, "multi-stage: the toolchain stays out of the runtime image"
    names = {stage.split()[3] for stage in stages if len(stage.split()) == 4 and stage.split()[2] == "AS"}
    for stage in stages:
        image = stage.split()[1]
        if image not in names:
            # A release tag for readers and the digest that is pulled (deploy/pin-base-images
            # refreshes it); a placeholder digest (one repeated digit) would only break the build.
            pinned = re.fullmatch(r"[^@:]+(?::\d+)?/[^@]+:(?P<tag>[\w.-]+)(?:@sha256:(?P<digest>[0-9a-f]{64}))?", image)
            assert pinned and pinned["tag"] != "latest", f"{stage}: a base image named by a release tag"
            assert pinned["digest"], f"{stage}: the base image pinned by digest (run deploy/pin-base-images)"
            assert len(set(pinned["digest"])) > 1, f"{stage}: a made-up digest"
    builder = dockerfile.index("FROM chef AS builder")
    cook, copy_all = dockerfile.index("cargo chef cook", builder), dockerfile.index("COPY . .", builder)
    assert cook < copy_all, "dependencies are built before the sources are copied (their own layer)"
    assert re.search(r"cargo build --release --locked -p sen-cli", dockerfile)
    runtime = dockerfile[dockerfile.rindex("FROM ") :]
    user = re.search(r"^USER (\d+)(?::(\d+))?$", runtime, re.M)
    assert user and int(user.group(1)) != 0, "the runtime stage runs as a numeric non-root user"
    assert 'ENTRYPOINT ["/usr/local/bin/sen"]' in runtime
    labels = set(re.findall(r"(org\.opencontainers\.image\.[a-z.]+)=", runtime))
    needed = {f"org.opencontainers.image.{k}" for k in ("title", "description", "version", "revision", "licenses", "base.name")}
    assert needed <= labels, f"OCI labels missing from the runtime image: {sorted(needed - labels)}"
    cargo = (ROOT / "Cargo.toml").read_text()
    release = cargo[cargo.index("[profile.release]") :]
    assert re.search(r'^strip = ("symbols"|true)$', release.split("\n[", 1)[0], re.M), "the release binary is stripped"
    assert not re.search(r"^(ENV|ARG)\s+\S*(PASSWORD|SECRET|TOKEN|KEY)", dockerfile, re.M), "no secrets in the image"
    for objects in rendered.values():
        for workload in workloads(objects):
            assert pod_spec(workload)["securityContext"]["runAsUser"] == int(user.group(1)), (
                f"{ident(workload)}: runAsUser is the image's USER"
            )
    ignored = (ROOT / "deploy" / "Dockerfile.dockerignore").read_text().split()
    assert {"target", ".git", "data"} <= set(ignored), "target/, .git and data/ stay out of the build context"


def cyclonedx_validator():
    """The CycloneDX 1.5 JSON schema (with the SPDX and JSF schemas it refers to),
    from deploy/schemas/cyclonedx (deploy/schemas/cyclonedx/README.md says where from)."""
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    folder = ROOT / "deploy" / "schemas" / "cyclonedx"
    schemas = {path.name: json.loads(path.read_text()) for path in folder.glob("*.schema.json")}
    registry = Registry().with_resources(
        (f"http://cyclonedx.org/schema/{name}", Resource.from_contents(schema, default_specification=DRAFT7))
        for name, schema in schemas.items()
    )
    return jsonschema.Draft7Validator(schemas["bom-1.5.schema.json"], registry=registry, format_checker=jsonschema.FormatChecker())


def test_the_cyclonedx_schema_refuses_what_is_not_an_sbom():
    """The schema check above can fail: a component of an unknown type, a licence id
    SPDX does not know (through the SPDX schema) and a missing format are refused."""
    validator = cyclonedx_validator()
    good = {"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [{"type": "library", "name": "x", "licenses": [{"license": {"id": "MIT"}}]}]}
    assert not list(validator.iter_errors(good))
    for bad in (
        {**good, "components": [{"type": "lib", "name": "x"}]},
        {**good, "components": [{"type": "library", "name": "x", "licenses": [{"license": {"id": "Not-A-Licence"}}]}]},
        {k: v for k, v in good.items() if k != "bomFormat"},
    ):
        assert list(validator.iter_errors(bad)), f"accepted: {bad}"


def test_the_sbom_lists_what_the_binary_is_built_from(tmp_path):
    """deploy/sbom.py: a CycloneDX document of the crates compiled into `sen`, each
    with the checksum Cargo.lock records, and nothing only the tests use."""
    assert shutil.which("cargo"), "cargo is needed to read the dependency graph (cargo metadata --offline)"
    out = tmp_path / "sen.cdx.json"
    subprocess.run([sys.executable, str(ROOT / "deploy" / "sbom.py"), "--out", str(out)], check=True)
    bom = json.loads(out.read_text())
    assert (bom["bomFormat"], bom["specVersion"]) == ("CycloneDX", "1.5")
    errors = sorted(cyclonedx_validator().iter_errors(bom), key=str)
    assert not errors, "not CycloneDX 1.5: " + "; ".join(f"{e.json_path}: {e.message}" for e in errors[:10])
    assert bom["metadata"]["component"]["name"] == "sen"
    components = {c["name"]: c for c in bom["components"]}
    for crate in ("tokio", "tonic", "rustls", "sea-orm", "sen-platform"):
        assert crate in components, f"{crate} is compiled into the binary"
    for test_only in ("fantoccini", "proptest", "rcgen"):
        assert test_only not in components, f"{test_only} is used by tests only"
    for component in components.values():
        if "purl" in component:
            assert component["purl"] == f"pkg:cargo/{component['name']}@{component['version']}"
            assert re.fullmatch(r"[0-9a-f]{64}", component["hashes"][0]["content"]), f"{component['name']}: its checksum"
    refs = {c["bom-ref"] for c in bom["components"]} | {bom["metadata"]["component"]["bom-ref"]}
    for dependency in bom["dependencies"]:
        assert dependency["ref"] in refs and set(dependency["dependsOn"]) <= refs, f"{dependency['ref']}: a dangling reference"
    subprocess.run([sys.executable, str(ROOT / "deploy" / "sbom.py"), "--out", str(tmp_path / "again.json")], check=True)
    assert (tmp_path / "again.json").read_text() == out.read_text(), "the same Cargo.lock gives the same SBOM"


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--render":
        for name, path in render_all(Path(sys.argv[2])).items():
            count = sum(1 for line in path.read_text().splitlines() if line.startswith("kind:"))
            print(f"  {name:<38} {count:3d} objects")
    else:
        sys.exit("usage: python deploy/test_deploy.py --render DIR   (tests: python -m pytest deploy/test_deploy.py)")
