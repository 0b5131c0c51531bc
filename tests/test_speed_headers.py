"""The security headers, built once per app, are those Flask-Talisman sent, byte for byte.

Flask-Talisman with the options pdtracker used is the reference: two small apps,
one with Talisman and one with ``init_security``, answer the same requests (plain
HTTP, HTTPS, behind a proxy saying HTTPS; secure cookies on and off; HTTPS forced
or not; a view that set a header of its own) and must send the same header list in
the same order, the same redirects and the same cookie settings.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask, Response, session
from flask_talisman import Talisman

from pdtracker import security
from pdtracker.security import CSP, PERMISSIONS_POLICY, REFERRER_POLICY


def _routes(app: Flask) -> Flask:
    @app.get("/page")
    def page() -> str:
        return "ok"

    @app.get("/framed")
    def framed() -> Response:
        response = Response("framed")
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @app.get("/signed-in")
    def signed_in() -> str:
        session["_user_id"] = "1"
        return "in"

    return app


def _config(secure: bool, force_https: bool, debug: bool) -> dict:
    return {
        "SECRET_KEY": "x",
        "SESSION_COOKIE_SECURE": secure,
        "SESSION_COOKIE_SAMESITE": "Strict",  # both must set Lax, as Talisman did
        "SESSION_COOKIE_HTTPONLY": False,
        "FORCE_HTTPS": force_https,
        "DEBUG": debug,
    }


def _with_talisman(config: dict) -> Flask:
    app = Flask("reference")
    app.config.update(config)
    secure = bool(app.config.get("SESSION_COOKIE_SECURE"))
    Talisman().init_app(
        app,
        force_https=bool(app.config.get("FORCE_HTTPS")),
        strict_transport_security=secure,
        session_cookie_secure=secure,
        session_cookie_http_only=True,
        content_security_policy=CSP,
        frame_options="DENY",
        referrer_policy=REFERRER_POLICY,
        x_content_type_options=True,
        permissions_policy=PERMISSIONS_POLICY,
    )
    app.after_request(security.no_store_private)
    return _routes(app)


def _with_ours(config: dict) -> Flask:
    app = Flask("ours")
    app.config.update(config)
    security.init_security(app)
    return _routes(app)


REQUESTS = [
    ("/page", "http://localhost", {}),
    ("/page", "https://localhost", {}),
    ("/page", "http://localhost", {"X-Forwarded-Proto": "https"}),
    ("/page?x=1", "http://pdtracker.test", {}),
    ("/framed", "http://localhost", {}),
    ("/framed", "https://localhost", {}),
    ("/signed-in", "https://localhost", {}),
    ("/signed-in", "http://localhost", {}),
    ("/missing", "http://localhost", {}),
]


# A signed session cookie holds the second it was signed: two requests a second
# boundary apart differ there and in the signature, and nowhere else.
_SIGNED = re.compile(r"^(session=[^.;]+)\.[^.;]+\.[^.;]+")


def _stable(response) -> list[tuple[str, str]]:
    """The response's headers in order, the session cookie's time and signature masked."""
    return [
        (
            name,
            _SIGNED.sub(r"\1.TIME.SIGNATURE", value) if name == "Set-Cookie" else value,
        )
        for name, value in response.headers.to_wsgi_list()
    ]


@pytest.mark.parametrize("secure", [False, True])
@pytest.mark.parametrize("force_https", [False, True])
@pytest.mark.parametrize("debug", [False, True])
def test_headers_equal_talisman_byte_for_byte(
    secure: bool, force_https: bool, debug: bool
) -> None:
    config = _config(secure, force_https, debug)
    reference, ours = _with_talisman(config), _with_ours(config)
    for key in (
        "SESSION_COOKIE_SAMESITE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SECURE",
    ):
        assert ours.config[key] == reference.config[key], key
    for path, base, headers in REQUESTS:
        expected = reference.test_client().get(path, base_url=base, headers=headers)
        got = ours.test_client().get(path, base_url=base, headers=headers)
        assert got.status_code == expected.status_code, (path, base, headers)
        assert _stable(got) == _stable(expected), (path, base, headers)
        assert got.data == expected.data


def test_the_app_sends_the_policy(client) -> None:
    headers = client.get("/login").headers
    assert headers["Content-Security-Policy"].startswith("default-src 'self'; ")
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Permissions-Policy"] == "geolocation=(), camera=(), microphone=()"
    assert "Strict-Transport-Security" not in headers
