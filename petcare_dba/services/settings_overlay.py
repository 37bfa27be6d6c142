"""Run-time overrides layered over the configured settings, on every instance, without a restart.

An admin's change (services/settings_admin.py) is a row in the metadata store's `setting_overrides`
(migration 0032); secrets there are sealed with the keyring like connection credentials, under the
purpose `setting:<name>`. Each runtime keeps an `Overlay`: it reads the rows at start, as the
process itself (no user: the RLS policy lets a signed-in non-admin see none), and a small thread
reads them again every `settings_refresh_s` seconds, or at once when another instance signals a
change on the cache's invalidation bus (LISTEN/NOTIFY on the store, or Redis pub/sub; the polling
stays as the bound when a signal is lost); when they changed it hands the runtime new effective
settings (`Settings.layered`: the override beats a default, never a value pinned in the file or
environment). So a page rerun never costs a metadata round trip, the instance that made a change
applies it at once, every other one about as fast as the bus, and within `settings_refresh_s` at
most. A row that no longer checks (a setting renamed or made non-editable, bounds tightened by an
upgrade, a value sealed under a lost key) is skipped and named in the log, never its value.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from petcare_dba.db.metastore import Identity, MetaStore
from petcare_dba.errors import PetcareError
from petcare_dba.services import crypto
from petcare_dba.settings import Settings, coerce_declared, setting

log = logging.getLogger(__name__)

# The process itself, not a user: the only identity besides an admin that reads the rows.
SYSTEM = Identity(None, "system")
_MIN_GAP_S = 0.2


def purpose(name: str) -> str:
    """The associated data a secret setting is sealed with: a blob moved to another row fails."""
    return f"setting:{name}"


def read(store: MetaStore, keyring: crypto.Keyring) -> dict[str, Any]:
    """The stored overrides, opened and checked against the registry (bad rows skipped)."""
    with store.tx(SYSTEM) as tx:
        rows = tx.all("setting_overrides_all")
    values: dict[str, Any] = {}
    for row in rows:
        name = str(row["name"])
        try:
            decl = setting(name)
            if not decl.runtime_editable:
                log.warning("settings: ignoring the stored override of %s (not editable)", name)
                continue
            if row["secret_enc"] is not None:
                raw: Any = keyring.open(bytes(row["secret_enc"]), purpose(name))
            else:
                raw = row["value_text"]
            values[name] = coerce_declared(decl, raw)
        except PetcareError as exc:
            # The class only: a message may quote the value, and the value may be a secret.
            log.warning(
                "settings: ignoring the stored override of %s (%s)", name, type(exc).__name__
            )
    return values


class Overlay:
    """The configured settings, the overrides last read, and the thread that reads them."""

    def __init__(
        self,
        store: MetaStore,
        keyring: crypto.Keyring,
        base: Settings,
        on_change: Callable[[Settings], None] | None = None,
    ) -> None:
        self.store = store
        self.keyring = keyring
        self.base = base
        self.on_change = on_change
        self.values: dict[str, Any] = {}
        self.refreshes = 0  # reads of the store, for tests and health
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def effective(self) -> Settings:
        """The configured settings with the overrides over what is still at its default."""
        return self.base.layered(self.values)

    def refresh(self) -> bool:
        """Read the overrides now; True (and `on_change` called) when they changed."""
        with self._lock:
            fresh = read(self.store, self.keyring)
            self.refreshes += 1
            if fresh == self.values:
                return False
            self.values = fresh
            effective = self.effective()
        if self.on_change is not None:
            self.on_change(effective)
        return True

    def start(self) -> None:
        """Start the thread that reads the overrides every settings_refresh_s seconds."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="petcare-settings", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look again now (another instance signalled a change on the cache bus)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        interval = float(self.base.settings_refresh_s)
        while True:
            woken = self._wake.wait(interval)
            if self._stop.is_set():
                return
            self._wake.clear()
            try:
                self.refresh()
            except PetcareError as exc:
                # The store is down: keep the values last read; the next look tries again.
                log.warning("settings: overrides not refreshed: %s", exc.message)
            except Exception as exc:  # the thread must outlive any one look (a bug included)
                log.warning("settings: overrides not refreshed (%s)", type(exc).__name__)
            if woken:
                # At most a few reads a second whatever wakes it: anyone who reaches the store
                # may NOTIFY on its channel, so a flood of signals is not a flood of reads.
                self._stop.wait(_MIN_GAP_S)
