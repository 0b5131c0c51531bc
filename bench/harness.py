"""Processes and clients of the benchmark: gunicorn, Radicale, wrk, logging in."""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
LUA = BENCH / "wrk.lua"
VENV_BIN = Path(sys.executable).parent
START_TIMEOUT = 60.0
_CSRF = re.compile(
    r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"'
)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_listening(proc: subprocess.Popen, port: int, log: Path, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port}:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    """End one process we started, by its id (gunicorn stops its workers itself)."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


class Gunicorn:
    """pdtracker (plus the ceiling route) under gunicorn.conf.py, 2 sync workers."""

    def __init__(
        self,
        url: str,
        ceiling_file: Path,
        log: Path,
        workers: int = 2,
        max_requests: int | None = None,
    ):
        self.max_requests = max_requests
        self.port = free_port()
        self.url = url
        self.ceiling_file = ceiling_file
        self.log = log
        self.workers = workers
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        """http://127.0.0.1:<port>"""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Gunicorn:
        env = dict(os.environ)
        env |= {
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": str(self.workers),
            "DATABASE_URL": self.url.replace("postgresql+psycopg://", "postgresql://"),
            "PDTRACKER_SECRET_KEY": "bench-secret-key-not-for-production",
            "BENCH_CEILING_FILE": str(self.ceiling_file),
            "PYTHONPATH": str(ROOT),
        }
        command = [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py"]
        if self.max_requests is not None:  # 0: never recycle a worker
            command += ["--max-requests", str(self.max_requests)]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [*command, "bench.ceiling_app:app"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
        _wait_listening(self.proc, self.port, self.log, "gunicorn")
        # Both workers must have built their app before anything is measured.
        for _ in range(20):
            get(self.base + "/healthz")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            _stop(self.proc)

    def worker_pids(self) -> list[int]:
        """The workers' process ids (children of the arbiter)."""
        if self.proc is None:
            return []
        out = subprocess.run(
            ["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True
        ).stdout
        return [int(p) for p in out.split()]


class Radicale:
    """A real CalDAV server on 127.0.0.1 holding one collection: the teacher's feed."""

    USER = "bench"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def collection(self) -> str:
        """The collection's URL."""
        return f"http://127.0.0.1:{self.port}/{self.USER}/pd-feed/"

    @property
    def authorization(self) -> str:
        """Basic auth naming Radicale's user (auth type none accepts any password)."""
        return "Basic " + base64.b64encode(f"{self.USER}:unused".encode()).decode()

    def __enter__(self) -> Radicale:
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir.mkdir(parents=True)
        config = self.workdir / "radicale.conf"
        config.write_text(
            "[server]\n"
            f"hosts = 127.0.0.1:{self.port}\n"
            "[auth]\n"
            "type = none\n"
            "[rights]\n"
            "type = owner_only\n"
            "[storage]\n"
            f"filesystem_folder = {self.workdir / 'collections'}\n"
            "[logging]\n"
            "level = warning\n"
            "mask_passwords = True\n"
        )
        log = self.workdir / "radicale.log"
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "radicale", "--config", str(config)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        _wait_listening(self.proc, self.port, log, "radicale")
        return self

    def put(self, body: bytes) -> int:
        """Store the calendar as the collection (Radicale splits it per UID)."""
        return request(
            "PUT",
            self.collection,
            body=body,
            headers={
                "Content-Type": "text/calendar; charset=utf-8",
                "Authorization": self.authorization,
            },
        ).status

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            _stop(self.proc)


# --- HTTP ---------------------------------------------------------------------------


@dataclass
class Reply:
    """A response, read whole."""

    status: int
    headers: dict[str, str]
    body: bytes
    cookies: dict[str, str] = field(default_factory=dict)


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
) -> Reply:
    """One request on a fresh connection; redirects are not followed."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        cookies = {}
        for name, value in resp.getheaders():
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _sep, val = pair.partition("=")
                cookies[key.strip()] = val.strip()
        return Reply(resp.status, dict(resp.getheaders()), data, cookies)
    finally:
        conn.close()


def get(url: str, headers: dict[str, str] | None = None) -> Reply:
    """GET without following redirects."""
    return request("GET", url, headers=headers)


def drain(base: str, workers: int = 2) -> None:
    """Wait until requests abandoned by a finished wrk run have been served.

    A sync worker still answers requests whose client has gone; one request per
    worker sent now is queued behind them, so when all have answered the server is
    idle again and the next measurement starts clean.
    """
    threads = [
        threading.Thread(
            target=lambda: request("GET", base + "/healthz", timeout=900), daemon=True
        )
        for _ in range(workers)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def csrf_token(html: bytes) -> str:
    """The CSRF token of the first form on a page."""
    found = _CSRF.search(html.decode("utf-8", "replace"))
    if not found:
        raise RuntimeError("no csrf_token on the page")
    return found.group(1) or found.group(2)


class Session:
    """A browser-like client with a cookie, logged in through the real /login form."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies: dict[str, str] = {}

    @property
    def cookie(self) -> str:
        """The Cookie header."""
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def _send(self, method: str, path: str, **kwargs: object) -> Reply:
        headers = dict(kwargs.pop("headers", None) or {})  # type: ignore[arg-type]
        if self.cookies:
            headers["Cookie"] = self.cookie
        reply = request(method, self.base + path, headers=headers, **kwargs)  # type: ignore[arg-type]
        self.cookies |= reply.cookies
        return reply

    def get(self, path: str) -> Reply:
        """GET a path of the app."""
        return self._send("GET", path)

    def post_form(self, path: str, fields: dict[str, str]) -> Reply:
        """POST an urlencoded form."""
        return self._send(
            "POST",
            path,
            body=urllib.parse.urlencode(fields).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    def login(self, username: str, password: str) -> Session:
        """Fetch /login for its CSRF token, post the form, check the redirect."""
        token = csrf_token(self.get("/login").body)
        reply = self.post_form(
            "/login",
            {"csrf_token": token, "username": username, "password": password},
        )
        if reply.status != 302:
            raise RuntimeError(f"login of {username} failed: {reply.status}")
        return self


# --- wrk ----------------------------------------------------------------------------


@dataclass
class Load:
    """What one wrk run measured."""

    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    bytes: int

    @property
    def rps(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        """JSON-ready."""
        return self.__dict__ | {"rps": round(self.rps, 1)}


def ensure_wrk() -> str:
    """wrk's path, installing the Debian package when missing and allowed (root)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=False,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        found = shutil.which("wrk")
        if not found:
            subprocess.run(["apt-get", "update", "-qq"], check=False)
            subprocess.run(["apt-get", "install", "-y", "wrk"], check=False,
                           stdout=subprocess.DEVNULL)  # fmt: skip
            found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is needed: apt-get install wrk")
    return found


def wrk(
    url: str,
    *,
    duration: float,
    connections: int = 16,
    threads: int = 1,
    headers: dict[str, str] | None = None,
) -> Load:
    """Drive ``url`` with wrk at ``connections`` connections for ``duration`` s."""
    headers = headers or {}
    env = dict(os.environ)
    env["BENCH_COOKIE"] = headers.get("Cookie", "")
    env["BENCH_IF_NONE_MATCH"] = headers.get("If-None-Match", "")
    env["BENCH_AUTHORIZATION"] = headers.get("Authorization", "")
    out = subprocess.run(
        [ensure_wrk(), f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s",
         "--timeout", "30s", "--latency", "-s", str(LUA), url],
        capture_output=True, text=True, env=env, check=True,
    ).stdout  # fmt: skip
    line = next(x for x in out.splitlines() if x.startswith("BENCH_JSON "))
    data = json.loads(line.removeprefix("BENCH_JSON "))
    socket_errors = sum(
        data[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
    )
    return Load(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        errors=data["status_errors"] + socket_errors,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p95_ms=data["p95_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        bytes=data["bytes"],
    )
