"""`make run`'s process: the development server and the scheduler, stopped together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from pdtracker import ROOT, create_app
from pdtracker.extensions import db
from tests.notifications.smtp import free_port


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    if not path.exists():
        pytest.skip("this kernel does not list child processes in /proc")
    return [int(p) for p in path.read_text().split()]


def _alive(pid: int) -> bool:
    """Running, or exited but never waited for (a zombie: the parent forgot it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_stopping_make_run_stops_the_web_server_and_the_scheduler(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "PDTRACKER_SECRET_KEY": "devserver-test"}
    log = (tmp_path / "devserver.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "pdtracker.devserver", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=log,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login") as r:
                    assert r.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, (
                    tmp_path / "devserver.log"
                ).read_text()
                time.sleep(0.2)
        children = _children(server.pid)
        assert len(children) == 2  # flask run and the scheduler
        server.send_signal(signal.SIGTERM)  # as a supervisor or `kill` would
        assert server.wait(timeout=20) == 0
        assert [pid for pid in children if _alive(pid)] == []
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        log.close()
