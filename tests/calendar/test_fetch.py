"""Tests for the calendar URL fetcher against a real local HTTP(S) server."""

from __future__ import annotations

import ipaddress
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pdtracker.calendar import fetch
from pdtracker.calendar.fetch import (
    USER_AGENT,
    FetchError,
    fetch_calendar,
    is_public_address,
    normalise_url,
)

BODY = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
LOOPBACK = ipaddress.ip_address("127.0.0.1")


def only_127_0_0_1(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Address policy for tests: the test server's address is "public", others not."""
    return ip == LOOPBACK


def fetch_local(url: str, **kwargs) -> fetch.FetchResult:
    """Fetch through the real code path, treating only 127.0.0.1 as allowed."""
    options = {
        "etag": None,
        "last_modified": None,
        "timeout": 5,
        "max_bytes": fetch.MAX_BYTES,
        "allow_http": True,
        "address_ok": only_127_0_0_1,
    }
    return fetch._fetch(url, **{**options, **kwargs})


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    """Plain HTTP server bound to 127.0.0.1 only."""
    httpserver = HTTPServer(host="127.0.0.1", port=0)
    httpserver.start()
    yield httpserver
    httpserver.clear()
    httpserver.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for localhost/127.0.0.1."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl binary not available")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_server(
    certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> Iterator[HTTPServer]:
    """HTTPS server on 127.0.0.1 whose certificate the client trusts for this test."""
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    # ssl.create_default_context() reads SSL_CERT_FILE when it loads default CAs.
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    httpserver = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    httpserver.start()
    yield httpserver
    httpserver.clear()
    httpserver.stop()


def test_plain_get_sends_browser_user_agent(server: HTTPServer) -> None:
    server.expect_request("/cal.ics").respond_with_data(
        BODY,
        content_type="text/calendar",
        headers={"ETag": '"v1"', "Last-Modified": "Wed, 01 Apr 2026 00:00:00 GMT"},
    )
    result = fetch_local(server.url_for("/cal.ics"))
    assert result.status == "ok"
    assert result.body == BODY
    assert result.etag == '"v1"'
    assert result.last_modified == "Wed, 01 Apr 2026 00:00:00 GMT"
    request, _ = server.log[0]
    assert request.headers["User-Agent"] == USER_AGENT
    assert request.headers["User-Agent"].startswith("Mozilla/5.0")
    assert "If-None-Match" not in request.headers


def test_conditional_get_304(server: HTTPServer) -> None:
    server.expect_request(
        "/cal.ics", headers={"If-None-Match": '"v1"'}
    ).respond_with_data(b"", status=304, headers={"ETag": '"v1"'})
    result = fetch_local(server.url_for("/cal.ics"), etag='"v1"')
    assert result.status == "not_modified"
    assert result.body is None
    assert result.etag == '"v1"'


def test_if_modified_since_is_sent_and_kept_on_304(server: HTTPServer) -> None:
    stamp = "Wed, 01 Apr 2026 00:00:00 GMT"
    server.expect_request(
        "/cal.ics", headers={"If-Modified-Since": stamp}
    ).respond_with_data(b"", status=304)
    result = fetch_local(server.url_for("/cal.ics"), last_modified=stamp)
    assert result.status == "not_modified"
    assert result.last_modified == stamp


def test_http_error_status(server: HTTPServer) -> None:
    server.expect_request("/gone.ics").respond_with_data(b"no", status=404)
    with pytest.raises(FetchError) as info:
        fetch_local(server.url_for("/gone.ics"))
    assert info.value.code == "http_status"
    assert info.value.detail == "404"


def test_declared_size_over_cap(server: HTTPServer) -> None:
    server.expect_request("/big.ics").respond_with_data(b"x" * 2000)
    with pytest.raises(FetchError) as info:
        fetch_local(server.url_for("/big.ics"), max_bytes=1000)
    assert info.value.code == "too_large"
    assert fetch_local(server.url_for("/big.ics"), max_bytes=2000).body == b"x" * 2000


def test_streamed_size_over_cap(server: HTTPServer) -> None:
    def stream(_request: Request) -> Response:
        return Response((b"y" * 500 for _ in range(10)), content_type="text/calendar")

    server.expect_request("/stream.ics").respond_with_handler(stream)
    with pytest.raises(FetchError) as info:
        fetch_local(server.url_for("/stream.ics"), max_bytes=1200)
    assert info.value.code == "too_large"
    assert "Content-Length" not in server.log[0][1].headers


def test_timeout_waiting_for_response(server: HTTPServer) -> None:
    release = threading.Event()

    def stall(_request: Request) -> Response:
        release.wait(10)
        return Response(BODY)

    server.expect_request("/slow.ics").respond_with_handler(stall)
    try:
        with pytest.raises(FetchError) as info:
            fetch_local(server.url_for("/slow.ics"), timeout=0.5)
    finally:
        release.set()
    assert info.value.code == "timeout"


def test_slow_drip_body_hits_overall_deadline(server: HTTPServer) -> None:
    release = threading.Event()

    def drip(_request: Request) -> Response:
        def chunks() -> Iterator[bytes]:
            # Bounded, so a regression fails the test instead of hanging it.
            for _ in range(200):
                if release.is_set():
                    return
                yield b"x"
                time.sleep(0.05)

        return Response(chunks())

    server.expect_request("/drip.ics").respond_with_handler(drip)
    try:
        with pytest.raises(FetchError) as info:
            fetch_local(server.url_for("/drip.ics"), timeout=0.5)
    finally:
        release.set()
    assert info.value.code == "timeout"


def test_redirects_are_followed_up_to_three(server: HTTPServer) -> None:
    for hop in range(3):
        server.expect_request(f"/r{hop}").respond_with_data(
            b"", status=302, headers={"Location": f"/r{hop + 1}"}
        )
    server.expect_request("/r3").respond_with_data(BODY)
    result = fetch_local(server.url_for("/r0"))
    assert result.body == BODY
    assert result.final_url == server.url_for("/r3")


def test_fourth_redirect_is_refused(server: HTTPServer) -> None:
    for hop in range(4):
        server.expect_request(f"/r{hop}").respond_with_data(
            b"", status=301, headers={"Location": f"/r{hop + 1}"}
        )
    server.expect_request("/r4").respond_with_data(BODY)
    with pytest.raises(FetchError) as info:
        fetch_local(server.url_for("/r0"))
    assert info.value.code == "too_many_redirects"
    assert len(server.log) == 4


def test_redirect_to_private_address_is_refused(server: HTTPServer) -> None:
    private = f"http://127.0.0.2:{server.port}/internal"
    server.expect_request("/start").respond_with_data(
        b"", status=302, headers={"Location": private}
    )
    server.expect_request("/internal").respond_with_data(b"secret")
    with pytest.raises(FetchError) as info:
        fetch_local(server.url_for("/start"))
    assert info.value.code == "blocked_address"
    assert [request.path for request, _ in server.log] == ["/start"]


def test_redirect_to_other_scheme_is_refused(server: HTTPServer) -> None:
    server.expect_request("/start").respond_with_data(
        b"", status=302, headers={"Location": "file:///etc/passwd"}
    )
    with pytest.raises(FetchError) as info:
        fetch_local(server.url_for("/start"))
    assert info.value.code == "bad_scheme"


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/cal.ics",
        "https://localhost/cal.ics",
        "https://[::1]/cal.ics",
        "https://10.1.2.3/cal.ics",
        "https://169.254.169.254/latest/meta-data/",
        "webcal://192.168.1.10/cal.ics",
    ],
)
def test_private_hosts_refused_by_default(url: str) -> None:
    with pytest.raises(FetchError) as info:
        fetch_calendar(url)
    assert info.value.code == "blocked_address"


def test_loopback_server_refused_without_allow_private(server: HTTPServer) -> None:
    server.expect_request("/cal.ics").respond_with_data(BODY)
    url = server.url_for("/cal.ics")
    with pytest.raises(FetchError) as info:
        fetch_calendar(url)
    assert info.value.code == "bad_scheme"  # plain http is refused first
    with pytest.raises(FetchError) as info:
        fetch_calendar(url.replace("http://", "https://"))
    assert info.value.code == "blocked_address"
    assert server.log == []
    assert fetch_calendar(url, allow_private=True).body == BODY


def test_webcal_is_fetched_over_verified_https(tls_server: HTTPServer) -> None:
    tls_server.expect_request("/feed.ics").respond_with_data(BODY)
    url = f"webcal://localhost:{tls_server.port}/feed.ics"
    result = fetch_calendar(url, allow_private=True)
    assert result.body == BODY
    assert result.final_url == f"https://localhost:{tls_server.port}/feed.ics"
    assert tls_server.log[0][0].headers["Host"] == f"localhost:{tls_server.port}"


def test_https_certificate_is_verified(
    tls_server: HTTPServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tls_server.expect_request("/feed.ics").respond_with_data(BODY)
    empty = tmp_path / "empty.pem"
    empty.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(empty))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    with pytest.raises(FetchError) as info:
        fetch_calendar(tls_server.url_for("/feed.ics"), allow_private=True)
    assert info.value.code == "tls_error"
    assert tls_server.log == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("webcal://example.org/a.ics", "https://example.org/a.ics"),
        ("WEBCAL://Example.ORG:8443/a.ics?x=1", "https://example.org:8443/a.ics?x=1"),
        ("https://example.org", "https://example.org/"),
        ("https://例子.测试/日历.ics", "https://xn--fsqu00a.xn--0zwm56d/日历.ics"),
        ("https://example.org/a.ics#frag", "https://example.org/a.ics"),
    ],
)
def test_normalise_url(url: str, expected: str) -> None:
    assert normalise_url(url) == expected


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://example.org/a.ics", "bad_scheme"),
        ("ftp://example.org/a.ics", "bad_scheme"),
        ("example.org/a.ics", "bad_scheme"),
        ("https://user:pw@example.org/a.ics", "bad_url"),
        ("https:///a.ics", "bad_url"),
        ("https://example.org:99999/a.ics", "bad_url"),
    ],
)
def test_normalise_url_refuses(url: str, code: str) -> None:
    with pytest.raises(FetchError) as info:
        normalise_url(url)
    assert info.value.code == code


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.0.1", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("169.254.169.254", False),  # cloud metadata
        ("0.0.0.0", False),
        ("224.0.0.1", False),  # multicast is "global" to ipaddress
        ("240.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
        ("2002:7f00:1::1", False),  # 6to4 of 127.0.0.1
        ("2002:808:808::1", True),  # 6to4 of 8.8.8.8
        ("ff02::1", False),
    ],
)
def test_is_public_address(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public


def test_unresolvable_host() -> None:
    with pytest.raises(FetchError) as info:
        fetch_calendar("https://does-not-exist.invalid/cal.ics")
    assert info.value.code == "dns_failed"
