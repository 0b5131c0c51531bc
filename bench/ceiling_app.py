"""The app gunicorn serves during the benchmark: pdtracker plus one bare route.

``/bench/ceiling.ics`` answers with fixed bytes held in memory — the same bytes as
the benchmarked teacher's feed, read once from the file named by
BENCH_CEILING_FILE — with the same ETag handling as the feed. It runs through the
same app, middleware and gunicorn, so its rate is the ceiling of this stack for
serving a feed: no query, no rendering. pdtracker itself is left untouched.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from flask import Response, request

from pdtracker import create_app

app = create_app()

_BODY = b""
_ETAG = ""
if path := os.environ.get("BENCH_CEILING_FILE"):
    _BODY = Path(path).read_bytes()
    _ETAG = hashlib.sha256(_BODY).hexdigest()[:32]


def ceiling() -> Response:
    """The feed's bytes from memory; a matching If-None-Match gets 304."""
    headers = {"ETag": f'"{_ETAG}"', "Cache-Control": "private, max-age=900"}
    if request.if_none_match.contains_weak(_ETAG):
        return Response(status=304, headers=headers)
    response = Response(_BODY, status=200, headers=headers)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    return response


app.add_url_rule("/bench/ceiling.ics", "bench_ceiling", ceiling)
