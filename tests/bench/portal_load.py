"""Portal under concurrent load: one client, then 50, on kept-alive connections (issue 19).

    python tests/bench/portal_load.py [--runs 100000] [--workers 1 2] [--folder DIR]
                                      [--json FILE]

The portal is served as users serve it, `python -m tracking.portal --workers N` on
127.0.0.1 in its own process(es), over an experiment of --runs runs (each with 2 params and
3 metrics, filled in bulk with `record_runs`; the workspace is kept in --folder, default
bench-results/portal-<runs>, and reused). The load generator is one asyncio process: each
client is one kept-alive HTTP/1.1 connection that sends its next request when the previous
answer has been read (no think time), cycling through the mix below (each client starts at
another place in it). What is fixed here: CLIENTS, REQUESTS_PER_CLIENT, ONE_CLIENT_REQUESTS
and TIME_LIMIT_S (a phase stops there; unfinished requests are counted). A warm-up round
(every worker sees every request of the mix) comes first and is not counted. Then, before
the load, the way a browser reuses a connection: REUSE_CONNECTIONS new connections, one at
a time, each asking one page of the mix twice; the second answer's p50 against the first's.

Goals (issue 19, on 2 cores): a kept-alive connection's second request no slower than its
first by more than GOAL_REUSE_MS (Nagle's algorithm once held every such answer ~40 ms);
throughput with 50 clients >= 1.5x that of one client, p99 with 50 clients <= 5x the
one-client p50, no errors. With no think time the p99 goal is bounded by Little's law:
50 clients' mean latency is 50 / their throughput, so p99 <= 5x the one-client p50 needs a
throughput near 10x that of one client; the table shows the bound beside the figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.common import progress  # noqa: E402 (after the path is set)
from tests.helpers.net import free_port, wait_for_http  # noqa: E402

CLIENTS = 50
REQUESTS_PER_CLIENT = 40  # 2,000 requests with 50 clients
ONE_CLIENT_REQUESTS = 200
WARM_UP_CLIENTS = 8  # connections of the warm-up round: more than any worker count tried
TIME_LIMIT_S = 120.0  # per phase
WORKER_COUNTS = (1, 2)  # what tests/bench/run.py measures
REQUEST_TIMEOUT_S = 30.0
REUSE_CONNECTIONS = 40  # of the reuse phase: 10 per page of the mix
GOAL_SCALING = 1.5
GOAL_REUSE_MS = 3.0  # issue 19: "not slower than the first by more than a few milliseconds"
GOAL_P99_OVER_P50 = 5.0


def mix(experiment: str, runs: int) -> dict[str, str]:
    """The requests of the load, by kind: what a user's browser and scripts ask for."""
    api = f"/api/experiments/{experiment}"
    return {
        "experiment page": f"/experiments/{experiment}",
        "runs by rmse": f"{api}/runs?sort=metrics.rmse&order=asc",
        "deep page": f"{api}/runs?sort=metrics.rmse&order=asc&offset={runs // 2}",
        "experiments": "/api/experiments",
    }


# --- the load generator ---------------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    seconds: float
    status: int  # 0: no answer (a broken connection or the time limit)


@dataclass
class Phase:
    """What one phase measured."""

    clients: int
    requests: int
    seconds: float
    errors: int
    unfinished: int
    per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    p50_ms_by_kind: dict[str, float] = field(default_factory=dict)


async def _connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bool]:
    """Send one request and read its whole answer: the status, and whether the server
    keeps the connection."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        raise ValueError("an answer without a length")
    return status, headers.get("connection", "").lower() != "close"


async def _client(
    port: int, paths: list[tuple[str, str]], start: int, count: int, deadline: float
) -> list[Sample]:
    samples: list[Sample] = []
    reader, writer = await _connect(port)
    try:
        for i in range(count):
            kind, path = paths[(start + i) % len(paths)]
            request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
            began = time.perf_counter()
            left = deadline - time.monotonic()
            if left <= 0:
                samples.append(Sample(kind, 0.0, 0))
                continue
            try:
                status, keep = await asyncio.wait_for(
                    _exchange(reader, writer, request), min(left, REQUEST_TIMEOUT_S)
                )
            except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.TimeoutError):
                status, keep = 0, False
            samples.append(Sample(kind, time.perf_counter() - began, status))
            if not keep:
                writer.close()
                reader, writer = await _connect(port)
    finally:
        writer.close()
    return samples


async def _twice(port: int, path: str) -> tuple[float, float]:
    """Seconds of the first and the second request for `path` on one new connection."""
    reader, writer = await _connect(port)
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    took = []
    try:
        for _ in range(2):
            began = time.perf_counter()
            status, keep = await asyncio.wait_for(
                _exchange(reader, writer, request), REQUEST_TIMEOUT_S
            )
            if status != 200 or not keep:
                raise RuntimeError(f"GET {path} answered {status} (connection kept: {keep})")
            took.append(time.perf_counter() - began)
    finally:
        writer.close()
    return took[0], took[1]


@dataclass
class Reuse:
    """The first and the second request on new kept-alive connections."""

    connections: int
    first_p50_ms: float
    second_p50_ms: float

    @property
    def slower_ms(self) -> float:
        return self.second_p50_ms - self.first_p50_ms


def reuse(port: int, paths: dict[str, str]) -> Reuse:
    """REUSE_CONNECTIONS new connections, one at a time, each asking a page of the mix
    twice (the pages in turn)."""
    pages = list(paths.values())

    async def run() -> list[tuple[float, float]]:
        return [await _twice(port, pages[i % len(pages)]) for i in range(REUSE_CONNECTIONS)]

    pairs = asyncio.run(run())
    return Reuse(
        connections=len(pairs),
        first_p50_ms=1000 * statistics.median(first for first, _ in pairs),
        second_p50_ms=1000 * statistics.median(second for _, second in pairs),
    )


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * len(sorted_values)) - 1))
    return sorted_values[index]


async def _load(
    port: int, paths: list[tuple[str, str]], clients: int, per_client: int
) -> tuple[list[Sample], float]:
    deadline = time.monotonic() + TIME_LIMIT_S
    began = time.perf_counter()
    results = await asyncio.gather(
        *(_client(port, paths, c, per_client, deadline) for c in range(clients))
    )
    return [s for r in results for s in r], time.perf_counter() - began


def load(port: int, paths: dict[str, str], clients: int, per_client: int) -> Phase:
    """`clients` kept-alive connections, `per_client` requests each, all at once."""
    samples, took = asyncio.run(_load(port, list(paths.items()), clients, per_client))
    answered = [s for s in samples if s.status]
    ms = sorted(1000 * s.seconds for s in answered)
    by_kind = {
        kind: statistics.median([1000 * s.seconds for s in answered if s.kind == kind] or [0.0])
        for kind in paths
    }
    return Phase(
        clients=clients,
        requests=len(answered),
        seconds=took,
        errors=sum(1 for s in answered if s.status != 200),
        unfinished=len(samples) - len(answered),
        per_s=len(answered) / took,
        p50_ms=_percentile(ms, 0.50),
        p90_ms=_percentile(ms, 0.90),
        p99_ms=_percentile(ms, 0.99),
        max_ms=ms[-1] if ms else float("nan"),
        p50_ms_by_kind=by_kind,
    )


# --- the portal, served as users serve it ---------------------------------------------------


def write_config(folder: Path, database: Path, storage: Path) -> Path:
    """A config.json in `folder` naming the workspace's database and storage."""
    config = folder / "config.json"
    config.write_text(
        json.dumps(
            {"name": "bench", "tracking_uri": f"sqlite:///{database}", "storage_uri": str(storage)}
        )
    )
    return config


@contextmanager
def portal(config: Path, workers: int, log: Path) -> Iterator[int]:
    """`python -m tracking.portal --workers N` on 127.0.0.1; stopped by its pid (SIGTERM,
    then SIGKILL after 20 s). Yields the port."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("TRACKING_PORTAL_TOKEN", None)
    command = [sys.executable, "-m", "tracking.portal", "--config", str(config)]
    command += ["--port", str(port), "--workers", str(workers), "--refresh", "60"]
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/api/experiments", timeout=60, process=process)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Row:
    """One server configuration: its phases and the figures its goals are set on."""

    workers: int
    reuse: Reuse
    one: Phase
    many: Phase
    scaling: float  # many.per_s / one.per_s
    p99_over_one_p50: float
    little_bound: float  # the least p99 / one-client p50 that many.per_s allows


def measure(config: Path, runs: int, workers: int, experiment: str, log: Path) -> Row:
    """Serve with `workers` workers; warm up; one client; then CLIENTS clients."""
    paths = mix(experiment, runs)
    with portal(config, workers, log) as port:
        progress(f"portal load, {workers} worker(s): warm-up")
        load(port, paths, WARM_UP_CLIENTS, len(paths))
        progress(f"portal load, {workers} worker(s): {REUSE_CONNECTIONS} connections x 2 requests")
        reused = reuse(port, paths)
        progress(f"portal load, {workers} worker(s): 1 client x {ONE_CLIENT_REQUESTS} requests")
        one = load(port, paths, 1, ONE_CLIENT_REQUESTS)
        progress(f"portal load, {workers} worker(s): {CLIENTS} clients x {REQUESTS_PER_CLIENT}")
        many = load(port, paths, CLIENTS, REQUESTS_PER_CLIENT)
    return Row(
        workers=workers,
        reuse=reused,
        one=one,
        many=many,
        scaling=many.per_s / one.per_s,
        p99_over_one_p50=many.p99_ms / one.p50_ms,
        # p99 >= mean latency = CLIENTS / throughput (Little's law, a closed loop).
        little_bound=(1000 * CLIENTS / many.per_s) / one.p50_ms,
    )


def result(rows: list[Row], runs: int) -> dict[str, Any]:
    """The JSON figures (what `tests/bench/run.py` keeps under `portal_load`)."""
    return {
        "runs": runs,
        "cores": os.cpu_count(),
        "clients": CLIENTS,
        "requests_per_client": REQUESTS_PER_CLIENT,
        "one_client_requests": ONE_CLIENT_REQUESTS,
        "time_limit_s": TIME_LIMIT_S,
        "reuse_connections": REUSE_CONNECTIONS,
        "goals": {
            "reuse_ms": GOAL_REUSE_MS,
            "scaling": GOAL_SCALING,
            "p99_over_one_p50": GOAL_P99_OVER_P50,
        },
        "rows": [
            {
                **asdict(r),
                "reuse": {**asdict(r.reuse), "slower_ms": r.reuse.slower_ms},
            }
            for r in rows
        ],
    }


def table(figures: dict[str, Any]) -> list[str]:
    """The figures as a markdown table, one line per worker count."""
    lines = [
        f"| workers | 1 client req/s | 1 client p50 ms | {figures['clients']} clients req/s "
        "| p50 ms | p99 ms | scaling (goal >= 1.5) | p99 / 1-client p50 (goal <= 5) "
        "| Little's bound | errors |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in figures["rows"]:
        one, many = r["one"], r["many"]
        errors = one["errors"] + many["errors"] + many["unfinished"]
        lines.append(
            f"| {r['workers']} | {one['per_s']:.0f} | {one['p50_ms']:.1f} | {many['per_s']:.0f} "
            f"| {many['p50_ms']:.0f} | {many['p99_ms']:.0f} | {r['scaling']:.2f} "
            f"| {r['p99_over_one_p50']:.1f} | {r['little_bound']:.1f} | {errors} |"
        )
    return lines


def reuse_table(figures: dict[str, Any]) -> list[str]:
    """A kept-alive connection's second request against its first, per worker count."""
    goal = figures["goals"]["reuse_ms"]
    lines = [
        "| workers | connections | first request p50 ms | second request p50 ms "
        f"| second - first ms (goal <= {goal:g}) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in figures["rows"]:
        reused = r["reuse"]
        lines.append(
            f"| {r['workers']} | {reused['connections']} | {reused['first_p50_ms']:.1f} "
            f"| {reused['second_p50_ms']:.1f} | {reused['slower_ms']:+.1f} |"
        )
    return lines


def kinds_table(figures: dict[str, Any]) -> list[str]:
    """p50 by request kind, one client and many, per worker count."""
    kinds = list(figures["rows"][0]["one"]["p50_ms_by_kind"])
    lines = ["| workers | clients | " + " | ".join(f"{k} p50 ms" for k in kinds) + " |"]
    lines.append("|---:|---:|" + "---:|" * len(kinds))
    for r in figures["rows"]:
        for phase in (r["one"], r["many"]):
            cells = " | ".join(f"{phase['p50_ms_by_kind'][k]:.1f}" for k in kinds)
            lines.append(f"| {r['workers']} | {phase['clients']} | {cells} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--workers", type=int, nargs="+", default=list(WORKER_COUNTS))
    parser.add_argument("--folder", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()
    from tests.bench.portal_bench import EXPERIMENT, fill
    from tracking import Workspace

    folder = (args.folder or Path("bench-results") / f"portal-{args.runs}").absolute()
    workspace = Workspace(
        "bench",
        tracking_uri=f"sqlite:///{folder / 'records.db'}",
        storage_uri=str(folder / "storage"),
    )
    progress(f"filling {folder} up to {args.runs:,} runs")
    fill(workspace, args.runs)
    workspace.close()
    config = write_config(folder, folder / "records.db", folder / "storage")
    rows = [
        measure(config, args.runs, n, EXPERIMENT, folder / f"portal-{n}-workers.log")
        for n in args.workers
    ]
    figures = result(rows, args.runs)
    print(
        f"\nportal at {args.runs:,} runs, {os.cpu_count()} cores: 1 client x "
        f"{ONE_CLIENT_REQUESTS} requests, then {CLIENTS} clients x {REQUESTS_PER_CLIENT}, "
        "kept-alive connections, no think time\n"
    )
    print("\n".join(reuse_table(figures)))
    print()
    print("\n".join(table(figures)))
    print()
    print("\n".join(kinds_table(figures)))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
        progress(f"wrote {args.json}")


if __name__ == "__main__":
    main()
