"""Fetch a subscribed calendar URL safely: SSRF checks, size and time caps, conditional GET.

Pure stdlib (http.client) so the connection can be pinned to the address that passed the
checks: a second DNS answer (rebinding) cannot redirect the request to an internal host.
Environment proxies are deliberately ignored for the same reason.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit, urlunsplit

MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 3
# Outlook/Office 365 published calendars refuse non-browser agents (docs/calendar-feeds.md I3).
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
ERROR_CODES = (
    "bad_url",
    "bad_scheme",
    "dns_failed",
    "blocked_address",
    "connection_failed",
    "tls_error",
    "timeout",
    "too_large",
    "too_many_redirects",
    "http_status",
)
_REDIRECTS = (301, 302, 303, 307, 308)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class FetchResult:
    """A successful fetch; ``body`` is None when the server answered 304."""

    status: Literal["ok", "not_modified"]
    body: bytes | None
    etag: str | None
    last_modified: str | None
    final_url: str


class FetchError(Exception):
    """A refused or failed fetch; ``code`` is one of ERROR_CODES."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def fetch_calendar(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    timeout: float = 10,
    max_bytes: int = MAX_BYTES,
    allow_private: bool = False,
) -> FetchResult:
    """GET a calendar URL (https/webcal only) with SSRF, size and time limits."""
    return _fetch(
        url,
        etag=etag,
        last_modified=last_modified,
        timeout=timeout,
        max_bytes=max_bytes,
        allow_http=allow_private,
        address_ok=(lambda _ip: True) if allow_private else is_public_address,
    )


def normalise_url(url: str, *, allow_http: bool = False) -> str:
    """Rewrite webcal:// to https:// and refuse anything but https (or http if allowed)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme in ("webcal", "webcals"):
        scheme = "https"
    if scheme != "https" and not (allow_http and scheme == "http"):
        raise FetchError("bad_scheme", scheme or "(none)")
    if not parts.hostname or parts.username or parts.password:
        # Credentials in the URL would be stored and logged with it.
        raise FetchError("bad_url", "missing host or embedded credentials")
    try:
        port = parts.port
        host = parts.hostname.encode("idna").decode("ascii")
    except (ValueError, UnicodeError) as exc:
        raise FetchError("bad_url", str(exc)) from exc
    netloc = f"[{host}]" if ":" in host else host
    netloc += f":{port}" if port else ""
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def is_public_address(ip: IPAddress) -> bool:
    """True if the address is globally routable unicast (also for embedded IPv4)."""
    if not ip.is_global or ip.is_multicast or ip.is_reserved:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = [ip.ipv4_mapped, ip.sixtofour]
        if ip.teredo:
            embedded.append(ip.teredo[1])
        if ip in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        return all(is_public_address(v4) for v4 in embedded if v4 is not None)
    return True


def _fetch(
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    timeout: float,
    max_bytes: int,
    allow_http: bool,
    address_ok: Callable[[IPAddress], bool],
) -> FetchResult:
    deadline = time.monotonic() + timeout
    url = normalise_url(url, allow_http=allow_http)
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": "text/calendar, text/plain;q=0.9, */*;q=0.5",
        # We do not decompress; ask for the plain body so max_bytes means bytes.
        "Accept-Encoding": "identity",
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    for _hop in range(MAX_REDIRECTS + 1):
        conn, response = _request(url, headers, deadline, address_ok)
        try:
            if response.status in _REDIRECTS:
                location = response.getheader("Location")
                if not location:
                    raise FetchError(
                        "http_status", f"{response.status} without Location"
                    )
                url = normalise_url(urljoin(url, location), allow_http=allow_http)
                continue
            if response.status == 304:
                return FetchResult(
                    "not_modified",
                    None,
                    response.getheader("ETag") or etag,
                    response.getheader("Last-Modified") or last_modified,
                    url,
                )
            if response.status != 200:
                raise FetchError("http_status", str(response.status))
            body = _read_body(conn, response, max_bytes, deadline)
            return FetchResult(
                "ok",
                body,
                response.getheader("ETag"),
                response.getheader("Last-Modified"),
                url,
            )
        finally:
            conn.close_all()
    raise FetchError("too_many_redirects", f"more than {MAX_REDIRECTS}")


def _request(
    url: str,
    headers: dict[str, str],
    deadline: float,
    address_ok: Callable[[IPAddress], bool],
) -> tuple[_PinnedMixin, http.client.HTTPResponse]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = _resolve(host, port, address_ok)
    target = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    last_error: OSError | None = None
    for address in addresses:
        conn = _connection(parts.scheme, host, port, address, _remaining(deadline))
        try:
            conn.request("GET", target, headers=headers)
            return conn, conn.getresponse()
        except ssl.SSLError as exc:
            conn.close_all()
            raise FetchError("tls_error", str(exc)) from exc
        except TimeoutError as exc:
            conn.close_all()
            raise FetchError("timeout", f"connecting to {host}") from exc
        except (OSError, http.client.HTTPException) as exc:
            conn.close_all()
            last_error = exc if isinstance(exc, OSError) else OSError(str(exc))
    raise FetchError("connection_failed", str(last_error))


def _resolve(
    host: str, port: int, address_ok: Callable[[IPAddress], bool]
) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError("dns_failed", host) from exc
    addresses: list[str] = []
    for info in infos:
        text = str(info[4][0]).split("%", 1)[0]
        ip = ipaddress.ip_address(text)
        # Every answer must pass: an attacker controls which one we would pick.
        if not address_ok(ip):
            raise FetchError("blocked_address", f"{host} resolves to {ip}")
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise FetchError("dns_failed", host)
    return addresses


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError("timeout", "overall time limit reached")
    return left


def _connection(
    scheme: str, host: str, port: int, address: str, timeout: float
) -> _PinnedMixin:
    if scheme == "https":
        return _PinnedHTTPSConnection(host, port, address=address, timeout=timeout)
    return _PinnedHTTPConnection(host, port, address=address, timeout=timeout)


class _PinnedMixin(http.client.HTTPConnection):
    """Connect to a pre-checked address and close every response on close()."""

    # An instance attribute here: a factory that records each response it makes.
    response_class: Any

    def _pin(self, address: str) -> None:
        self._address = address
        self._live: socket.socket | None = None
        self._responses: list[http.client.HTTPResponse] = []
        # http.client keeps the socket open through the response's file object; a
        # response abandoned by an exception (timeout) would leak it.
        self.response_class = self._make_response

    def _make_response(
        self, sock: socket.socket, *args: Any, **kwargs: Any
    ) -> http.client.HTTPResponse:
        response = http.client.HTTPResponse(sock, *args, **kwargs)
        self._responses.append(response)
        return response

    def _open_socket(self) -> socket.socket:
        return socket.create_connection((self._address, self.port), self.timeout)

    def set_timeout(self, seconds: float) -> None:
        """Apply a timeout to the live socket, even after the response took it over."""
        if self._live is not None:
            self._live.settimeout(seconds)

    def close_all(self) -> None:
        """Close responses created on this connection, then the connection."""
        for response in self._responses:
            response.close()
        self.close()


class _PinnedHTTPConnection(_PinnedMixin):
    """HTTP connection to a pre-checked address; Host header keeps the name."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._pin(address)

    def connect(self) -> None:
        """Connect to the checked address instead of resolving again."""
        self.sock = self._live = self._open_socket()


class _PinnedHTTPSConnection(_PinnedMixin, http.client.HTTPSConnection):
    """HTTPS connection to a pre-checked address; SNI and certificate use the name."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._pin(address)

    def connect(self) -> None:
        """Connect to the checked address, then verify TLS against the host name."""
        sock = self._open_socket()
        try:
            self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)
            self._live = self.sock
        except BaseException:
            sock.close()
            raise


def _read_body(
    conn: _PinnedMixin,
    response: http.client.HTTPResponse,
    max_bytes: int,
    deadline: float,
) -> bytes:
    declared = response.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError("too_large", f"Content-Length {declared} > {max_bytes}")
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            # Per-read socket timeouts alone would let a slow drip run forever.
            conn.set_timeout(_remaining(deadline))
            chunk = response.read1(64 * 1024)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise FetchError("too_large", f"body exceeds {max_bytes} bytes")
            chunks.append(chunk)
    except TimeoutError as exc:
        raise FetchError("timeout", "reading the body") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError("connection_failed", str(exc)) from exc
    return b"".join(chunks)
