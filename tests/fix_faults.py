"""A fault-injecting TCP proxy for connection-fault tests (toxiproxy-style, pure Python threads).

`FaultProxy(host, port)` listens on 127.0.0.1:<random> and forwards bytes both ways. On command:
- `reset_peer()` closes every client connection with SO_LINGER 0, i.e. a TCP RST, like
  toxiproxy's reset_peer toxic (F1: connection dropped mid-transaction);
- `vanish()` makes the proxy's end of every client connection disappear without a FIN or RST
  (TCP_REPAIR, Linux, needs CAP_NET_ADMIN): the client's socket stays "established" and nothing
  more arrives, as when the peer host dies. Only TCP keepalive notices it (F2: half-open);
- `hang()` stops forwarding but keeps the sockets (toxiproxy's timeout toxic with timeout 0);
  `heal()` forwards again. The `fault_proxy` fixture is a factory closed after the test.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
from collections.abc import Callable, Iterator

import pytest

TCP_REPAIR = 19  # linux/tcp.h


class FaultProxy:
    """A forwarding proxy whose connections can be reset, hung or made to vanish."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._forwarding = threading.Event()
        self._forwarding.set()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True, name="fault-proxy").start()

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._pairs)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, server))
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        peers = {client: server, server: client}
        try:
            while not self._closed:
                if not self._forwarding.is_set():
                    self._forwarding.wait(0.1)
                    continue
                readable, _, _ = select.select(list(peers), [], [], 0.1)
                for sock in readable:
                    if not self._forwarding.is_set():
                        break
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            self._drop(client, server)

    def _drop(self, client: socket.socket, server: socket.socket) -> None:
        with self._lock:
            if (client, server) in self._pairs:
                self._pairs.remove((client, server))
        for sock in (client, server):
            with contextlib.suppress(OSError):
                sock.close()

    def _take_all(self) -> list[tuple[socket.socket, socket.socket]]:
        with self._lock:
            pairs, self._pairs = self._pairs, []
        return pairs

    def reset_peer(self) -> None:
        """Send a TCP RST to every client (and drop the server side too)."""
        for client, server in self._take_all():
            with contextlib.suppress(OSError):
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            for sock in (client, server):
                with contextlib.suppress(OSError):
                    sock.close()

    def vanish(self) -> None:
        """Forget every client connection silently: no FIN, no RST (a dead peer host)."""
        self._forwarding.clear()  # stop the pumps before the sockets go
        for client, server in self._take_all():
            client.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR, 1)  # close() now sends nothing
            client.close()
            with contextlib.suppress(OSError):
                server.close()
        self._forwarding.set()

    def hang(self) -> None:
        """Stop forwarding (connections stay open, nothing gets through)."""
        self._forwarding.clear()

    def heal(self) -> None:
        self._forwarding.set()

    def close(self) -> None:
        self._closed = True
        self._forwarding.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        self.reset_peer()


@pytest.fixture
def fault_proxy() -> Iterator[Callable[[str, int], FaultProxy]]:
    """Factory: fault_proxy(host, port) -> a running FaultProxy, closed after the test."""
    made: list[FaultProxy] = []

    def make(host: str, port: int) -> FaultProxy:
        proxy = FaultProxy(host, port)
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.close()
