"""A local WebSocket server that speaks Slack's Socket Mode envelope format (hello, envelopes, acks)."""

from __future__ import annotations

import json
import queue
import threading
import uuid
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve


class SocketModeServer:
    """Accepts the app's connection, says hello, sends envelopes, and collects the app's acks."""

    def __init__(self) -> None:
        self._server: Server | None = None
        self._connections: list[ServerConnection] = []
        self._connected = threading.Event()
        self.acks: dict[str, dict[str, Any]] = {}
        self._ack_arrived = threading.Condition()
        self.inbox: queue.Queue[dict[str, Any]] = queue.Queue()

    def start(self) -> SocketModeServer:
        """Listens on a free loopback port."""
        self._server = serve(self._handle, "127.0.0.1", 0)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        """The wss-like URL apps.connections.open hands out (plain ws on loopback)."""
        assert self._server is not None
        port = self._server.socket.getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket={uuid.uuid4()}&app_id=A0SECREV"

    def _handle(self, connection: ServerConnection) -> None:
        connection.send(json.dumps({"type": "hello", "num_connections": 1,
                                    "debug_info": {"host": "local", "approximate_connection_time": 3600},
                                    "connection_info": {"app_id": "A0SECREV"}}))
        self._connections.append(connection)
        self._connected.set()
        try:
            for raw in connection:
                data = json.loads(raw)
                if "envelope_id" in data:
                    with self._ack_arrived:
                        self.acks[data["envelope_id"]] = data
                        self._ack_arrived.notify_all()
                else:
                    self.inbox.put(data)
        except ConnectionClosed:
            pass

    def wait_connected(self, timeout: float = 10.0) -> None:
        """Waits for the app to connect."""
        if not self._connected.wait(timeout):
            raise TimeoutError("the app did not connect over Socket Mode")

    def send(self, envelope: dict[str, Any]) -> None:
        """Sends one envelope to the connected app."""
        self._connections[-1].send(json.dumps(envelope))

    def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The app's ack for an envelope (with its response payload, if any)."""
        with self._ack_arrived:
            if not self._ack_arrived.wait_for(lambda: envelope_id in self.acks, timeout):
                raise TimeoutError(f"no ack for {envelope_id}")
            return self.acks[envelope_id]

    def stop(self) -> None:
        """Closes the server and every connection."""
        if self._server is not None:
            self._server.shutdown()
