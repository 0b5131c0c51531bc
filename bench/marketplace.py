"""Issue 17's case: the offer list and the matching views at association scale.

``python -m bench.marketplace --db postgresql --size 60000 --colleges 100`` on the
association-scale database (``bench.generate`` builds it; a cached one is reused).
It adds ``--offers`` open offers of member enterprises on top of the generated
teachers (once: they are tagged and reused), then, in one process through the
Flask test client, measures each page's SQL statements per warm request and the
wall-clock p95 over ``--repeat`` requests:

* the offer list, as association staff;
* the offer list as the benchmarked teacher (with their suggested offers);
* the matching teachers of an offer, as staff;
* an offer's page as a head of 300 teachers (their days needed and conflicts).

Targets (issue 17): p95 ≤ 300 ms and ≤ 10 queries. Prints one JSON object; asserts
nothing (never part of CI). Prove it at a small size on a shared machine
(``--size 300 --colleges 3``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import generate  # noqa: E402
from pdtracker import create_app  # noqa: E402
from pdtracker.extensions import db  # noqa: E402
from pdtracker.placements.market_models import PlacementOffer  # noqa: E402
from pdtracker.placements.models import Enterprise  # noqa: E402
from pdtracker.timeutil import local_today  # noqa: E402

TAG = "bench-offer"
SECTORS = ("人工智能", "智能制造", "云计算", "电子商务", "工业机器人", "集成电路")
CITIES = ("深圳", "苏州", "杭州", "武汉", "成都", "无锡")
TARGET_P95_MS = 300
TARGET_QUERIES = 10


def add_offers(count: int, seed: int = 17) -> int:
    """Open offers across sectors, cities and the coming year (once; tagged)."""
    have = db.session.scalar(
        select(func.count())
        .select_from(PlacementOffer)
        .where(PlacementOffer.post.like(f"{TAG}%"))
    )
    if have >= count:
        return have
    rng = random.Random(seed)
    enterprises = list(db.session.scalars(select(Enterprise.id)))
    if not enterprises:
        for n in range(20):
            db.session.add(Enterprise(name=f"{TAG} 企业 {n:02d}", city=CITIES[n % 6]))
        db.session.flush()
        enterprises = list(db.session.scalars(select(Enterprise.id)))
    today = local_today()
    for n in range(have, count):
        start = today + timedelta(days=rng.randint(7, 360))
        weeks = rng.randint(2, 8)
        db.session.add(
            PlacementOffer(
                enterprise_id=rng.choice(enterprises), post=f"{TAG} {n:05d}",
                sector=rng.choice(SECTORS), city=rng.choice(CITIES),
                seats=rng.randint(1, 5), starts_on=start,
                ends_on=start + timedelta(weeks=weeks, days=-3),
                working_days=5 * weeks, status="open",
            )
        )  # fmt: skip
    db.session.commit()
    return count


def measure(url: str, meta: dict, offers: int, repeat: int) -> dict[str, Any]:
    """Warm query counts and p95 wall-clock per page."""
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-market",
         "WTF_CSRF_ENABLED": False}
    )  # fmt: skip
    with app.app_context():
        add_offers(offers)
        offer_id = db.session.scalar(
            select(PlacementOffer.id)
            .where(PlacementOffer.post.like(f"{TAG}%"))
            .limit(1)
        )
        engine = db.engine
    head = meta["heads"].get("300", next(iter(meta["heads"].values())))["username"]
    pages = [
        ("offer list (staff)", meta["staff"]["username"], "/placements/offers"),
        ("offer list (teacher)", meta["bench_teacher"]["username"], "/placements/offers"),
        ("matching teachers (staff)", meta["staff"]["username"],
         f"/placements/offers/{offer_id}/matches"),
        ("offer page (head of 300)", head, f"/placements/offers/{offer_id}"),
    ]  # fmt: skip
    counter = {"n": 0}

    def count(*_args: object) -> None:
        counter["n"] += 1

    results: dict[str, Any] = {}
    event.listen(engine, "before_cursor_execute", count)
    try:
        for name, user, path in pages:
            client = app.test_client()
            reply = client.post(
                "/login", data={"username": user, "password": meta["password"]}
            )
            assert reply.status_code == 302, (user, reply.status_code)
            client.get(path)  # warm
            counter["n"] = 0
            status = client.get(path).status_code
            queries = counter["n"]
            times, cpu = [], []
            for _ in range(repeat):
                started, used = time.perf_counter(), time.process_time()
                client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - used) * 1000)
            p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
            # The app's own CPU per request: steadier than wall time on a shared
            # machine (the database's CPU is not in it).
            results[name] = {
                "status": status, "queries": queries, "p95_ms": round(p95, 1),
                "median_ms": round(statistics.median(times), 1),
                "cpu_median_ms": round(statistics.median(cpu), 1),
                "load": round(os.getloadavg()[0], 1),
                "ok": status == 200 and queries <= TARGET_QUERIES
                and p95 <= TARGET_P95_MS,
            }  # fmt: skip
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--size", type=int, default=generate.MIN_SIZE)
    parser.add_argument("--colleges", type=int, default=1)
    parser.add_argument("--offers", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)
    meta = generate.cached_meta(args.db, args.size, args.colleges) or generate.generate(
        args.db, args.size, colleges=args.colleges
    )
    results = measure(meta["url"], meta, args.offers, args.repeat)
    print(json.dumps({"case": "marketplace", "db": args.db, "size": args.size,
                      "colleges": args.colleges, "offers": args.offers,
                      "pages": results}, ensure_ascii=False, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
