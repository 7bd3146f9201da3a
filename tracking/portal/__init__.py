"""The web portal: a workspace's experiments, runs, charts and files, in the browser.

`create_app(workspace)` builds the ASGI app (tests run it in-process);
`python -m tracking.portal` serves it with uvicorn. Needs the `portal` extra.
"""

from __future__ import annotations

from tracking.portal.app import create_app

__all__ = ["create_app"]
