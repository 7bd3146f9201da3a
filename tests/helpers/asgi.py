"""Requests straight into an ASGI app, bypassing any client's URL normalising."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import unquote


def raw_get(app: Any, raw_path: bytes, host: str = "127.0.0.1:8080") -> tuple[int, bytes]:
    """GET a raw request target through the ASGI app, as uvicorn would pass it (no
    normalising); returns the status and the whole body, streamed or not."""
    path, _, query = raw_path.partition(b"?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": unquote(path.decode("latin-1")),
        "raw_path": path,
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", host.encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }
    answer: dict[str, Any] = {"body": b""}

    async def run() -> None:
        requested, done = False, asyncio.Event()

        async def receive() -> dict[str, Any]:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await done.wait()  # the client stays until the whole answer is in
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif message["type"] == "http.response.body":
                answer["body"] += message.get("body", b"")
                if not message.get("more_body", False):
                    done.set()

        await app(scope, receive, send)

    asyncio.run(run())
    return answer["status"], answer["body"]
