"""The reliability suite: faults, load and hostile input, each case asserting what must hold.

Every case is marked `@pytest.mark.reliability(case=N, fault=..., expected=...)` and records
what it saw with `record_property("observed", ...)`; `python -m tests.reliability --report`
runs them and prints the table (see `tests/reliability/plugin.py`).
"""
