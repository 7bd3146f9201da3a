"""Case 4: the S3 endpoint unreachable for 20 seconds in the middle of a sweep.

A TCP proxy stands between every S3 client of the sweep (the driver's boto3, the trials'
pyarrow) and moto's server; the test switches it to resetting every connection for 20 s once
the sweep has completed a few trials, then lets connections through again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.helpers.proxy import TcpProxy
from tracking import Experiment, Workspace

pytestmark = [pytest.mark.ray, pytest.mark.s3]

OUTAGE_S = 10.0
ALPHAS = [round(0.1 * i, 1) for i in range(1, 11)]


def _completed(ws: Workspace, name: str) -> int:
    if name not in ws.experiments:
        return 0
    return len(
        list(
            Experiment(ws, name).get_runs(
                status="Completed", include_children=True, type="azureml.scriptrun"
            )
        )
    )


@pytest.mark.reliability(
    case=4,
    fault=f"S3 endpoint resets every connection for {OUTAGE_S:.0f} s mid-sweep (TCP proxy "
    "before moto)",
    expected="the sweep ends with every alpha Completed once (uploads retried, or failed "
    "trials retried with --max-failures); every registered file is whole in S3, its SHA-256 "
    "as recorded",
)
def test_an_s3_outage_mid_sweep_loses_no_model_and_registers_no_partial_file(
    ray_address: str,
    tmp_path: Path,
    s3_endpoint: str,
    s3_bucket: str,
    s3_client,  # type: ignore[no-untyped-def]
    record_property: pytest.RecordProperty,
) -> None:
    upstream = urlsplit(s3_endpoint)
    with TcpProxy((upstream.hostname or "127.0.0.1", upstream.port or 80)) as proxy:
        config = {
            "tracking_uri": "sqlite:///records.db",
            "storage_uri": f"s3://{s3_bucket}/team",
            "s3_endpoint_url": proxy.url,
        }
        (tmp_path / "config.json").write_text(json.dumps(config))
        args = [
            *("--address", ray_address, "--experiment", "outage"),
            *("--alphas", ",".join(map(str, ALPHAS)), "--max-concurrent", "2"),
            *("--estimator", "tests.helpers.faults.PacedRidge", "--max-failures", "2"),
        ]
        driver = subprocess.Popen(
            [sys.executable, "-m", "sweep.launch", *args],
            cwd=tmp_path,
            env={**os.environ, "AWS_ENDPOINT_URL": proxy.url},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            ws = Workspace.from_config(tmp_path)
            deadline = time.monotonic() + 240
            while driver.poll() is None and time.monotonic() < deadline:
                if _completed(ws, "outage") >= 2:
                    break
                time.sleep(0.2)
            done_before = _completed(ws, "outage")
            if driver.poll() is not None:
                pytest.fail(f"the sweep ended before the outage: {driver.communicate()[1][-3000:]}")
            proxy.drop()
            time.sleep(OUTAGE_S)
            proxy.restore()
            reset = proxy.refused
            out, err = driver.communicate(timeout=400)
        finally:
            if driver.poll() is None:
                driver.kill()
                driver.wait()

    ws.close()
    # Read back past the proxy, straight from the S3 server.
    ws = Workspace(
        "t",
        tracking_uri=f"sqlite:///{tmp_path / 'records.db'}",
        storage_uri=f"s3://{s3_bucket}/team",
        s3_endpoint_url=s3_endpoint,
    )
    runs = list(Experiment(ws, "outage").get_runs(include_children=True, type="azureml.scriptrun"))
    statuses: dict[float, list[str]] = {}
    for run in runs:
        statuses.setdefault(run.get_params()["alpha"], []).append(run.status)
    retries = {r.get_params()["alpha"]: int(r.get_tags().get("ray.retries", "0")) for r in runs}
    retried = {a: n for a, n in sorted(retries.items()) if n}
    # Every file a run registered is in S3, whole: the download hashes it against the record.
    verified = 0
    for run in runs:
        for record in run.get_files():
            head = s3_client.head_object(Bucket=s3_bucket, Key=record.uri.split("/", 3)[3])
            assert head["ContentLength"] == record.size, record
            run.download_file(record.name, tmp_path / "downloads" / run.id / record.name)
            verified += 1
    completed = [a for a, s in statuses.items() if s == ["Completed"]]
    failures = [
        r.get_details().get("error", {}).get("error", {}).get("message", "")
        for r in runs
        if r.status == "Failed"
    ]
    errors = [textwrap.shorten(f.strip().splitlines()[-1], 240) for f in failures if f.strip()]
    record_property(
        "observed",
        f"outage of {OUTAGE_S:.0f} s after {done_before} completed trials, {reset} connections "
        f"reset; exit code {driver.returncode}; {len(completed)} of {len(ALPHAS)} alphas with "
        f"one Completed run, {len(runs)} runs, trial retries by alpha {retried}; "
        f"{verified} registered files whole with the recorded SHA-256"
        + (f"; failed runs' errors: {' / '.join(dict.fromkeys(errors))}" if errors else ""),
    )
    assert reset > 0, "no connection was attempted during the outage: it injected nothing"
    assert all(r.status != "Completed" or r.get_file_names() for r in runs)
    assert driver.returncode == 0 and not errors, (
        f"exit {driver.returncode}, failed runs: {errors or err[-2000:]}"
    )
    assert statuses == {a: ["Completed"] for a in ALPHAS}, statuses
    assert "Best run:" in out
