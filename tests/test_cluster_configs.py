"""The cluster configurations (Ray cluster launcher, KubeRay), cluster/write_config.py and
cluster/local.sh: formats, secrets only by reference, usage errors, and a real local cluster."""

from __future__ import annotations

import contextlib
import copy
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CLUSTER = ROOT / "cluster"
LOCAL_SH = CLUSTER / "local.sh"
WRITE_CONFIG = CLUSTER / "write_config.py"


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((CLUSTER / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{name} must hold a mapping"
    return data


@pytest.fixture(scope="module")
def aws() -> dict[str, Any]:
    return load("aws.yaml")


@pytest.fixture(scope="module")
def rayjob() -> dict[str, Any]:
    return load("kuberay-rayjob.yaml")


# --- no literal credentials ----------------------------------------------------------------

REFERENCE = re.compile(r"^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$|^<[^>]*>$")
CREDENTIAL_PATTERNS = {
    "a URL with a password": re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:(?P<value>[^@\s/]+)@"),
    "an AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "an AWS secret key value": re.compile(
        r"aws_secret_access_key\s*[:=]\s*[\"']?(?P<value>[^\s\"',}]+)", re.IGNORECASE
    ),
    "a password value": re.compile(
        r"\b(?:password|passwd|pgpassword)\b\s*[:=]\s*[\"']?(?P<value>[^\s\"',}]+)", re.IGNORECASE
    ),
    "a 40-character AWS secret key": re.compile(
        r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"
    ),
}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|ACCESS_KEY|TRACKING_URI|CREDENTIAL", re.IGNORECASE)


def strings(node: Any) -> Iterator[str]:
    """Every key and string value in a YAML document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)
    elif isinstance(node, str):
        yield node


def credentials_in(text: str) -> list[str]:
    """What looks like a literal credential in `text` (a placeholder like ${VAR} is not)."""
    found = []
    for what, pattern in CREDENTIAL_PATTERNS.items():
        for match in pattern.finditer(text):
            value = match.groupdict().get("value") or match.group(0)
            if not REFERENCE.match(value):
                found.append(f"{what}: {match.group(0)!r}")
    return found


def env_entries(node: Any) -> Iterator[dict[str, Any]]:
    """Every item of a Kubernetes `env:` list anywhere in the document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "env" and isinstance(value, list):
                yield from (item for item in value if isinstance(item, dict))
            else:
                yield from env_entries(value)
    elif isinstance(node, list):
        for item in node:
            yield from env_entries(item)


@pytest.mark.parametrize(
    "sample",
    [
        "tracking_uri: postgresql://raysweep:hunter2@db.internal:5432/raysweep",
        "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "password: hunter2",
        "PGPASSWORD=hunter2 psql",
    ],
)
def test_the_credential_scan_finds_literal_credentials(sample: str) -> None:
    assert credentials_in(sample)


@pytest.mark.parametrize(
    "sample",
    [
        "tracking_uri: postgresql://user@db/raysweep",
        "password: ${PGPASSWORD}",
        "postgresql://user:<password>@host/db",
        "s3://${RAYSWEEP_BUCKET}/raysweep",
    ],
)
def test_the_credential_scan_lets_references_pass(sample: str) -> None:
    assert credentials_in(sample) == []


@pytest.mark.parametrize("name", ["aws.yaml", "kuberay-rayjob.yaml", "README.md", "Dockerfile"])
def test_no_literal_credential_in_the_cluster_files(name: str) -> None:
    text = (CLUSTER / name).read_text(encoding="utf-8")
    assert credentials_in(text) == []
    if name.endswith(".yaml"):
        for value in strings(yaml.safe_load(text)):
            assert credentials_in(value) == [], value


@pytest.mark.parametrize("name", ["aws.yaml", "kuberay-rayjob.yaml"])
def test_secret_environment_variables_come_from_secrets(name: str) -> None:
    for entry in env_entries(load(name)):
        if SECRET_NAME.search(entry["name"]):
            assert "value" not in entry, f"{entry['name']} has a literal value"
            assert entry["valueFrom"]["secretKeyRef"]["name"], entry


# --- the Ray cluster launcher config ---------------------------------------------------------


def test_aws_config_has_the_launcher_keys(aws: dict[str, Any]) -> None:
    assert aws["cluster_name"]
    assert aws["provider"]["type"] == "aws"
    assert aws["provider"]["region"]
    assert isinstance(aws["max_workers"], int) and aws["max_workers"] >= 1
    node_types = aws["available_node_types"]
    assert aws["head_node_type"] in node_types
    assert any(name != aws["head_node_type"] for name in node_types), "no worker node type"
    for key in ("setup_commands", "head_start_ray_commands", "worker_start_ray_commands"):
        assert aws[key] and all(isinstance(c, str) for c in aws[key]), key


def test_aws_config_passes_ray_schema(aws: dict[str, Any]) -> None:
    from ray.autoscaler._private.util import prepare_config, validate_config

    validate_config(prepare_config(copy.deepcopy(aws)))


def test_ray_schema_check_is_not_vacuous(aws: dict[str, Any]) -> None:
    from jsonschema import ValidationError
    from ray.autoscaler._private.util import prepare_config, validate_config

    broken = copy.deepcopy(aws)
    broken["available_node_types"][broken["head_node_type"]]["node_cofig"] = {}
    with pytest.raises(ValidationError):
        validate_config(prepare_config(broken))


def test_aws_nodes_start_ray_with_token_auth(aws: dict[str, Any]) -> None:
    head = " ".join(aws["head_start_ray_commands"])
    workers = " ".join(aws["worker_start_ray_commands"])
    for commands in (head, workers):
        assert "RAY_AUTH_MODE=token" in commands
        assert "ray start" in commands
    assert "--head" in head and "--address" in workers
    assert "--dashboard-host=127.0.0.1" in head, "the dashboard must not face the network"
    token_mounts = [target for target in aws["file_mounts"] if "auth_token" in target]
    assert token_mounts, "the token must reach every node"


def test_aws_setup_installs_the_project_and_writes_the_config_from_env(
    aws: dict[str, Any],
) -> None:
    setup = " ".join(aws["setup_commands"])
    assert "pip install" in setup and "RAYSWEEP_GIT_URL" in setup
    assert "~/raysweep" in aws["file_mounts"], "the working copy must be mounted"
    head_setup = " ".join(aws["head_setup_commands"])
    assert "cluster/write_config.py" in head_setup
    assert "cluster/write_config.py" not in " ".join(aws["worker_setup_commands"]), (
        "workers need no database credentials"
    )


# --- the KubeRay RayJob ----------------------------------------------------------------------


def containers(group: dict[str, Any]) -> list[dict[str, Any]]:
    return list(group["template"]["spec"]["containers"])


def test_rayjob_has_the_kuberay_keys(rayjob: dict[str, Any]) -> None:
    assert rayjob["apiVersion"] == "ray.io/v1"
    assert rayjob["kind"] == "RayJob"
    assert rayjob["metadata"]["name"]
    spec = rayjob["spec"]
    entrypoint = spec["entrypoint"]
    assert "python -m sweep.launch" in entrypoint
    assert re.search(r"--storage s3://\S+", entrypoint)
    cluster = spec["rayClusterSpec"]
    assert cluster["authOptions"]["mode"] == "token"
    head = cluster["headGroupSpec"]
    assert containers(head)
    assert cluster["workerGroupSpecs"]
    for group in cluster["workerGroupSpecs"]:
        assert group["groupName"]
        assert group["minReplicas"] <= group["replicas"] <= group["maxReplicas"]
        assert containers(group)
    for group in [head, *cluster["workerGroupSpecs"]]:
        for container in containers(group):
            assert container["name"] and container["image"]


def test_rayjob_secrets_reach_only_who_needs_them(rayjob: dict[str, Any]) -> None:
    cluster = rayjob["spec"]["rayClusterSpec"]

    def env(group: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {e["name"]: e for c in containers(group) for e in c.get("env", [])}

    head = env(cluster["headGroupSpec"])
    assert head["RAYSWEEP_TRACKING_URI"]["valueFrom"]["secretKeyRef"]["key"]
    for group in cluster["workerGroupSpecs"]:
        workers = env(group)
        assert "RAYSWEEP_TRACKING_URI" not in workers, "the driver is the only writer"
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            assert workers[name]["valueFrom"]["secretKeyRef"]["key"], name


def test_rayjob_entrypoint_survives_the_submitter_shell(rayjob: dict[str, Any]) -> None:
    # KubeRay runs `... ray job submit -- <entrypoint> ; fi` in a shell: a bare `&&` or `;`
    # would run the rest in the submitter pod.
    entrypoint = rayjob["spec"]["entrypoint"]
    outside_quotes = re.sub(r"'[^']*'", "", entrypoint)
    assert not re.search(r"&&|;|\|", outside_quotes), entrypoint


# --- cluster/write_config.py -----------------------------------------------------------------


def write_config(
    tmp_path: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RAYSWEEP_")}
    return subprocess.run(
        [sys.executable, str(WRITE_CONFIG), *args],
        cwd=tmp_path,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"RAYSWEEP_STORAGE_URI": "s3://bucket/team"}, "RAYSWEEP_TRACKING_URI"),
        ({"RAYSWEEP_TRACKING_URI": "postgresql://u@db/x"}, "RAYSWEEP_STORAGE_URI"),
        (
            {"RAYSWEEP_TRACKING_URI": "postgresql://u@db/x", "RAYSWEEP_STORAGE_URI": "  "},
            "RAYSWEEP_STORAGE_URI",
        ),
        (
            {"RAYSWEEP_TRACKING_URI": "postgresql://u@db/x", "RAYSWEEP_STORAGE_URI": "out"},
            "RAYSWEEP_STORAGE_URI",
        ),
    ],
)
def test_write_config_names_the_missing_variable(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    result = write_config(tmp_path, env)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and named in result.stderr
    assert not (tmp_path / "config.json").exists()


def test_write_config_refuses_bad_usage(tmp_path: Path) -> None:
    result = write_config(tmp_path, {}, "a.json", "b.json")
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1


def test_write_config_writes_a_config_the_workspace_accepts(tmp_path: Path) -> None:
    from tracking import Workspace

    env = {
        "RAYSWEEP_TRACKING_URI": f"sqlite:///{tmp_path / 'records.db'}",
        "RAYSWEEP_STORAGE_URI": str(tmp_path / "storage"),
        "RAYSWEEP_WORKSPACE_NAME": "team",
        "RAYSWEEP_PORTAL_URL": "http://127.0.0.1:8080",
    }
    result = write_config(tmp_path, env, "conf/config.json")
    assert result.returncode == 0, result.stderr
    path = tmp_path / "conf" / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, "it may hold the database password"
    workspace = Workspace.from_config(path)
    assert workspace.name == "team"


def test_write_config_keeps_a_postgres_and_s3_workspace_and_hides_the_password(
    tmp_path: Path,
) -> None:
    from tracking.config import load_config

    env = {
        "RAYSWEEP_TRACKING_URI": "postgresql://raysweep:s3cr3t@db.internal:5432/raysweep",
        "RAYSWEEP_STORAGE_URI": "s3://bucket/team",
        "RAYSWEEP_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
    }
    result = write_config(tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert "s3cr3t" not in result.stdout + result.stderr
    config = load_config(tmp_path / "config.json")
    assert config.tracking_uri == env["RAYSWEEP_TRACKING_URI"]
    assert config.storage_uri == "s3://bucket/team"
    assert config.s3_endpoint_url == "http://127.0.0.1:9000"


# --- cluster/local.sh ------------------------------------------------------------------------


def local_sh(state: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(LOCAL_SH), *args],
        env={**os.environ, "RAYSWEEP_CLUSTER_DIR": str(state)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["start"],
        ["up", "--bogus"],
        ["up", "--workers"],
        ["up", "--workers", "two"],
        ["up", "--cpus-per-worker", "0"],
        ["up", "--port", "70000"],
        ["up", "--port", "7000", "--dashboard-port", "7000"],
        ["down", "--now"],
        ["status", "-v"],
    ],
)
def test_local_sh_bad_usage_is_one_line_and_exit_2(tmp_path: Path, args: list[str]) -> None:
    state = tmp_path / "state"
    result = local_sh(state, *args)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stdout == ""
    assert not state.exists(), "nothing may be started or written"


def test_local_sh_with_nothing_up(tmp_path: Path) -> None:
    state = tmp_path / "state"
    status = local_sh(state, "status")
    assert status.returncode == 3 and "no local cluster" in status.stdout
    assert local_sh(state, "env").returncode == 3
    down = local_sh(state, "down")
    assert down.returncode == 0 and "nothing to stop" in down.stdout


def test_local_sh_is_shellcheck_clean() -> None:
    shellcheck = subprocess.run(["which", "shellcheck"], capture_output=True, text=True)
    if shellcheck.returncode != 0:
        pytest.skip("shellcheck is not installed")
    result = subprocess.run(["shellcheck", str(LOCAL_SH)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("", 0))
        return int(sock.getsockname()[1])


def marked_pids(cluster_id: str) -> list[int]:
    """The live processes that carry the cluster's mark in their environment."""
    mark = f"RAYSWEEP_CLUSTER_ID={cluster_id}".encode()
    pids = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if mark in environ.read_bytes().split(b"\0"):
                pids.append(int(environ.parent.name))
        except OSError:
            continue
    return pids


def state_value(state: Path, key: str) -> str | None:
    try:
        lines = (state / "state").read_text().splitlines()
    except OSError:
        return None
    return next((line.split("=", 1)[1] for line in lines if line.startswith(f"{key}=")), None)


@pytest.fixture
def local_cluster(tmp_path: Path) -> Iterator[Path]:
    """The state folder of a local.sh cluster; whatever it started is stopped by pid."""
    pytest.importorskip("ray.dashboard.optional_deps", reason="the job server needs ray[default]")
    if not Path("/proc/self/environ").exists():
        pytest.skip("local.sh needs Linux")
    state = tmp_path / "state"
    try:
        yield state
    finally:
        # A test that failed (or timed out, leaving `ray start` in sessions of their own)
        # still leaves its cluster recorded: stop it, then kill by pid whatever survived.
        cluster_id = state_value(state, "cluster_id")
        if cluster_id:
            local_sh(state, "down", timeout=90)
            for pid in marked_pids(cluster_id):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def http_status(url: str, token: str | None = None) -> int:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return err.code


@pytest.mark.cluster
def test_local_sh_up_status_down_with_token_auth(local_cluster: Path) -> None:
    state = local_cluster
    port, dashboard_port = free_port(), free_port()
    up = local_sh(
        state, "up", "--workers", "1", "--port", str(port), "--dashboard-port", str(dashboard_port)
    )
    assert up.returncode == 0, up.stdout + up.stderr
    cluster_id = state_value(state, "cluster_id")
    assert cluster_id and marked_pids(cluster_id)
    token_file = state / "auth_token"
    assert f"RAY_AUTH_TOKEN_PATH={token_file}" in up.stdout
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600

    again = local_sh(state, "up", "--workers", "1")
    assert again.returncode == 0 and "already up" in again.stdout

    status = local_sh(state, "status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert "Ray nodes alive (ray status): 2 of 2" in status.stdout

    url = f"http://127.0.0.1:{dashboard_port}/api/version"
    assert http_status(url) == 401, "the job server must refuse a request without the token"
    assert http_status(url, "0" * 64) in (401, 403)
    assert http_status(url, token_file.read_text().strip()) == 200

    env = local_sh(state, "env")
    assert env.returncode == 0 and "RAY_AUTH_MODE=token" in env.stdout

    down = local_sh(state, "down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert marked_pids(cluster_id) == []
    assert local_sh(state, "status").returncode == 3
