"""Work a request hands off to run after its response: one background writer per runtime.

The SQL engine's audit outcome and execution-log update are durable-after-the-fact records
(reliability A2): the intent was committed before the statement ran (A1), so the outcome need not
hold up the user's answer. `Deferred.submit` queues such a write for one daemon thread, in order;
`settle` waits until everything queued so far has been written (what a reader of the history in
this process, or a test, does instead of sleeping); `close` settles before the runtime closes
its metadata pool. A process that dies with writes still queued loses them: the intents they
would have closed stay open and the reconcile job marks them 'unknown', as after any crash.
`held` keeps the queue from running while a benchmark or test measures the request path;
`settle_all` is the read-your-writes barrier of readers that have no runtime at hand (the audit
log's listing reads through the store alone).
"""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterator

Work = Callable[[], None]

_live: weakref.WeakSet[Deferred] = weakref.WeakSet()


def settle_all(timeout: float = 30.0) -> bool:
    """Settle every writer of this process (each runtime has one); False if one timed out."""
    return all([writer.settle(timeout) for writer in list(_live)])


class Deferred:
    """A FIFO of writes run by one lazily started daemon thread."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: deque[Work] = deque()
        self._busy = False
        self._holds = 0
        self._closed = False
        self._thread: threading.Thread | None = None
        _live.add(self)

    def submit(self, work: Work) -> None:
        """Queue `work`; after `close` (or from a closed runtime) it runs at once, inline."""
        with self._cond:
            if not self._closed:
                self._queue.append(work)
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, daemon=True, name="petcare-deferred"
                    )
                    self._thread.start()
                self._cond.notify_all()
                return
        _quietly(work)

    @property
    def pending(self) -> int:
        """Writes queued or running now."""
        with self._cond:
            return len(self._queue) + int(self._busy)

    def settle(self, timeout: float = 30.0) -> bool:
        """Wait until every write queued before this call has run; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._holds:
                return not (self._queue or self._busy)
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Keep queued writes waiting for the duration (they run when it ends)."""
        with self._cond:
            self._holds += 1
            while self._busy:  # a write already running finishes first
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._holds -= 1
                self._cond.notify_all()

    def close(self, timeout: float = 30.0) -> None:
        """Settle (at most `timeout` s), then stop the thread; later submissions run inline.

        Writes still queued after the timeout (the store is down) are dropped: their intents
        are reconciled to 'unknown', as after a crash.
        """
        self.settle(timeout)
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while (not self._queue or self._holds) and not self._closed:
                    self._cond.wait()
                if not self._queue:
                    return  # closed and drained
                work = self._queue.popleft()
                self._busy = True
            try:
                _quietly(work)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()


def _quietly(work: Work) -> None:
    # Each write handles its own failure (an outcome that cannot be written becomes 'unknown');
    # one that raises anyway must not stop the writes queued behind it.
    with contextlib.suppress(Exception):
        work()
