"""Structured (JSON) logs, with feed tokens and passwords redacted from every line."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

from gunicorn.glogging import Logger as GunicornLogger

# Feed URLs carry a secret in the path; login forms carry passwords in bodies (never logged).
_SECRETS = (
    (re.compile(r"(/calendar/[a-z]/)[^/?\s\"]+"), r"\1[redacted]"),
    (re.compile(r"(/password/reset/)[^/?\s\"]+"), r"\1[redacted]"),  # reset links
    (
        re.compile(r"((?:token|password|csrf_token)=)[^&\s\"]+", re.IGNORECASE),
        r"\1[redacted]",
    ),
)


def redact(text: str) -> str:
    """Remove feed tokens and password-like query values from a log text."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (redacted), extras."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as JSON."""
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class RedactingFilter(logging.Filter):
    """Redact secrets in records of loggers we do not format (werkzeug's dev server)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the message in place; never drop the record."""
        record.msg = redact(record.getMessage())
        record.args = ()
        return True


class RedactingGunicornLogger(GunicornLogger):
    """Gunicorn's logger with the request path's secrets removed from access lines."""

    def atoms(self, resp, req, environ, request_time):
        """The access-log atoms, redacted."""
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "q", "f"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms


def configure_logging(json_lines: bool) -> None:
    """Send app logs to stderr, as JSON lines when asked; redact werkzeug's lines."""
    handler = logging.StreamHandler()
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
        handler.addFilter(RedactingFilter())
    logger = logging.getLogger("pdtracker")
    if not any(getattr(h, "_pdtracker", False) for h in logger.handlers):
        handler._pdtracker = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    logging.getLogger("werkzeug").addFilter(RedactingFilter())
