"""Kubernetes manifests (deploy/k8s): every overlay builds with kustomize, every built-in object
validates offline against the Kubernetes OpenAPI schemas, and the custom resources
(ServiceMonitor, PrometheusRule, ScaledObject) are checked by the asserts below."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from typing import Any

import pytest
from ops_support import (
    INBOUND_SMTP_PORT,
    PORTS,
    REPO,
    SERVICES,
    kustomize_command,
    require_module,
)

K8S = REPO / "deploy" / "k8s"
OVERLAYS = ("dev", "prod", "prod-keda")
KUBERNETES_VERSION = "1.32"
CUSTOM_KINDS = {"ServiceMonitor", "PrometheusRule", "ScaledObject"}
PARTITIONS = 12
VALIDATE_INSTALL = "pip install kubernetes-validate==1.37.0"

Obj = dict[str, Any]


@functools.cache
def build(overlay: str) -> tuple[Obj, ...]:
    """The objects `kustomize build` renders for an overlay."""
    yaml = require_module("yaml", "pip install PyYAML==6.0.3")
    result = subprocess.run(
        [*kustomize_command(), str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def objects(overlay: str, kind: str) -> dict[str, Obj]:
    return {o["metadata"]["name"]: o for o in build(overlay) if o["kind"] == kind}


def container(deployment: Obj) -> Obj:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    result: Obj = only
    return result


def extra_ports(name: str) -> list[tuple[str, int]]:
    """(name, port) a service listens on besides `http`: the notification service's SMTP."""
    return [("smtp", INBOUND_SMTP_PORT)] if name == "notification" else []


def settings_of(overlay: str, app: Obj) -> dict[str, str]:
    """The STOPCLOCK_* settings a container gets from its ConfigMaps."""
    settings: dict[str, str] = {}
    for source in app["envFrom"]:
        settings |= objects(overlay, "ConfigMap")[source["configMapRef"]["name"]]["data"]
    return settings


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_builds_and_every_builtin_object_matches_the_kubernetes_schema(
    overlay: str,
) -> None:
    validator = require_module("kubernetes_validate", VALIDATE_INSTALL)
    built = build(overlay)
    assert built
    for obj in built:
        if obj["kind"] in CUSTOM_KINDS:
            continue
        validator.validate(obj, KUBERNETES_VERSION, strict=True)


def test_the_schema_check_rejects_a_misspelt_field() -> None:
    validator = require_module("kubernetes_validate", VALIDATE_INSTALL)
    deployment = json.loads(json.dumps(objects("prod", "Deployment")["sla"]))
    container(deployment)["readynessProbe"] = container(deployment).pop("readinessProbe")
    with pytest.raises(validator.ValidationError):
        validator.validate(deployment, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_overlay_carries_a_secret(overlay: str) -> None:
    assert not objects(overlay, "Secret")


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("name", SERVICES)
def test_each_service_runs_its_module_on_its_port_with_probes_and_limits(
    overlay: str, name: str
) -> None:
    deployment = objects(overlay, "Deployment")[name]
    app = container(deployment)
    port = PORTS[name]
    assert app["command"] == ["python", "-m", f"stopclock_{name}"]
    assert app["ports"] == [
        {"name": named, "containerPort": number, "protocol": "TCP"}
        for named, number in [("http", port), *extra_ports(name)]
    ]
    assert app["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert app["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert app["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert {"cpu", "memory"} <= set(app["resources"]["requests"])
    assert {"cpu", "memory"} <= set(app["resources"]["limits"])
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(port)
    assert annotations["prometheus.io/path"] == "/metrics"
    # The autoscaler owns the replica count; a fixed one would be reset on every apply.
    assert "replicas" not in deployment["spec"]


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("name", SERVICES)
def test_each_service_runs_locked_down(overlay: str, name: str) -> None:
    pod = objects(overlay, "Deployment")[name]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["automountServiceAccountToken"] is False
    security = container(objects(overlay, "Deployment")[name])["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"]["drop"] == ["ALL"]


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("name", SERVICES)
def test_each_service_reads_secrets_by_reference_and_settings_from_config_maps(
    overlay: str, name: str
) -> None:
    app = container(objects(overlay, "Deployment")[name])
    secrets = {
        env["name"]: env["valueFrom"]["secretKeyRef"]
        for env in app["env"]
        if "secretKeyRef" in env.get("valueFrom", {})
    }
    assert secrets == {
        "STOPCLOCK_JWT_SECRET": {"name": "stopclock-jwt", "key": "secret"},
        "STOPCLOCK_DATABASE_URL": {"name": f"stopclock-{name}-db", "key": "url"},
    }
    assert not [env for env in app["env"] if "value" in env], "settings go in ConfigMaps"
    settings = settings_of(overlay, app)
    assert settings["STOPCLOCK_SERVICE_PORT"] == str(PORTS[name])
    for key in (
        "STOPCLOCK_KAFKA_BOOTSTRAP",
        "STOPCLOCK_SMTP_HOST",
        "STOPCLOCK_SMTP_PORT",
        "STOPCLOCK_DESK_ADDRESS",
    ):
        assert settings[key]
    assert settings["STOPCLOCK_KAFKA_PARTITIONS"] == str(PARTITIONS)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_notification_service_listens_for_mail_on_its_smtp_port(overlay: str) -> None:
    app = container(objects(overlay, "Deployment")["notification"])
    settings = settings_of(overlay, app)
    # Every interface of the pod: the Service forwards to the pod's address, not loopback.
    assert settings["STOPCLOCK_INBOUND_SMTP_HOST"] == "0.0.0.0"
    (smtp,) = [p for p in app["ports"] if p["name"] == "smtp"]
    assert settings["STOPCLOCK_INBOUND_SMTP_PORT"] == str(smtp["containerPort"])
    assert smtp["containerPort"] == INBOUND_SMTP_PORT
    for name in set(SERVICES) - {"notification"}:
        other = settings_of(overlay, container(objects(overlay, "Deployment")[name]))
        assert "STOPCLOCK_INBOUND_SMTP_PORT" not in other, name


def test_the_secret_names_are_documented_for_the_sre() -> None:
    operate = (REPO / "docs" / "operate.md").read_text(encoding="utf-8")
    assert "stopclock-jwt" in operate
    assert all(f"stopclock-{name}-db" in operate for name in SERVICES)


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("name", SERVICES)
def test_each_service_has_a_service_and_a_disruption_budget_selecting_its_pods(
    overlay: str, name: str
) -> None:
    pod_labels = objects(overlay, "Deployment")[name]["spec"]["template"]["metadata"]["labels"]
    service = objects(overlay, "Service")[name]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["ports"] == [
        {"name": named, "port": number, "targetPort": named, "protocol": "TCP"}
        for named, number in [("http", PORTS[name]), *extra_ports(name)]
    ]
    budget = objects(overlay, "PodDisruptionBudget")[name]
    assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert budget["spec"]["maxUnavailable"] == 1


@pytest.mark.parametrize(("overlay", "floor"), [("dev", 1), ("prod", 2)])
@pytest.mark.parametrize("name", SERVICES)
def test_each_service_scales_on_cpu_up_to_the_partition_count(
    overlay: str, floor: int, name: str
) -> None:
    autoscaler = objects(overlay, "HorizontalPodAutoscaler")[name]
    spec = autoscaler["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
    assert spec["minReplicas"] == floor
    assert spec["minReplicas"] <= spec["maxReplicas"] <= PARTITIONS
    (metric,) = spec["metrics"]
    assert metric["resource"]["name"] == "cpu"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_topics_job_runs_the_shared_script_with_twelve_partitions(overlay: str) -> None:
    job = objects(overlay, "Job")["kafka-topics"]
    pod = job["spec"]["template"]["spec"]
    (runner,) = pod["containers"]
    assert runner["command"] == ["/bin/bash", "/opt/stopclock/create-topics.sh"]
    (script_volume,) = [v for v in pod["volumes"] if "configMap" in v]
    script = objects(overlay, "ConfigMap")[script_volume["configMap"]["name"]]
    assert script["data"]["create-topics.sh"] == (K8S / "base/create-topics.sh").read_text()
    common = objects(overlay, "ConfigMap")[runner["envFrom"][0]["configMapRef"]["name"]]
    assert common["data"]["STOPCLOCK_KAFKA_PARTITIONS"] == str(PARTITIONS)


@pytest.mark.parametrize(
    ("overlay", "namespace"), [("dev", "stopclock-dev"), ("prod", "stopclock")]
)
def test_each_overlay_lives_in_its_own_namespace(overlay: str, namespace: str) -> None:
    assert list(objects(overlay, "Namespace")) == [namespace]
    namespaced = [o for o in build(overlay) if o["kind"] != "Namespace"]
    assert all(o["metadata"]["namespace"] == namespace for o in namespaced)


@pytest.mark.parametrize("overlay", ["prod", "prod-keda"])
def test_production_runs_a_released_image(overlay: str) -> None:
    for deployment in objects(overlay, "Deployment").values():
        tag = container(deployment)["image"].rpartition(":")[2]
        assert tag not in {"latest", "dev", ""}
        assert "/" in container(deployment)["image"]


def test_production_is_monitored_by_the_operator_with_the_repo_rules_and_dashboards() -> None:
    yaml = require_module("yaml", "pip install PyYAML==6.0.3")
    (monitor,) = objects("prod", "ServiceMonitor").values()
    selector = monitor["spec"]["selector"]["matchLabels"]
    selected = [
        s
        for s in objects("prod", "Service").values()
        if selector.items() <= s["metadata"]["labels"].items()
    ]
    assert sorted(s["metadata"]["name"] for s in selected) == sorted(SERVICES)
    assert [endpoint["port"] for endpoint in monitor["spec"]["endpoints"]] == ["http"]

    rules = {
        path.stem: yaml.safe_load(path.read_text())
        for path in sorted((REPO / "deploy/prometheus/rules").glob("*.yml"))
    }
    rendered = {name: o["spec"] for name, o in objects("prod", "PrometheusRule").items()}
    assert rendered == rules

    board_map = objects("prod", "ConfigMap")["stopclock-dashboards"]
    assert board_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    boards = {p.name: p.read_text() for p in (REPO / "deploy/grafana/dashboards").glob("*.json")}
    assert board_map["data"] == boards


def test_the_monitoring_copies_are_in_step_with_rules_and_dashboards() -> None:
    result = subprocess.run(
        [sys.executable, str(K8S / "sync_monitoring.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_keda_replaces_every_cpu_autoscaler_with_a_lag_scaler() -> None:
    assert not objects("prod-keda", "HorizontalPodAutoscaler")
    scalers = objects("prod-keda", "ScaledObject")
    assert sorted(scalers) == sorted(SERVICES)
    for name, scaler in scalers.items():
        spec = scaler["spec"]
        assert spec["scaleTargetRef"] == {"name": name}
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"] <= PARTITIONS
        (kafka,) = [t for t in spec["triggers"] if t["type"] == "kafka"]
        assert kafka["metadata"]["consumerGroup"] == f"stopclock-{name}"
        assert int(kafka["metadata"]["lagThreshold"]) > 0
        # KEDA reads the broker address from the Deployment's own environment.
        env_name = kafka["metadata"]["bootstrapServersFromEnv"]
        app = container(objects("prod-keda", "Deployment")[name])
        common = objects("prod-keda", "ConfigMap")[app["envFrom"][0]["configMapRef"]["name"]]
        assert env_name in common["data"]


@pytest.mark.parametrize("component", ["monitoring", "keda"])
def test_components_list_every_file_they_ship(component: str) -> None:
    kustomization = (K8S / "components" / component / "kustomization.yaml").read_text()
    shipped = [
        p.relative_to(K8S / "components" / component)
        for p in (K8S / "components" / component).rglob("*")
        if p.is_file() and p.name != "kustomization.yaml"
    ]
    assert shipped
    assert all(str(path) in kustomization for path in shipped)
