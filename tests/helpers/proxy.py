"""A TCP proxy on 127.0.0.1 that can play an unreachable endpoint, for fault-injection tests.

    with TcpProxy(("127.0.0.1", 9000)) as proxy:   # proxy.url -> http://127.0.0.1:<port>
        proxy.drop()     # cut open connections; new ones are accepted, then reset at once
        proxy.restore()  # pass connections through again

While dropping, every new connection is accepted and closed with a TCP reset (SO_LINGER 0),
as a failing load balancer does; connections open at the moment of `drop()` are reset too,
so a client's pooled keep-alive connection cannot carry on as if nothing happened.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from types import TracebackType

_BUFFER = 1 << 16


def _reset(sock: socket.socket) -> None:
    """Close `sock` with a TCP reset instead of an orderly FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class TcpProxy:
    """Forward connections from a free loopback port to `upstream`, until closed.

    Args:
        upstream: the (host, port) to forward to.
    """

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._dropping = False
        self._open: set[socket.socket] = set()
        self._closed = threading.Event()
        self.accepted = 0  # connections accepted in all
        self.refused = 0  # of those, connections reset because the proxy was dropping
        self._thread = threading.Thread(target=self._accept, name="tcp-proxy", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def dropping(self) -> bool:
        return self._dropping

    def drop(self) -> None:
        """From now on reset every connection, open ones included."""
        with self._lock:
            self._dropping = True
            sockets, self._open = self._open, set()
        for sock in sockets:
            _reset(sock)

    def restore(self) -> None:
        """Pass new connections through again."""
        with self._lock:
            self._dropping = False

    def close(self) -> None:
        """Stop listening and cut every connection."""
        self._closed.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        self.drop()
        self._thread.join(timeout=5)

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _accept(self) -> None:
        self._listener.settimeout(0.2)
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            if self._dropping:
                self.refused += 1
                _reset(client)
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection(self.upstream, timeout=10)
        except OSError:
            _reset(client)
            return
        server.settimeout(None)
        with self._lock:
            if self._dropping:
                _reset(client)
                _reset(server)
                return
            self._open.update((client, server))
        pump = threading.Thread(target=self._pump, args=(server, client), daemon=True)
        pump.start()
        self._pump(client, server)
        pump.join()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(_BUFFER):
                target.sendall(data)
        except OSError:
            pass
        # One side ended: end both, so that neither thread waits forever.
        with self._lock:
            self._open.discard(source)
            self._open.discard(target)
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
