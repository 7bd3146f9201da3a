"""A pytest plugin that turns the `reliability`-marked tests into a table of cases.

Each marked test gives `case`, `fault` and `expected` in its marker and what it saw with
`record_property("observed", ...)`. A test that records nothing (an older test marked for
the report) is shown by its outcome. The instances of one parametrized test are one row.

Loaded by `python -m tests.reliability --report` (`-p tests.reliability.plugin`); the
`--reliability-markdown FILE` option also writes the table as Markdown.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

MARKER = "reliability"
COLUMNS = ("case", "fault injected", "expected", "observed", "result")
MAX_VARIANTS_SHOWN = 4  # a parametrized test with more variants is summarised


@dataclass
class Row:
    """One case's test (all instances of a parametrized test together)."""

    case: int
    test: str
    fault: str
    expected: str
    outcomes: list[str] = field(default_factory=list)  # "passed", "failed", "skipped"
    observed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # failure or skip messages
    by_variant: list[tuple[str, str]] = field(default_factory=list)  # (observed, outcome)

    @property
    def result(self) -> str:
        if "failed" in self.outcomes:
            return "FAIL"
        if not self.outcomes or all(o == "skipped" for o in self.outcomes):
            return "SKIP"
        return "pass"

    def observation(self) -> str:
        passed, total = self.outcomes.count("passed"), len(self.outcomes)
        seen = list(dict.fromkeys(self.observed))
        if total > MAX_VARIANTS_SHOWN and len(seen) > 1:
            # Many variants: the count, one that held, and every one that did not.
            failing = [o for o, outcome in self.by_variant if outcome != "passed"]
            held = next((o for o, outcome in self.by_variant if outcome == "passed"), None)
            seen = ([f"e.g. {held}"] if held else []) + failing
        text = "; ".join(seen)
        if total > 1:
            text = f"{passed} of {total} variants held" + (f": {text}" if text else "")
        elif not text:
            text = "held as asserted" if passed else ""
        if self.problems:
            text = (text + " | " if text else "") + " | ".join(dict.fromkeys(self.problems))
        return text


def _short(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        message = str(crash.message)
    elif isinstance(report.longrepr, tuple):  # a skip: (file, line, reason)
        message = str(report.longrepr[-1])
    else:
        message = str(report.longrepr)
    first = message.strip().splitlines()[0] if message.strip() else report.outcome
    return textwrap.shorten(f"{report.when}: {first}", 300)


class ReliabilityReport:
    """Collects the marked tests' markers, outcomes and observations; prints the table."""

    def __init__(self, markdown: Path | None) -> None:
        self.markdown = markdown
        self.rows: dict[str, Row] = {}
        self.outcome: dict[str, str] = {}  # nodeid -> outcome of the test as a whole

    def _row(self, item: pytest.Item) -> Row | None:
        marker = item.get_closest_marker(MARKER)
        if marker is None:
            return None
        function = getattr(item, "originalname", item.name)
        key = f"{item.nodeid.split('::')[0]}::{function}"
        if key not in self.rows:
            kwargs = dict(marker.kwargs)
            missing = {"case", "fault", "expected"} - set(kwargs)
            if missing:
                raise pytest.UsageError(f"{key}: its reliability marker lacks {sorted(missing)}")
            self.rows[key] = Row(int(kwargs["case"]), key, kwargs["fault"], kwargs["expected"])
        return self.rows[key]

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, Any, None]:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        row = self._row(item)
        if row is None:
            return
        previous = self.outcome.get(item.nodeid)
        if report.failed or (report.skipped and previous is None):
            self.outcome[item.nodeid] = report.outcome
            row.problems.append(_short(report))
        elif report.when == "call" and previous is None:
            self.outcome[item.nodeid] = "passed"
        if report.when == "teardown":
            result = self.outcome.pop(item.nodeid, "passed")
            observed = [str(v) for k, v in item.user_properties if k == "observed"]
            row.outcomes.append(result)
            row.observed.extend(observed)
            row.by_variant.append(("; ".join(observed) or item.name, result))

    def sorted_rows(self) -> list[Row]:
        return sorted(self.rows.values(), key=lambda r: (r.case, r.test))

    def cells(self, row: Row) -> list[str]:
        return [str(row.case), row.fault, row.expected, row.observation(), row.result]

    def markdown_cells(self, row: Row) -> list[str]:
        return [*self.cells(row), f"`{row.test}`"]

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        rows = self.sorted_rows()
        write = terminalreporter.write_line
        terminalreporter.section("reliability report")
        if not rows:
            write("no reliability case ran")
            return
        width = max(100, shutil.get_terminal_size((140, 40)).columns)
        for line in render_text([self.cells(r) for r in rows], width):
            write(line)
        failed = sum(r.result == "FAIL" for r in rows)
        write(f"{len(rows)} tests in {len({r.case for r in rows})} cases, {failed} failed")
        if self.markdown is not None:
            self.markdown.write_text(render_markdown([self.markdown_cells(r) for r in rows]))
            write(f"markdown table written to {self.markdown}")


def render_text(rows: list[list[str]], width: int) -> list[str]:
    """A boxed table whose text columns wrap to fit `width` characters."""
    fixed = {0: 4, 4: 6}
    free = width - sum(fixed.values()) - 3 * len(COLUMNS) - 1
    shares = {1: 0.27, 2: 0.27, 3: 0.46}
    widths = [fixed.get(i) or max(12, int(free * shares[i])) for i in range(len(COLUMNS))]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def lines_of(cells: list[str]) -> list[str]:
        wrapped = [textwrap.wrap(c, w) or [""] for c, w in zip(cells, widths, strict=True)]
        height = max(len(w) for w in wrapped)
        return [
            "| "
            + " | ".join(
                (w[i] if i < len(w) else "").ljust(widths[j]) for j, w in enumerate(wrapped)
            )
            + " |"
            for i in range(height)
        ]

    out = [rule, *lines_of(list(COLUMNS)), rule.replace("-", "=")]
    for row in rows:
        out += [*lines_of(row), rule]
    return out


def render_markdown(rows: list[list[str]]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    header = [*COLUMNS, "test"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--reliability-markdown",
        metavar="FILE",
        default=None,
        help="also write the reliability report's table as Markdown to FILE",
    )


def pytest_configure(config: pytest.Config) -> None:
    markdown = config.getoption("--reliability-markdown")
    config.pluginmanager.register(
        ReliabilityReport(Path(markdown) if markdown else None), "reliability-report"
    )
