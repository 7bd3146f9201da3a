"""Where the portal's blocking endpoints run: each process's page threads.

The endpoints read the records store, which blocks, so they run in threads. How many at
once matters: the work is Python's, under one GIL, and threads that take turns on it cost
CPU for the turns. Served by `python -m tracking.portal` at 100,000 runs, 50 kept-alive
clients made each request cost 12 ms of the server's CPU with 8 threads against 6-7 ms with
one, which is what one client's requests cost (`tests/bench/portal_load.py`). So a process
runs its pages and API calls one at a time (`PAGE_THREADS`), queued in its event loop,
and more processes (`--workers N`) serve more at once. File downloads keep Starlette's own
thread pool: hashing and streaming a large file must not hold up the pages.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from starlette.requests import Request
from starlette.responses import Response

PAGE_THREADS = 1

Endpoint = Callable[[Request], Response]


def page_threads(count: int = PAGE_THREADS) -> ThreadPoolExecutor:
    """The threads an app's blocking endpoints share (kept as its `state.page_threads`);
    they end when the app is dropped."""
    return ThreadPoolExecutor(count, thread_name_prefix="portal-page")


def in_page_threads(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
    """`endpoint` as an async endpoint that runs it in its app's page threads."""

    @functools.wraps(endpoint)
    async def run(request: Request) -> Response:
        threads: ThreadPoolExecutor = request.app.state.page_threads
        return await asyncio.get_running_loop().run_in_executor(threads, endpoint, request)

    return run
