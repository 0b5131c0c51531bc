"""The placement list, kept per worker, is the list a new worker draws, every time.

Every request of ``/placements/`` here is also drawn with every keep emptied
(tests.support.kept_and_fresh). The two pages must be the same bytes (CSRF tokens
masked), in Chinese and English, for a teacher, a head, a mentor and the admin,
with and without the status filter, on the first visit and the next ones, and
after each kind of change: a new placement, a cancelled one, a mentor's confirmed
days, a renamed enterprise and teacher, a college ruleset that counts days another
way, a language switch.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from pdtracker.auth.models import Role, User
from pdtracker.extensions import db
from pdtracker.placements import views as placement_views
from pdtracker.placements.market_models import MentorAssessment
from pdtracker.placements.models import Enterprise, Placement
from pdtracker.placements.services import cancel_placement
from tests.factories import publish_working_days_layer
from tests.support import kept_and_fresh


@pytest.fixture(autouse=True)
def _pages(monkeypatch) -> None:
    monkeypatch.setattr(placement_views, "PER_PAGE", 3)  # several pages


PATHS = ["/placements/", "/placements/?page=2", "/placements/?status=approved"]


def _as(client, auth, name: str) -> None:
    auth.logout()
    client.get("/login")  # shows "logged out" once, here, not on a compared page
    auth.login(name)


def _visit_all(app, client, label: str) -> str:
    """Every path, twice; each page equal to a new worker's. The last first page."""
    first = ""
    for visit in ("first", "again"):
        for path in PATHS:
            page, fresh = kept_and_fresh(app, client, path)
            assert page == fresh, (label, visit, path)
            first = page if path == PATHS[0] else first
    return first


def _everyone(app, client, auth, label: str) -> None:
    for name in ("teacher1", "teacher2", "head1", "mentor", "admin"):
        _as(client, auth, name)
        _visit_all(app, client, f"{label}: {name}")


@pytest.fixture
def cast(app, world, make_user, make_enterprise, make_placement) -> dict[str, Any]:
    """Placements of two teachers of one department, one hosted by a mentor."""
    hua = make_enterprise("华为技术有限公司")
    zte = make_enterprise("中兴通讯股份有限公司")
    mentor = make_user("mentor", Role.MENTOR)
    with app.app_context():
        from pdtracker.placements.market_models import EnterpriseMentor

        db.session.add(EnterpriseMentor(user_id=mentor.id, enterprise_id=hua.id))
        db.session.commit()
    made = {}
    for i, (who, where, status) in enumerate(
        [
            ("teacher1", hua, "approved"),
            ("teacher1", zte, "proposed"),
            ("teacher1", hua, "in_progress"),
            ("teacher1", zte, "approved"),
            ("teacher2", hua, "in_progress"),
            ("teacher2", zte, "approved"),
            ("head1", hua, "proposed"),
        ]
    ):
        made[i] = make_placement(
            world[who],
            where,
            status=status,
            starts_on=date(2026, 3 + i, 2),
            ends_on=date(2026, 3 + i, 27),
            mentor_id=mentor.id if where is hua else None,
        )
    return {"hua": hua, "zte": zte, "mentor": mentor, "placements": made}


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_the_list_is_the_plain_lists_bytes_through_changes(
    app, client, auth, world, cast, make_placement, locale
) -> None:
    with app.app_context():
        for name in ("teacher1", "teacher2", "head1", "admin"):
            db.session.get_one(User, world[name].id).locale = locale
        db.session.get_one(User, cast["mentor"].id).locale = locale
        db.session.commit()
    auth.login("teacher1")
    assert ("My placements" in _visit_all(app, client, "start")) == (locale == "en")
    _everyone(app, client, auth, "start")

    make_placement(world["teacher1"], cast["zte"], status="approved")  # new
    _everyone(app, client, auth, "new placement")
    with app.app_context():  # cancelled
        placement = db.session.get_one(Placement, cast["placements"][3].id)
        cancel_placement(
            placement,
            actor=db.session.get_one(User, world["head1"].id),
            now=datetime(2026, 3, 1, tzinfo=UTC),
            reason="改期",
        )
        db.session.commit()
    _everyone(app, client, auth, "cancelled")
    with app.app_context():  # the mentor's confirmed days (touches the placement)
        placement = db.session.get_one(Placement, cast["placements"][0].id)
        db.session.add(
            MentorAssessment(
                placement_id=placement.id, mentor_id=cast["mentor"].id,
                scale="grade", confirmed_days=7,
                submitted_at=datetime(2026, 3, 1, tzinfo=UTC),
                **{f: 3 for f in _score_fields()},
            )
        )  # fmt: skip
        placement.updated_at = datetime(2026, 3, 1, tzinfo=UTC)
        db.session.commit()
    admin = _visit_all(app, client, "confirmed: admin")
    _everyone(app, client, auth, "confirmed")
    with app.app_context():  # renamed enterprise and teacher
        db.session.get_one(Enterprise, cast["hua"].id).name = "华为 <改名>"
        db.session.get_one(User, world["teacher2"].id).display_name = "王 & 老师"
        db.session.commit()
    _everyone(app, client, auth, "renamed")
    with app.app_context():  # teacher1's college counts working days
        publish_working_days_layer(world["ai"].institution_id)
    _everyone(app, client, auth, "ruleset")
    _as(client, auth, "head1")
    other = "zh_Hans_CN" if locale == "en" else "en"
    client.post("/language", data={"locale": other})  # a language switch
    switched = _visit_all(app, client, "switched")
    assert ("Department placements" in switched) == (other == "en")
    assert admin


def _score_fields() -> tuple[str, ...]:
    from pdtracker.placements.market_models import SCORE_FIELDS

    return tuple(SCORE_FIELDS)


def test_one_teachers_list_never_shows_on_anothers(
    app, client, auth, world, cast
) -> None:
    auth.login("teacher1")
    first, fresh = kept_and_fresh(app, client, "/placements/")
    assert first == fresh
    _as(client, auth, "teacher2")
    second, fresh = kept_and_fresh(app, client, "/placements/")
    assert second == fresh
    assert first != second
