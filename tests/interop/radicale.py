"""pytest fixture: a throw-away Radicale CalDAV server on 127.0.0.1.

Radicale runs as a subprocess of the current interpreter (``python -m radicale``) with
no authentication, owner-only rights and storage in a temp dir, on a free port. The
fixture yields the base URL (``http://127.0.0.1:<port>/``) and kills the server by
its PID on teardown. Any user name is accepted; a user may only touch ``/<user>/``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

START_TIMEOUT = 20.0


def _free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_listening(proc: subprocess.Popen, port: int, log: Path) -> None:
    """Block until the server accepts connections, or fail with its log."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"radicale exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"radicale did not listen on {port}:\n{log.read_text()}")


@pytest.fixture
def radicale_server(tmp_path: Path) -> Iterator[str]:
    """Start Radicale for one test; yield its base URL."""
    pytest.importorskip("radicale", reason="radicale is not installed")
    port = _free_port()
    config = tmp_path / "radicale.conf"
    config.write_text(
        "[server]\n"
        f"hosts = 127.0.0.1:{port}\n"
        "[auth]\n"
        "type = none\n"
        "[rights]\n"
        "type = owner_only\n"
        "[storage]\n"
        f"filesystem_folder = {tmp_path / 'collections'}\n"
        "[logging]\n"
        "level = warning\n"
        "mask_passwords = True\n"
    )
    log = tmp_path / "radicale.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        _wait_listening(proc, port, log)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()  # this PID only: never a broad kill
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def put_feed(server: str, user: str, collection: str, feed: bytes) -> int:
    """PUT a whole calendar as one collection of `user` (Radicale takes the user from
    Basic auth with auth type none; anonymous PUTs get 409). Returns the HTTP status."""
    import base64
    import urllib.request

    request = urllib.request.Request(
        f"{server}{user}/{collection}/",
        data=feed,
        method="PUT",
        headers={
            "Content-Type": "text/calendar; charset=utf-8",
            "Authorization": "Basic "
            + base64.b64encode(f"{user}:unused".encode()).decode(),
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return response.status


def stored_calendar(server: str, user: str, collection: str, feed: bytes) -> Iterator:
    """Store `feed` in Radicale and yield it as a caldav Calendar (for a fixture)."""
    import caldav

    assert put_feed(server, user, collection, feed) == 201
    client = caldav.DAVClient(
        url=f"{server}{user}/",
        username=user,
        password="unused",
        require_tls=False,
        enable_rfc6764=False,
        timeout=30,
    )
    with client:
        yield client.calendar(url=f"{server}{user}/{collection}/")
