"""Which feed a URL opens, kept in each worker's memory and current through NOTIFY.

Calendar apps poll every feed every few hours; 20,000 teachers make a steady stream
of requests that almost always find nothing changed. Answering each with a database
round trip (token → user → feed state) costs more than serving the cached bytes, so
each worker remembers the handles it has resolved and PostgreSQL tells it when one
goes stale:

* every change to a feed goes through :func:`pdtracker.changes.bump`, which also runs
  ``NOTIFY pdtracker_feeds, '<feed keys>'`` in the same transaction — delivered at
  commit, never for a rollback. Token rotation, role and account changes bump the
  owner's feeds too, so a retired URL is forgotten the same way;
* a listener thread per worker (its own connection, ``LISTEN pdtracker_feeds``)
  drops the handles of the keys it is told about;
* the worker's own commits drop their keys at once (``after_commit``), without
  waiting for the round trip through the server.

Nothing is served from memory unless the listener is connected: before it is, after
its connection drops and until it is back, every request asks the database, and
everything remembered before the drop is forgotten (notifications may have been
missed). A lookup that raced a notification is not stored (the epoch check in
:meth:`FeedDirectory.put`). SQLite has no NOTIFY: there every request asks the
database, which for SQLite is an in-process call. ``FEED_LISTEN = False`` turns
this off for deployments where LISTEN cannot work (a pooler in transaction mode).
See docs/deployment.md D6.
"""

from __future__ import annotations

import logging
import os
import select
import threading
from collections.abc import Hashable, Iterable
from typing import Any, NamedTuple

from flask import Flask, current_app

from pdtracker.caching import LRU

logger = logging.getLogger(__name__)

CHANNEL = "pdtracker_feeds"
ALL = "*"  # the payload that means "forget everything"
MAX_PAYLOAD = 7000  # PostgreSQL refuses payloads of 8,000 bytes or more
PING_SECONDS = 15.0  # an idle listener checks its connection this often
RETRY_SECONDS = (0.5, 1, 2, 5, 10, 30)
_EXTENSION = "pdtracker_feed_directory"
APPLICATION_NAME = (
    "pdtracker-feed-listener"  # how operators spot it in pg_stat_activity
)


def payload(keys: Iterable[str]) -> str:
    """The NOTIFY payload for these feed keys (``*`` when too long to list)."""
    text = ",".join(sorted(set(keys)))
    return text if len(text.encode()) <= MAX_PAYLOAD else ALL


def parse_payload(text: str) -> set[str] | None:
    """The feed keys a payload names; None for all of them."""
    if text == ALL:
        return None
    return {key for key in text.split(",") if key}


class FeedDirectory:
    """A bounded map from lookup keys to feed handles, emptied as feeds change."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._handles: LRU[Hashable, Any] = LRU(size, on_evict=self._unindex)
        self._by_feed: dict[str, set[Hashable]] = {}
        # Held around every change of the map, its index and the epoch together.
        self._lock = threading.Lock()
        self._epoch = 0
        self._live = False

    @property
    def live(self) -> bool:
        """Whether the listener is connected, so remembered handles can be trusted."""
        return self._live

    def epoch(self) -> int | None:
        """Read before a lookup query and hand to :meth:`put`; None: do not store."""
        return self._epoch if self._live else None

    def get(self, key: Hashable) -> Any | None:
        """The remembered handle, if the listener is live and nothing dropped it."""
        if not self._live:
            return None
        with self._lock:
            return self._handles.get(key)

    def put(self, key: Hashable, handle: Any, epoch: int | None) -> None:
        """Remember a handle read from the database at ``epoch``.

        Refused when a notification arrived since (the row read may predate it).
        """
        with self._lock:
            if not self._live or epoch is None or epoch != self._epoch:
                return
            self._drop(key)
            self._handles.put(key, handle)  # may evict the least recent: _unindex
            self._by_feed.setdefault(handle.feed_key, set()).add(key)

    def forget(self, feed_keys: Iterable[str] | None) -> None:
        """Drop the handles of these feeds (None: all of them)."""
        with self._lock:
            self._epoch += 1
            if feed_keys is None:
                self._handles.clear()
                self._by_feed.clear()
                return
            for feed_key in feed_keys:
                for key in self._by_feed.pop(feed_key, ()):
                    self._handles.pop(key)

    def set_live(self, live: bool) -> None:
        """Connected (or lost): either way, what was remembered before is dropped."""
        with self._lock:
            self._epoch += 1
            self._handles.clear()
            self._by_feed.clear()
            self._live = live

    def __len__(self) -> int:
        return len(self._handles)

    def _drop(self, key: Hashable) -> None:
        handle = self._handles.pop(key)
        if handle is not None:
            self._unindex(key, handle)

    def _unindex(self, key: Hashable, handle: Any) -> None:
        keys = self._by_feed.get(handle.feed_key)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_feed[handle.feed_key]


class Listener:
    """The thread that keeps a directory current: LISTEN, forget, reconnect."""

    def __init__(self, directory: FeedDirectory, dsn: str) -> None:
        self.directory = directory
        self._dsn = dsn
        self._stop = threading.Event()
        self._wake_r, self._wake_w = os.pipe()
        self.connected = threading.Event()  # for tests and health checks
        self.connections = 0  # LISTEN sessions opened so far (reconnects included)
        self.thread = threading.Thread(
            target=self._run, name="pdtracker-feed-listener", daemon=True
        )

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop listening and close the connection (waits for the thread)."""
        self._stop.set()
        os.write(self._wake_w, b"x")
        self.thread.join(timeout)
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            try:
                self._listen()
                attempt = 0
            except Exception as exc:  # noqa: BLE001 - any failure: go dark, retry
                logger.warning("feed listener: %s: %s", type(exc).__name__, exc)
            finally:
                self.connected.clear()
                self.directory.set_live(False)
            if self._stop.is_set():
                break
            delay = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
            attempt += 1
            self._sleep(delay)

    def _listen(self) -> None:
        import psycopg

        with psycopg.connect(
            self._dsn,
            autocommit=True,
            application_name=APPLICATION_NAME,
            connect_timeout=10,
            # A silently lost server (no RST) must not keep the worker trusting its
            # map: TCP gives up on it within about half a minute.
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=5,
            keepalives_count=3,
            tcp_user_timeout=15_000,
        ) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            self.directory.set_live(True)
            self.connections += 1
            self.connected.set()
            while not self._stop.is_set():
                readable, _w, _x = select.select(
                    [conn.fileno(), self._wake_r], [], [], PING_SECONDS
                )
                if self._wake_r in readable:
                    return
                if readable:
                    for note in conn.notifies(timeout=0):
                        self.directory.forget(parse_payload(note.payload))
                else:
                    # Idle: a round trip shows whether the connection still exists.
                    conn.execute("SELECT 1")

    def _sleep(self, seconds: float) -> None:
        select.select([self._wake_r], [], [], seconds)


def _dsn(app: Flask) -> str | None:
    from pdtracker.extensions import db

    with app.app_context():
        url = db.engine.url
    if url.get_backend_name() != "postgresql":
        return None
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class _State(NamedTuple):
    """What one process started for one app (a forked worker starts its own)."""

    pid: int
    directory: FeedDirectory | None
    listener: Listener | None


def _mine(app: Flask) -> _State | None:
    state = app.extensions.get(_EXTENSION)
    return state if state is not None and state.pid == os.getpid() else None


def current(app: Flask | None = None) -> FeedDirectory | None:
    """This worker's directory, its listener started on first use; None if off.

    Started lazily, in the process that serves requests: a gunicorn worker forks
    first, and the scheduler or a CLI command never starts one.
    """
    app = app or current_app
    state = _mine(app)
    if state is not None:
        return state.directory
    with _START_LOCK:
        state = _mine(app)
        if state is not None:
            return state.directory
        found: FeedDirectory | None = None
        listener: Listener | None = None
        dsn = _dsn(app) if app.config.get("FEED_LISTEN", True) else None
        if dsn is not None:
            found = FeedDirectory(int(app.config.get("FEED_DIRECTORY_SIZE", 50_000)))
            listener = Listener(found, dsn)
            listener.start()
        app.extensions[_EXTENSION] = _State(os.getpid(), found, listener)
        return found


_START_LOCK = threading.Lock()


def listener(app: Flask) -> Listener | None:
    """The app's running listener in this process, if any."""
    state = _mine(app)
    return None if state is None else state.listener


def shutdown(app: Flask) -> None:
    """Stop this process's listener for the app (tests; orderly exits)."""
    state = _mine(app)
    app.extensions.pop(_EXTENSION, None)
    if state is not None and state.listener is not None:
        state.listener.stop()


def forget_committed(app: Flask, keys: Iterable[str]) -> None:
    """This worker's own commit changed these feeds: drop them now, not on NOTIFY."""
    state = _mine(app)
    if state is not None and state.directory is not None:
        state.directory.forget(keys)
