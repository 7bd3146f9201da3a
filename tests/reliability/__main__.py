"""`python -m tests.reliability [--report] [--markdown FILE] [PYTEST ARGS...]`.

Runs the reliability cases (`pytest -m reliability`, the marked tests anywhere under tests/).
With `--report` it prints a table of case, fault injected, expected, observed and pass/fail
after the run; `--markdown FILE` also writes that table as Markdown. Any other argument goes
to pytest (`-k worker`, `-x`, a path). The exit code is pytest's: non-zero if a case failed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import pytest


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.reliability",
        description="Run the reliability (fault-injection) cases; other arguments go to pytest.",
    )
    parser.add_argument("--report", action="store_true", help="print the table of cases")
    parser.add_argument("--markdown", metavar="FILE", help="also write the table as Markdown")
    args, rest = parser.parse_known_args(argv)
    pytest_args = ["-m", "reliability", *rest]
    if args.report or args.markdown:
        pytest_args += ["-p", "tests.reliability.plugin"]
        if args.markdown:
            pytest_args += ["--reliability-markdown", args.markdown]
    return int(pytest.main(pytest_args))


if __name__ == "__main__":
    sys.exit(main())
