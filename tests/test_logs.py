"""No feed token or password ever reaches a log line."""

from __future__ import annotations

import json
import logging

from pdtracker.logs import JsonFormatter, RedactingGunicornLogger, redact


def test_feed_tokens_and_passwords_are_redacted() -> None:
    line = "GET /calendar/t/s3cr3tT0ken_abc.ics?password=hunter2&x=1 HTTP/1.1"
    cleaned = redact(line)
    assert "s3cr3tT0ken_abc" not in cleaned
    assert "hunter2" not in cleaned
    assert "/calendar/t/[redacted]" in cleaned


def test_json_formatter_writes_one_redacted_object_per_line() -> None:
    record = logging.LogRecord(
        "pdtracker.calendar",
        logging.INFO,
        __file__,
        1,
        "feed %s served",
        ("/calendar/d/abc.ics",),
        None,
    )
    entry = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "INFO"
    assert entry["logger"] == "pdtracker.calendar"
    assert "abc" not in entry["message"]


def test_gunicorn_access_atoms_are_redacted() -> None:
    class Cfg:
        access_log_format = "%(r)s"
        errorlog = "-"
        accesslog = None
        loglevel = "info"
        syslog = False
        capture_output = False
        logconfig = None
        logconfig_dict = {}
        logconfig_json = None
        user = 0
        group = 0

    class Req:
        method = "GET"
        path = "/calendar/t/SECRET123.ics"
        query = ""
        uri = "/calendar/t/SECRET123.ics"
        version = (1, 1)
        headers = []

    class Resp:
        status = "200 OK"
        sent = 10
        headers = []

    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/calendar/t/SECRET123.ics",
               "SERVER_PROTOCOL": "HTTP/1.1", "PATH_INFO": "/calendar/t/SECRET123.ics",
               "QUERY_STRING": "", "REMOTE_ADDR": "127.0.0.1"}  # fmt: skip
    import datetime

    logger = RedactingGunicornLogger.__new__(RedactingGunicornLogger)
    atoms = logger.atoms(Resp(), Req(), environ, datetime.timedelta(seconds=0.01))
    assert "SECRET123" not in atoms["r"]
    assert "SECRET123" not in atoms["U"]
