"""A tiny TCP listener on loopback that records every connection made to it: where an attacker's URL points."""

from __future__ import annotations

import socket
import threading
from types import TracebackType


class TcpSink:
    """Accepts connections on a free loopback port, keeps the first bytes of each, answers a bare 200."""

    def __init__(self) -> None:
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self._server.settimeout(0.2)
        self.port = int(self._server.getsockname()[1])
        self._received: list[bytes] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="tcp-sink", daemon=True)

    @property
    def url(self) -> str:
        """An http URL on the sink, shaped like a response_url."""
        return f"http://127.0.0.1:{self.port}/commands/T0ATTACK/1/secret"

    def received(self) -> list[bytes]:
        """The first bytes of every connection so far (empty: nobody called)."""
        with self._lock:
            return list(self._received)

    def __enter__(self) -> TcpSink:
        self._thread.start()
        return self

    def __exit__(self, *_: object | TracebackType | None) -> None:
        self._stopping.set()
        self._thread.join(5)
        self._server.close()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with connection:
                connection.settimeout(1.0)
                try:
                    data = connection.recv(4096)
                    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    data = b"(connection without a request)"
            with self._lock:
                self._received.append(data or b"(empty connection)")
