"""Make the README's two screenshots, as a new user would see them.

- `docs/images/portal-experiment.png`: the portal's page of the experiment
  `diabetes-experiment` after the quick start's sweep (`python -m sweep.launch`, default
  settings, on a local Ray it starts and stops), served by `python -m tracking.portal`.
- `docs/images/notebook-sweep.png`: the cells of `tests/notebooks/sweep.ipynb` that run
  `run_sweep` and show its result, with their outputs (the live progress table and the
  `SweepResult` display), executed in a fresh kernel and rendered as JupyterLab shows them.

Everything runs in a temporary folder with no config.json (so the embedded workspace is
used), which is removed at the end with every process the script started. Rerun it after a
change to what the portal or the notebook shows:

    python scripts/screenshots.py [--out docs/images]

It needs developer tools that are not project dependencies: `pip install nbconvert
playwright`, and Debian's Chromium at /usr/bin/chromium (`apt-get install chromium`).
It takes a minute or two: two small sweeps, each on a local Ray instance of its own.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "tests" / "notebooks" / "sweep.ipynb"
CHROMIUM = "/usr/bin/chromium"
EXPERIMENT = "diabetes-experiment"
SWEEP_TIMEOUT_S = 900  # the quick start takes 30-60 s; much longer on a busy 2-core machine
PORTAL_TIMEOUT_S = 60
RAY_EXIT_WAIT_S = 20  # how long a stopped Ray may take to end all its processes
PORTAL_VIEWPORT = {"width": 1280, "height": 900}
NOTEBOOK_VIEWPORT = {"width": 1000, "height": 900}
NOTEBOOK_SCALE = 2  # a small image: sharp text at twice the pixels
MAX_PAGE_HEIGHT = 1800  # a taller experiment page is clipped to this

STARTED = time.monotonic()


class Failure(Exception):
    """Stop with this one-line message."""


def say(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f}s] {message}", flush=True)


# -- processes -------------------------------------------------------------------------


def processes_mentioning(text: str) -> list[int]:
    """Pids of the processes whose command line contains `text` (this process excluded)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:  # ended meanwhile, or not ours to read
            continue
        if text.encode() in cmdline:
            found.append(int(entry.name))
    return found


def wait_gone(text: str, timeout: float) -> list[int]:
    """Wait up to `timeout` for the processes mentioning `text` to end; those still alive."""
    deadline = time.monotonic() + timeout
    while (left := processes_mentioning(text)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left


def end_pids(pids: list[int]) -> None:
    """SIGTERM the processes `pids` (this script's own), then SIGKILL those that stay."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [pid for pid in alive if Path(f"/proc/{pid}").exists()]
    for pid in alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def check_ray_stopped(ray_dir: Path, after: str) -> None:
    """Every process of the Ray instances this script started (their command lines name
    `ray_dir`, their RAY_TMPDIR) ends soon after `after`; those left are ended and said."""
    left = wait_gone(str(ray_dir), RAY_EXIT_WAIT_S)
    if left:
        say(f"WARNING: {len(left)} Ray processes left after {after}; ending them: {left}")
        end_pids(left)
    else:
        say(f"no Ray process left after {after}")


def stop(process: subprocess.Popen[Any] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def last_line(log: Path) -> str:
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines()]
    lines = [line for line in lines if line]
    return lines[-1] if lines else "(no output)"


# -- the steps ---------------------------------------------------------------------------


def spawn(args: list[str], work: Path, env: dict[str, str], out: IO[str]) -> subprocess.Popen[str]:
    """This Python running `args` in `work`, its output (both streams) to `out`."""
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT,
        text=True,
    )


def run_quick_start(work: Path, env: dict[str, str], log: Path) -> None:
    """`python -m sweep.launch` in `work`, as the quick start says; its output to `log`."""
    say(f"running the quick start's sweep: python -m sweep.launch (in {work}; log {log.name})")
    with log.open("w") as out:
        process = spawn(["-m", "sweep.launch"], work, env, out)
        try:
            code = process.wait(SWEEP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            stop(process)
            raise Failure(
                f"the sweep did not end in {SWEEP_TIMEOUT_S} s: {last_line(log)}"
            ) from None
        finally:
            stop(process)
    if code != 0:
        raise Failure(f"the sweep exited {code}: {last_line(log)}")
    say(f"sweep done (exit 0): {last_line(log)}")


@contextlib.contextmanager
def portal(work: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    """`python -m tracking.portal` on loopback in `work`, on a port it picks; its URL."""
    say("starting the portal: python -m tracking.portal --host 127.0.0.1 --port 0")
    with log.open("w") as out:
        args = ["-m", "tracking.portal", "--host", "127.0.0.1", "--port", "0"]
        process = spawn(args, work, env, out)
    try:
        url = _portal_url(process, log)
        say(f"portal answers at {url} (pid {process.pid})")
        yield url
    finally:
        stop(process)
        say(f"portal stopped (pid {process.pid})")


def _portal_url(process: subprocess.Popen[Any], log: Path) -> str:
    """The portal's URL, once it says it and answers a request."""
    deadline = time.monotonic() + PORTAL_TIMEOUT_S
    url = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise Failure(f"the portal exited {process.returncode}: {last_line(log)}")
        if url is None:
            found = re.search(r"at (http://127\.0\.0\.1:\d+)/", log.read_text(errors="replace"))
            url = found.group(1) if found else None
        if url is not None:
            try:
                with urllib.request.urlopen(f"{url}/", timeout=5) as response:
                    if response.status == 200:
                        return url
            except (urllib.error.URLError, OSError):
                pass
        time.sleep(0.3)
    raise Failure(f"the portal did not answer in {PORTAL_TIMEOUT_S} s: {last_line(log)}")


def shoot_experiment_page(browser: Any, url: str, out: Path) -> None:
    """The experiment page once its charts are drawn: the whole page, up to a height."""
    page = browser.new_page(viewport=PORTAL_VIEWPORT, device_scale_factor=1)
    try:
        response = page.goto(f"{url}/experiments/{EXPERIMENT}", wait_until="load")
        if response is None or response.status != 200:
            status = response.status if response else "no response"
            raise Failure(f"the experiment page answered {status}")
        # Polled from here: the page's CSP (script-src 'self') refuses wait_for_function's eval.
        deadline = time.monotonic() + 30
        while page.evaluate("document.body.dataset.charts") != "drawn":
            if time.monotonic() > deadline:
                raise Failure("the experiment page did not draw its charts in 30 s")
            page.wait_for_timeout(100)
        page.evaluate("document.fonts.ready")
        rows = page.locator("#runs-table tbody tr[data-run-id]").count()
        height = page.evaluate("document.documentElement.scrollHeight")
        say(f"experiment page drawn: {rows} runs in its table, {height} px tall")
        if rows == 0:
            raise Failure("the experiment page shows no runs")
        clip = {"x": 0, "y": 0, "width": PORTAL_VIEWPORT["width"], "height": height}
        clip["height"] = min(height, MAX_PAGE_HEIGHT)
        page.screenshot(path=str(out), full_page=True, clip=clip)
    finally:
        page.close()


def execute_notebook(work: Path, log: Path) -> Any:
    """`tests/notebooks/sweep.ipynb` executed in a new `python3` kernel in `work`; the
    kernel's own output (not the cells') to `log`."""
    import nbclient
    import nbformat

    say(f"executing {NOTEBOOK.relative_to(REPO)} in a new python3 kernel (log {log.name})")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=SWEEP_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(work)}},
    )
    with log.open("w") as out:
        try:
            client.execute(stdout=out, stderr=out)
        except nbclient.exceptions.CellExecutionError as err:
            message = [line for line in str(err).strip().splitlines() if line.strip()]
            raise Failure(f"the notebook failed: {message[-1] if message else err}") from None
    say("notebook executed; its kernel is shut down")
    return notebook


def sweep_cells(notebook: Any) -> list[str]:
    """The ids of the cell that calls run_sweep and of the one after it (its result)."""
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for index, cell in enumerate(code):
        if "run_sweep(" in cell.source:
            chosen = code[index : index + 2]
            break
    else:
        raise Failure(f"no cell of {NOTEBOOK.name} calls run_sweep")
    shown = "".join(str(o.get("data", {}).get("text/html", "")) for c in chosen for o in c.outputs)
    for expected in ("sweep-progress", "sweep-result"):
        if expected not in shown:
            raise Failure(f"the notebook's sweep cells show no {expected!r} output")
    # What a Ray worker printed (a crash while it exits, say) is forwarded to the cell as
    # `(pid=N) ...` lines: not what a sweep shows as a rule, so not for the README.
    stderr = "".join(
        o.get("text", "") for c in chosen for o in c.outputs if o.get("name") == "stderr"
    )
    stray = [line for line in stderr.splitlines() if re.match(r"\((\w+ )?pid=\d+", line)]
    if stray:
        raise Failure(
            f"the sweep cell shows {len(stray)} lines from Ray workers, first {stray[0]!r}: "
            "run the script again"
        )
    return [cell.id for cell in chosen]


def render_notebook(notebook: Any, html: Path) -> None:
    """The executed notebook as HTML, in nbconvert's JupyterLab look."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(notebook)
    html.write_text(body, encoding="utf-8")
    say(f"notebook rendered to HTML ({len(body) // 1024} KB)")


def shoot_cells(browser: Any, html: Path, cell_ids: list[str], out: Path) -> None:
    """The cells `cell_ids` of the rendered notebook, with their outputs, as one image."""
    page = browser.new_page(viewport=NOTEBOOK_VIEWPORT, device_scale_factor=NOTEBOOK_SCALE)
    # The page's CDN scripts (RequireJS, MathJax) are not needed to show the outputs.
    page.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort(),
    )
    try:
        page.goto(html.as_uri(), wait_until="load")
        page.evaluate("document.fonts.ready")
        boxes = []
        for cell_id in cell_ids:
            box = page.locator(f'[id="cell-id={cell_id}"]').bounding_box()
            if box is None:
                raise Failure(f"cell {cell_id} is not on the rendered page")
            boxes.append(box)
        top = min(b["y"] for b in boxes)
        bottom = max(b["y"] + b["height"] for b in boxes)
        left = min(b["x"] for b in boxes)
        right = max(b["x"] + b["width"] for b in boxes)
        # The cells' own padding is the margin: no more, or the cells beside them show.
        clip = {"x": left, "y": top, "width": right - left, "height": bottom - top}
        page.screenshot(path=str(out), full_page=True, clip=clip)
    finally:
        page.close()


def png_size(path: Path) -> str:
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return f"{width}x{height}, {path.stat().st_size // 1024} KB"


# -- main ------------------------------------------------------------------------------


def check_tools() -> None:
    for module in ("nbclient", "nbformat", "nbconvert", "playwright", "ipykernel"):
        try:
            __import__(module)
        except ImportError:
            raise Failure(f"needs {module}: pip install nbconvert playwright") from None
    if not Path(CHROMIUM).exists():
        raise Failure(f"needs Chromium at {CHROMIUM}: apt-get install chromium")


def make(out_dir: Path, keep: bool) -> None:
    check_tools()
    out_dir.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix="raysweep-"))
    work = temp / "my-project"  # the folder a user runs the quick start in
    work.mkdir()
    ray_dir = temp / "ray"  # RAY_TMPDIR: names every process of the Rays started here
    ray_dir.mkdir()
    shots = temp / "images"
    shots.mkdir()
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)  # each sweep starts its own local Ray
    env["RAY_TMPDIR"] = str(ray_dir)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)  # for the notebook's kernel, which inherits this environment
    try:
        run_quick_start(work, env, temp / "sweep.log")
        check_ray_stopped(ray_dir, "the sweep")

        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--headless"]
            )
            try:
                with portal(work, env, temp / "portal.log") as url:
                    shot = shots / "portal-experiment.png"
                    shoot_experiment_page(browser, url, shot)
                    say(f"experiment page shot ({png_size(shot)})")

                notebook = execute_notebook(work, temp / "kernel.log")
                check_ray_stopped(ray_dir, "the notebook's kernel")
                cell_ids = sweep_cells(notebook)
                html = temp / "sweep.html"
                render_notebook(notebook, html)
                shot = shots / "notebook-sweep.png"
                shoot_cells(browser, html, cell_ids, shot)
                say(f"notebook cells shot ({png_size(shot)})")
            finally:
                browser.close()
        for shot in sorted(shots.iterdir()):  # both or neither
            shutil.copyfile(shot, out_dir / shot.name)
            say(f"wrote {out_dir / shot.name} ({png_size(shot)})")
    finally:
        os.environ.clear()
        os.environ.update(saved)
        left = processes_mentioning(str(ray_dir))
        if left:
            say(f"ending {len(left)} Ray processes this script started: {left}")
            end_pids(left)
        if keep:
            say(f"kept the work folder {temp}")
        else:
            shutil.rmtree(temp, ignore_errors=True)


def _interrupted(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO / "docs" / "images",
        help="the folder to write the PNGs to (default: docs/images of this repository)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary folder (logs, workspace, HTML)"
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupted)  # cleans up as on Ctrl-C
    say(f"making the README's screenshots into {args.out}")
    try:
        make(args.out.resolve(), args.keep)
    except Failure as failure:
        print(f"screenshots: {failure}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("screenshots: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # one line, not a traceback
        message = str(err).strip().splitlines()
        print(
            f"screenshots: {type(err).__name__}: {message[0] if message else ''}", file=sys.stderr
        )
        return 1
    say("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
