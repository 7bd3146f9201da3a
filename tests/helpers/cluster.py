"""A multi-node Ray cluster on this one machine, for tests, in its own process.

    python -m tests.helpers.cluster --workers 2 --dashboard-port 8265

(or `running(env)`, which starts it so and stops it after).

It prints one JSON line ({"address", "dashboard", "workers"}) once every node is up, then
reads commands on stdin: `kill-worker` kills the first remaining worker node at once (its
raylet and workers, as a lost machine would) and answers with a JSON line. At end of input
it shuts the cluster down. The head node has no CPUs, so every trial runs on a worker node.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.helpers.net import free_port

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def running(env: Mapping[str, str], workers: int = 2) -> Iterator[dict[str, Any]]:
    """This helper in a process of its own, with environment `env` (the Ray token, and a
    PYTHONPATH that reaches the repository, whose modules the nodes' workers import);
    yields its JSON line and the process (`"process"`), and shuts the cluster down after."""
    command = [sys.executable, "-m", "tests.helpers.cluster", "--workers", str(workers)]
    process = subprocess.Popen(
        [*command, "--dashboard-port", str(free_port())],
        cwd=ROOT,
        env=dict(env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the test cluster did not start (exit code {process.wait()})")
        yield {**json.loads(line), "process": process}
    finally:
        if process.stdin:
            process.stdin.close()  # at end of input the helper shuts the cluster down
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dashboard-port", type=int, required=True)
    args = parser.parse_args()
    from ray.cluster_utils import Cluster

    cluster = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": 0,
            "include_dashboard": True,
            "dashboard_host": "127.0.0.1",
            "dashboard_port": args.dashboard_port,
            # Another Ray on this machine (the tests' own) holds the agent's default port,
            # 52365: a head whose agent cannot listen takes no job submissions.
            "dashboard_agent_listen_port": free_port(),
        },
    )
    folders: list[str] = []
    try:
        # Each worker node gets a temp folder of its own, as on separate machines: nodes that
        # share one unpack the same job package into the same folder, replacing the files
        # under a running driver.
        folders = [tempfile.mkdtemp(prefix="ray-w", dir="/tmp") for _ in range(args.workers)]
        workers = [
            cluster.add_node(num_cpus=1, temp_dir=folder, dashboard_agent_listen_port=free_port())
            for folder in folders
        ]
        cluster.wait_for_nodes()
        print(
            json.dumps(
                {
                    "address": cluster.address,
                    "dashboard": f"http://127.0.0.1:{args.dashboard_port}",
                    "workers": [w.unique_id for w in workers],
                }
            ),
            flush=True,
        )
        for line in sys.stdin:
            if line.strip() == "kill-worker" and workers:
                worker = workers.pop(0)
                cluster.remove_node(worker, allow_graceful=False)
                print(json.dumps({"killed": worker.unique_id}), flush=True)
    finally:
        cluster.shutdown()
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
