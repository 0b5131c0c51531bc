"""What the benchmark measures inside one process: queries per page, and timers.

Run by bench/run.py as ``python -m bench.inprocess <command> <db> <size>``; prints
one JSON object. Each command runs in its own process so a 2-million-row
evaluation does not stay in the orchestrator's memory.

* ``feed``: fetch the benchmarked teacher's feed once (the ceiling's bytes).
* ``queries``: SQL statements per request of each page, counted with a
  ``before_cursor_execute`` listener around Flask test-client requests (the second
  request of each page, so per-process caches are warm; the first is reported too),
  and the app's CPU time per warm request.
* ``nightly``: evaluate and store every teacher's status (the nightly job), rolled
  back afterwards so the database stays as generated.
* ``import``: import a generated 1 MiB .ics file, rolled back afterwards.
* ``standings``: the stored standings (issue 14): a full run over every teacher,
  on every core (``flask standings refresh --full --workers N``), then a run with
  nothing changed (the incremental night), both committed — they
  store what is already stored, so the database stays as generated.
* ``cold``: the department page of 1,000 teachers as the first request of a new
  process (nothing cached in it), three times, each in a fresh app: wall time,
  this process's CPU time and queries.
* ``profile``: where one page's warm requests spend their time, under the stdlib's
  cProfile (``--page`` names it as :func:`pages` does, ``--repeat`` requests):
  the functions with the most cumulative and own time, per request. Not run by
  bench/run.py; for finding what to change.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event, func, select

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import generate  # noqa: E402
from pdtracker import create_app  # noqa: E402
from pdtracker.calendar import directory  # noqa: E402
from pdtracker.extensions import db  # noqa: E402

ICS_TARGET_BYTES = 1024 * 1024


def _app(url: str) -> Flask:
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-inprocess",
            "WTF_CSRF_ENABLED": False,
        }
    )


def pages(meta: dict) -> list[dict[str, Any]]:
    """Every page the benchmark drives: name, path, who asks, and how."""
    teacher = meta["bench_teacher"]["username"]
    token = meta["feed_token"]
    out: list[dict[str, Any]] = [
        {"name": "teacher dashboard", "path": "/progress/", "user": teacher},
        {"name": "activity list", "path": "/activities/", "user": teacher},
    ]
    for size in sorted(meta["heads"], key=int):
        out.append(
            {
                "name": f"department dashboard ({size} teachers)",
                "path": "/progress/department",
                "user": meta["heads"][size]["username"],
            }
        )
    out += [
        {"name": "event list", "path": "/events/", "user": teacher},
        {
            "name": "review queue (300 teachers)",
            "path": "/activities/review",
            "user": meta["heads"]["300"]["username"],
        },
        {"name": "placements", "path": "/placements/", "user": teacher},
        *(
            [
                {
                    "name": "association dashboard",
                    "path": "/association/",
                    "user": meta["staff"]["username"],
                }
            ]
            if "staff" in meta
            else []
        ),  # fmt: skip
        {"name": "teacher feed (full body)", "path": f"/calendar/t/{token}.ics"},
        {
            "name": "teacher feed (304)",
            "path": f"/calendar/t/{token}.ics",
            "conditional": True,
        },
        {"name": "public feed", "path": "/calendar/association.ics"},
    ]
    return out


def cmd_feed(url: str, meta: dict) -> dict:
    """The teacher's feed bytes, written where the ceiling route reads them."""
    app = _app(url)
    reply = app.test_client().get(f"/calendar/t/{meta['feed_token']}.ics")
    if reply.status_code != 200:
        raise SystemExit(f"teacher feed answered {reply.status_code}")
    path = generate.OUT / f"feed-{meta['db']}-{meta['size']}.ics"
    path.write_bytes(reply.data)
    return {
        "path": str(path),
        "bytes": len(reply.data),
        "events": reply.data.count(b"BEGIN:VEVENT"),
    }


def cmd_queries(url: str, meta: dict) -> dict:
    """SQL statements per request of every page (first and warm)."""
    app = _app(url)
    with app.app_context():
        engine = db.engine
    counter = {"n": 0}

    def count(*_args: object) -> None:
        counter["n"] += 1

    clients: dict[str | None, Any] = {}
    results = {}
    event.listen(engine, "before_cursor_execute", count)
    try:
        for page in pages(meta):
            user = page.get("user")
            if user not in clients:
                client = app.test_client()
                if user:
                    reply = client.post(
                        "/login", data={"username": user, "password": meta["password"]}
                    )
                    assert reply.status_code == 302, (user, reply.status_code)
                clients[user] = client
            client = clients[user]
            headers = {}
            if page.get("conditional"):
                etag = client.get(page["path"]).headers["ETag"]
                headers = {"If-None-Match": etag}
            counts, status, cpus = [], None, []
            for attempt in range(2):
                if attempt:
                    # Steady state: the feed directory listening (PostgreSQL) and
                    # this page's URL resolved once while it was.
                    if listener := directory.listener(app):
                        listener.connected.wait(10)
                    client.get(page["path"], headers=headers)
                counter["n"] = 0
                started = time.process_time()
                reply = client.get(page["path"], headers=headers)
                cpus.append(time.process_time() - started)
                counts.append(counter["n"])
                status = reply.status_code
            cpu = cpus[1]
            # This process's CPU per warm request: steady on a busy machine, unlike
            # wall-clock latency (the database server's own CPU is not included).
            repeat = 20 if cpu < 0.05 else 3
            started = time.process_time()
            for _ in range(repeat):
                client.get(page["path"], headers=headers)
            results[page["name"]] = {
                "first": counts[0],
                "warm": counts[1],
                "status": status,
                "cpu_ms": (time.process_time() - started) / repeat * 1000,
                "first_cpu_ms": cpus[0] * 1000,
            }
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return results


def cmd_nightly(url: str, meta: dict) -> dict:
    """Evaluate and store all teachers' status; time it; roll back."""
    from pdtracker.auth.models import Role, UserRole
    from pdtracker.progress import services
    from pdtracker.progress.facts import local_today

    app = _app(url)
    with app.app_context():
        teachers = db.session.scalar(
            select(func.count())
            .select_from(UserRole)
            .where(UserRole.role == Role.TEACHER.value)
        )
        started = time.perf_counter()
        # The nightly tick's first step.
        stored = services.store_evaluations(None, local_today())
        db.session.flush()
        seconds = time.perf_counter() - started
        db.session.rollback()
    return {
        "function": "store_evaluations",
        "teachers": teachers,
        "stored": stored,
        "seconds": seconds,
        # Peak memory of this process (facts are read one batch at a time).
        "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _scratch_copy(meta: dict) -> str:
    """A throw-away copy of the database (the nightly tick commits)."""
    if meta["db"] == "postgresql":
        name = generate.database_name(meta["size"], meta.get("colleges", 1))
        with generate._pg_admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}_scratch" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}_scratch" TEMPLATE "{name}"')
        return meta["url"].rsplit("/", 1)[0] + f"/{name}_scratch"
    source = Path(meta["url"].removeprefix("sqlite:///"))
    copy = source.with_name(source.stem + "-scratch.sqlite")
    shutil.copyfile(source, copy)
    return f"sqlite:///{copy}"


def _drop_scratch(meta: dict, url: str) -> None:
    if meta["db"] == "postgresql":
        with generate._pg_admin() as conn:
            conn.execute(
                f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'
            )
        return
    for suffix in ("", "-wal", "-shm"):
        Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)


def cmd_tick(url: str, meta: dict) -> dict:
    """The scheduler's whole nightly tick (evaluations, digests, lapse warnings), timed
    on a scratch copy of the database."""
    from pdtracker.notifications.planners import nightly_lapse_check
    from pdtracker.notifications.runs import TickError
    from pdtracker.timeutil import utcnow

    scratch = _scratch_copy(meta)
    try:
        app = _app(scratch)
        with app.app_context():
            started = time.perf_counter()
            error = None
            try:
                counts = nightly_lapse_check(utcnow())
            except TickError as exc:
                counts, error = exc.counts, str(exc)[:300]
            seconds = time.perf_counter() - started
            db.session.remove()
            db.engine.dispose()
    finally:
        _drop_scratch(meta, scratch)
    return {"seconds": seconds, "counts": counts, "error": error}


def _fold(line: str) -> str:
    """RFC 5545 folding at 75 octets, never inside a UTF-8 character."""
    raw = line.encode()
    if len(raw) <= 75:
        return line + "\r\n"
    parts, current, limit = [], b"", 75
    for ch in line:
        enc = ch.encode()
        if len(current) + len(enc) > limit:
            parts.append(current)
            current, limit = b"", 74
        current += enc
    parts.append(current)
    return "\r\n ".join(p.decode() for p in parts) + "\r\n"


def make_ics(target: int = ICS_TARGET_BYTES, seed: int = 7) -> bytes:
    """An association calendar of about ``target`` bytes of realistic events."""
    rng = random.Random(seed)
    stamp = datetime(2026, 1, 5, 8, 0, tzinfo=UTC).strftime("%Y%m%dT%H%M%SZ")
    head = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Bench Association//CN",
        "CALSCALE:GREGORIAN", "X-WR-CALNAME:职业教育协会活动",
        "X-WR-TIMEZONE:Asia/Shanghai",
    ]  # fmt: skip
    body = "".join(_fold(x) for x in head)
    first = datetime.now(UTC).date() - timedelta(days=365)
    i = 0
    while len(body.encode()) < target - 200:
        i += 1
        day = first + timedelta(days=rng.randrange(730))
        hour = rng.choice((9, 14))
        topic = rng.choice(generate.TOPICS)
        kind = rng.choice(("专家讲座", "产业论坛", "专题研讨会"))
        lines = [
            "BEGIN:VEVENT",
            f"UID:import-{i}@association.example.org",
            f"DTSTAMP:{stamp}",
            f"DTSTART;TZID=Asia/Shanghai:{day:%Y%m%d}T{hour:02d}0000",
            f"DTEND;TZID=Asia/Shanghai:{day:%Y%m%d}T{hour + 3:02d}0000",
            f"SUMMARY:{kind}：{topic}",
            f"LOCATION:{rng.choice(generate.CITIES)}会展中心{rng.randrange(1, 9)}号厅",
            "DESCRIPTION:"
            + f"本次{kind}围绕“{topic}”展开，邀请行业企业专家与院校教师共同交流。"
            "报名请登录协会平台，名额有限，额满即止。请提前十分钟签到并携带工作证。",
            f"CATEGORIES:{kind}",
            f"URL:https://association.example.org/events/{i}",
            "STATUS:CONFIRMED",
            "END:VEVENT",
        ]
        body += "".join(_fold(x) for x in lines)
    body += _fold("END:VCALENDAR")
    return body.encode()


def cmd_import(url: str, meta: dict) -> dict:
    """Import a 1 MiB .ics file; time it; roll back."""
    from pdtracker.events.importing import file_source, import_calendar
    from pdtracker.timeutil import utcnow

    data = make_ics()
    app = _app(url)
    with app.app_context():
        now = utcnow()
        started = time.perf_counter()
        source = file_source(None, now)
        report = import_calendar(data, source, None, now)
        db.session.flush()
        seconds = time.perf_counter() - started
        db.session.rollback()
    return {
        "bytes": len(data),
        "events": data.count(b"BEGIN:VEVENT"),
        "created": report.created,
        "skipped": len(report.skipped),
        "error": report.error,
        "seconds": seconds,
    }


def _cpu_seconds() -> float:
    """User and system CPU of this process and its finished child processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def cmd_standings(url: str, meta: dict) -> dict:
    """Time the standings refresh: everyone (full), then a night with no changes."""
    from pdtracker.progress import standings
    from pdtracker.timeutil import utcnow

    app = _app(url)
    out: dict[str, Any] = {}
    workers = os.cpu_count() or 1  # a full run from the command line uses every core
    with app.app_context():
        for name, full in (("full", True), ("incremental", False)):
            started, cpu = time.perf_counter(), _cpu_seconds()
            counts = standings.refresh(
                utcnow(), full=full, workers=workers if full else 1
            )
            db.session.commit()
            out[name] = counts | {
                "seconds": time.perf_counter() - started,
                # This process and its forked workers (not the database server).
                "cpu_seconds": _cpu_seconds() - cpu,
                "workers": workers if full else 1,
            }
    out["seconds"] = out["full"]["seconds"] + out["incremental"]["seconds"]
    out["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def cmd_cold(url: str, meta: dict) -> dict:
    """The 1,000-teacher department page as a new process's first view (3 apps)."""
    head = meta["heads"].get("1000")
    if head is None:
        return {"skipped": "no department of 1,000 teachers at this size"}
    runs = []
    for _ in range(3):
        app = _app(url)  # a new app: its per-app caches are empty
        with app.app_context():
            engine = db.engine
        counter = {"n": 0}

        def count(*_args: object, counter: dict = counter) -> None:
            counter["n"] += 1

        client = app.test_client()
        reply = client.post(
            "/login", data={"username": head["username"], "password": meta["password"]}
        )
        assert reply.status_code == 302, reply.status_code
        event.listen(engine, "before_cursor_execute", count)
        try:
            started, cpu = time.perf_counter(), time.process_time()
            reply = client.get("/progress/department")
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert reply.status_code == 200, reply.status_code
        # This process's CPU: steadier than wall time on a busy machine.
        runs.append({"seconds": seconds, "cpu_ms": cpu * 1000, "queries": counter["n"]})
        with app.app_context():
            db.engine.dispose()
    ordered = sorted(r["seconds"] for r in runs)
    return {"runs": runs, "seconds": ordered[len(ordered) // 2], "max": ordered[-1]}


def cmd_profile(url: str, meta: dict, page_name: str = "", repeat: int = 20) -> dict:
    """cProfile over ``repeat`` warm requests of one page: the top functions."""
    import cProfile
    import pstats

    page = next((p for p in pages(meta) if p["name"] == page_name), None)
    if page is None:
        names = ", ".join(p["name"] for p in pages(meta))
        raise SystemExit(f"no page {page_name!r}; pages: {names}")
    app = _app(url)
    client = app.test_client()
    if user := page.get("user"):
        reply = client.post(
            "/login", data={"username": user, "password": meta["password"]}
        )
        assert reply.status_code == 302, (user, reply.status_code)
    headers = {}
    if page.get("conditional"):
        headers = {"If-None-Match": client.get(page["path"]).headers["ETag"]}
    for _ in range(3):  # warm: per-process caches filled, the URL resolved
        client.get(page["path"], headers=headers)
    with app.app_context():
        engine = db.engine
    statements: dict[str, list[float]] = {}

    def before(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        statements.setdefault(sql, []).append(time.perf_counter())

    def after(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        statements[sql][-1] = time.perf_counter() - statements[sql][-1]

    # CPU time of this process: what the app costs, not the database's or the
    # other processes' share of a busy machine.
    profiler = cProfile.Profile(time.process_time)
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    started = time.perf_counter()
    profiler.enable()
    for _ in range(repeat):
        status = client.get(page["path"], headers=headers).status_code
    profiler.disable()
    wall = (time.perf_counter() - started) / repeat * 1000
    event.remove(engine, "before_cursor_execute", before)
    event.remove(engine, "after_cursor_execute", after)
    stats = pstats.Stats(profiler)

    def top(key: int, n: int = 60) -> list[str]:
        rows = sorted(
            stats.stats.items(),  # type: ignore[attr-defined]
            key=lambda kv: kv[1][key],
            reverse=True,
        )[:n]
        return [
            f"{v[key] / repeat * 1000:8.2f} ms {v[1] / repeat:8.1f} calls  "
            f"{Path(f).name}:{line} {fn}"
            for (f, line, fn), v in rows
        ]

    calls = sum(v[1] for v in stats.stats.values())  # type: ignore[attr-defined]
    return {
        "page": page_name,
        "status": status,
        "wall_ms": wall,
        "calls_per_request": calls / repeat,
        "cpu_ms": stats.total_tt / repeat * 1000,  # type: ignore[attr-defined]
        "queries": [
            f"{sorted(times)[len(times) // 2] * 1000:7.2f} ms x{len(times) / repeat:g}"
            f"  {' '.join(sql.split())[:160]}"
            for sql, times in statements.items()
        ],
        "cumulative": top(3),
        "own": top(2),
    }


COMMANDS = {
    "feed": cmd_feed,
    "queries": cmd_queries,
    "nightly": cmd_nightly,
    "import": cmd_import,
    "tick": cmd_tick,
    "standings": cmd_standings,
    "cold": cmd_cold,
    "profile": cmd_profile,
}


def main() -> None:
    """python -m bench.inprocess <command> <db> <size> [--colleges N]"""
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=sorted(COMMANDS))
    parser.add_argument("db", choices=("sqlite", "postgresql"))
    parser.add_argument("size", type=int)
    parser.add_argument("--colleges", type=int, default=1)
    parser.add_argument("--page", default="", help="profile: the page's name")
    parser.add_argument("--repeat", type=int, default=20, help="profile: requests")
    args = parser.parse_args()
    path = generate.meta_path(args.db, args.size, args.colleges)
    meta = json.loads(path.read_text())
    if args.command == "profile":
        report = cmd_profile(meta["url"], meta, args.page, args.repeat)
        print(f"{report['page']}: {report['status']}, {report['wall_ms']:.1f} ms wall,"
              f" {report['cpu_ms']:.1f} ms CPU, {report['calls_per_request']:.0f} "
              "calls per request")  # fmt: skip
        for title in ("queries", "cumulative", "own"):
            print(f"-- {title}")
            print("\n".join(report[title]))
        return
    result = COMMANDS[args.command](meta["url"], meta)
    print("BENCH_JSON " + json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
