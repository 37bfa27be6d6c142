"""A fault-injecting TCP proxy for connection-fault tests (toxiproxy-style, pure Python threads).

`FaultProxy(host, port)` listens on 127.0.0.1:<random> and forwards bytes both ways. On command:
- `reset_peer()` closes every client connection with SO_LINGER 0, i.e. a TCP RST, like
  toxiproxy's reset_peer toxic (F1: connection dropped mid-transaction);
- `vanish()` makes the proxy's end of every client connection disappear without a FIN or RST
  (TCP_REPAIR, Linux, needs CAP_NET_ADMIN): the client's socket stays "established" and nothing
  more arrives, as when the peer host dies. Only TCP keepalive notices it (F2: half-open);
- `hang()` stops forwarding but keeps the sockets (toxiproxy's timeout toxic with timeout 0);
  `heal()` forwards again. The `fault_proxy` fixture is a factory closed after the test.

Toxics (toxiproxy's model, tests/faults): `add_toxic(kind, value)` switches one on for every
connection, present and future, until `clear_toxics()`; all act on the server->client stream
except `timeout`, which stops both. `latency` (ms added to every chunk, order kept),
`bandwidth` (bytes/s), `slicer` (chunks cut into `value`-byte slices, each sent on its own),
`limit_data` (the connection is closed once `value` more bytes went down it), `timeout`
(nothing gets through; the connection is closed `value` ms later, never when 0) and
`reset_peer` (a TCP RST `value` ms after the toxic met the connection; new connections are
reset as they arrive).
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

TCP_REPAIR = 19  # linux/tcp.h
TOXICS = ("latency", "bandwidth", "slicer", "limit_data", "timeout", "reset_peer")


@dataclass
class Turns:
    """The round trips counted by `FaultProxy.counting()`, read after the block."""

    count: int = 0


class _Delayed:
    """One direction of one connection with a fixed delay: chunks leave in order, `ms` later."""

    def __init__(
        self, dst: socket.socket, ms: float, sent: Callable[[], None] | None = None
    ) -> None:
        self.dst = dst
        self.delay = ms / 1000
        self.sent = sent  # told as each chunk goes to `dst`
        self._queue: deque[tuple[float, bytes]] = deque()
        self._ready = threading.Condition()
        self._closed = False
        threading.Thread(target=self._send, daemon=True, name="fault-proxy-delay").start()

    def put(self, data: bytes, ms: float | None = None) -> None:
        delay = self.delay if ms is None else ms / 1000
        with self._ready:
            self._queue.append((time.monotonic() + delay, data))
            self._ready.notify()

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify()

    def _send(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._closed:
                    self._ready.wait()
                if not self._queue:
                    return
                due, data = self._queue.popleft()
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            if self.sent is not None:  # before the send: the client may answer at once
                self.sent()
            try:
                self.dst.sendall(data)
            except OSError:
                return


class FaultProxy:
    """A forwarding proxy whose connections can be reset, hung, delayed or made to vanish."""

    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        *,
        latency_ms: tuple[float, float] = (0.0, 0.0),
    ) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.latency_ms = latency_ms
        self._turns = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._forwarding = threading.Event()
        self._forwarding.set()
        self._toxics: dict[str, float] = {}
        self._closed = False
        threading.Thread(target=self._accept, daemon=True, name="fault-proxy").start()

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._pairs)

    @property
    def round_trips(self) -> int:
        """Request/response turns seen since the proxy started, over every connection."""
        with self._lock:
            return self._turns

    @contextlib.contextmanager
    def counting(self) -> Iterator[Turns]:
        """The round trips of the block (read `.count` after it)."""
        turns = Turns()
        before = self.round_trips
        try:
            yield turns
        finally:
            turns.count = self.round_trips - before

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
            for sock in (client, server):  # no Nagle: a pipeline's sends would wait for ACKs
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._pairs.append((client, server))
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        peers = {client: server, server: client}
        to_server, to_client = self.latency_ms
        # A round trip is the client speaking again after an answer reached it: what a
        # pipeline sends before its first answer arrives is one turn, however many writes
        # (psycopg flushes each queued query) and however fast the server answers the first.
        answered = threading.Event()
        answered.set()  # the client's first message opens the first turn
        delayed = {
            sock: _Delayed(peers[sock], ms, answered.set if sock is server else None)
            for sock, ms in ((client, to_server), (server, to_client))
            if ms > 0
        }
        met: dict[str, float] = {}  # toxic -> when this connection first met it
        sent_down = 0  # bytes sent to the client since limit_data met this connection
        try:
            while not self._closed:
                if not self._forwarding.is_set():
                    self._forwarding.wait(0.1)
                    continue
                toxics = self.toxics
                now = time.monotonic()
                for kind in list(met):
                    if kind not in toxics:
                        del met[kind]
                for kind in toxics:
                    met.setdefault(kind, now)
                if "limit_data" not in met:
                    sent_down = 0
                if self._expired(toxics, met, now, client, server):
                    return
                readable, _, _ = select.select(list(peers), [], [], 0.05 if toxics else 0.1)
                for sock in readable:
                    if not self._forwarding.is_set():
                        break
                    data = sock.recv(65536)
                    if not data:
                        return
                    if "timeout" in toxics:
                        continue  # swallowed: nothing gets through either way
                    if sock is client and answered.is_set():
                        answered.clear()
                        with self._lock:
                            self._turns += 1
                    if sock is server and toxics:
                        if "limit_data" in toxics:
                            room = max(0, int(toxics["limit_data"]) - sent_down)
                            data, over = data[:room], len(data) > room
                            sent_down += len(data)
                            self._down(client, server, data, toxics, delayed, answered)
                            if over:
                                return
                            continue
                        self._down(client, server, data, toxics, delayed, answered)
                    elif sock in delayed:
                        delayed[sock].put(data)
                    else:
                        if sock is server:
                            answered.set()
                        peers[sock].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for link in delayed.values():
                link.close()
            self._drop(client, server)

    def _expired(
        self,
        toxics: dict[str, float],
        met: dict[str, float],
        now: float,
        client: socket.socket,
        server: socket.socket,
    ) -> bool:
        """Apply the timed toxics (reset_peer, timeout > 0); True when the connection is over."""
        if "reset_peer" in toxics and now - met["reset_peer"] >= toxics["reset_peer"] / 1000:
            self._reset(client, server)
            return True
        timeout = toxics.get("timeout", 0)
        return bool(timeout) and now - met["timeout"] >= timeout / 1000  # pump's end closes

    def _down(
        self,
        client: socket.socket,
        server: socket.socket,
        data: bytes,
        toxics: dict[str, float],
        delayed: dict[socket.socket, _Delayed],
        answered: threading.Event,
    ) -> None:
        """Send server->client bytes through the downstream toxics."""
        if "latency" in toxics or server in delayed:  # once delayed, always: order is kept
            if server not in delayed:
                delayed[server] = _Delayed(client, 0, answered.set)
            delayed[server].put(data, toxics.get("latency"))
            return
        size = len(data)
        if "slicer" in toxics:
            size = max(1, int(toxics["slicer"]))
        if "bandwidth" in toxics:
            size = min(size, max(1, int(toxics["bandwidth"] / 20)))  # 20 sends a second
        for start in range(0, len(data), size):
            piece = data[start : start + size]
            answered.set()
            client.sendall(piece)
            if "bandwidth" in toxics:
                time.sleep(len(piece) / toxics["bandwidth"])
            elif "slicer" in toxics:
                time.sleep(0.00005)  # each slice its own segment (TCP_NODELAY), no more

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
            self._reset(client, server)

    @staticmethod
    def _reset(client: socket.socket, server: socket.socket) -> None:
        with contextlib.suppress(OSError):
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        for sock in (client, server):
            with contextlib.suppress(OSError):
                sock.close()

    @property
    def toxics(self) -> dict[str, float]:
        with self._lock:
            return dict(self._toxics)

    def add_toxic(self, kind: str, value: float = 0) -> None:
        """Switch a toxic on for every connection, present and future (see the module doc)."""
        if kind not in TOXICS:
            raise ValueError(f"unknown toxic {kind!r}")
        with self._lock:
            self._toxics[kind] = float(value)

    def clear_toxics(self) -> None:
        with self._lock:
            self._toxics.clear()

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
def fault_proxy() -> Iterator[Callable[..., FaultProxy]]:
    """Factory: fault_proxy(host, port) -> a running FaultProxy, closed after the test."""
    made: list[FaultProxy] = []

    def make(host: str, port: int, **options: Any) -> FaultProxy:
        proxy = FaultProxy(host, port, **options)
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.close()
