"""The write burst: activity creations at a fixed rate through the real form.

Several teachers, each logged in with their own session, post /activities/new
(CSRF token included) from their own threads. Request i is due at start + i/rate,
whichever thread is free takes it: when the server falls behind, requests are sent
late rather than dropped, so every planned creation is attempted. A creation is
counted as done when the answer is the redirect to the new activity; anything else
(an error status, a re-rendered form, a timeout, a reset connection) is an error.
"""

from __future__ import annotations

import itertools
import statistics
import threading
import time
import urllib.parse
from datetime import date, timedelta

from bench.harness import Session, csrf_token, request


def burst(
    base: str,
    meta: dict,
    *,
    seconds: float,
    rate: float,
) -> dict:
    """Post ``rate`` creations per second for ``seconds`` seconds; count the errors."""
    sessions = []
    for username in meta["burst_teachers"]:
        session = Session(base).login(username, meta["password"])
        token = csrf_token(session.get("/activities/new").body)
        sessions.append((session, token))
    total = int(seconds * rate)
    slots = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    errors: dict[str, int] = {}
    done = [0]
    start = time.monotonic() + 0.5

    def worker(session: Session, token: str, number: int) -> None:
        while True:
            with lock:
                i = next(slots)
            if i >= total:
                return
            due = start + i / rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            day = date.today() - timedelta(days=i % 300)
            fields = {
                "csrf_token": token,
                "kind_code": "expert_lecture",
                "title": f"写入压测讲座 {number}-{i}",
                "status": "completed",
                "role": "attendee",
                "starts_on": day.isoformat(),
                "hours": "3",
            }
            sent = time.monotonic()
            try:
                reply = request(
                    "POST",
                    base + "/activities/new",
                    body=urllib.parse.urlencode(fields).encode(),
                    headers={
                        "Content-Type": "application/x-www-form-urlencoded",
                        "Cookie": session.cookie,
                    },
                    timeout=30,
                )
                outcome = (
                    "ok"
                    if reply.status == 302
                    and "/activities/" in reply.headers.get("Location", "")
                    else f"status {reply.status}"
                )
            except OSError as exc:
                outcome = type(exc).__name__
            elapsed = time.monotonic() - sent
            with lock:
                latencies.append(elapsed)
                if outcome == "ok":
                    done[0] += 1
                else:
                    errors[outcome] = errors.get(outcome, 0) + 1

    threads = [
        threading.Thread(target=worker, args=(s, t, n), daemon=True)
        for n, (s, t) in enumerate(sessions * 2)  # two threads per teacher
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - start
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "planned": total,
        "created": done[0],
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "seconds": wall,
        "achieved_rate": done[0] / wall if wall else 0.0,
        "p50_ms": pct(0.50) if latencies else 0.0,
        "p95_ms": pct(0.95) if latencies else 0.0,
        "p99_ms": pct(0.99) if latencies else 0.0,
        "max_ms": latencies[-1] * 1000 if latencies else 0.0,
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else 0.0,
        "clients": len(threads),
        "rate": rate,
    }
