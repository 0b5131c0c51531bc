"""Matching on generated teachers and offers (hypothesis).

A teacher's suggested offers each close part of their gap (the engine credits
days), start after today, fit the teacher's department's sectors, have a free
seat, and overlap nothing of the teacher's: no open placement, no seat held,
no event registration. Teachers matched to an offer still need days and are
free on its dates.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from pdtracker.activities.models import Activity
from pdtracker.auth.models import Role, User
from pdtracker.extensions import db
from pdtracker.placements.market_models import (
    DepartmentSector,
    PlacementOffer,
    PlacementRequest,
)
from pdtracker.placements.matching import offers_for_teacher, teachers_for_offer
from pdtracker.placements.models import Placement
from pdtracker.placements.timeline import practice_days
from pdtracker.progress.engine import ActivityFact
from pdtracker.timeutil import local_today, utcnow
from tests import factories

SECTORS = ("信息技术", "智能制造", "现代服务")

offer_st = st.tuples(
    st.integers(min_value=-20, max_value=300),  # starts, days from today
    st.integers(min_value=0, max_value=60),  # length in days
    st.integers(min_value=1, max_value=3),  # seats
    st.sampled_from(SECTORS),
)
teacher_st = st.tuples(
    st.lists(  # verified practice: (days ago it started, length)
        st.tuples(st.integers(30, 1500), st.integers(1, 120)), max_size=3
    ),
    st.lists(  # open placements: (starts in days, length)
        st.tuples(st.integers(-10, 300), st.integers(0, 40)), max_size=2
    ),
)


@pytest.fixture
def base(app: Flask) -> dict[str, Any]:
    dept = factories.make_department(app, "AI", "人工智能技术应用系")
    return {
        "dept": dept,
        "enterprise": factories.make_enterprise(app, "华为技术有限公司"),
        "other": factories.make_department(app, "ME", "机电工程系"),
    }


def _reset() -> None:
    for model in (
        PlacementRequest,
        Placement,
        PlacementOffer,
        Activity,
        DepartmentSector,
    ):
        db.session.execute(delete(model))
    db.session.execute(delete(User).where(User.username.like("gen%")))
    db.session.commit()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    teachers=st.lists(teacher_st, min_size=1, max_size=4),
    offers=st.lists(offer_st, min_size=1, max_size=6),
    sectors=st.sets(st.sampled_from(SECTORS), max_size=2),
    taken=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3)), max_size=4),
)
def test_suggestions_close_the_gap_and_conflict_with_nothing(
    app, base, teachers, offers, sectors, taken
):
    with app.app_context():
        _reset()
        today = local_today()
        for sector in sectors:
            db.session.add(
                DepartmentSector(department_id=base["dept"].id, sector=sector)
            )
        made_offers = []
        for start, length, seats, sector in offers:
            offer = PlacementOffer(
                enterprise_id=base["enterprise"].id, post="岗位", sector=sector,
                seats=seats, starts_on=today + timedelta(days=start),
                ends_on=today + timedelta(days=start + length),
                working_days=length + 1, status="open",
            )  # fmt: skip
            db.session.add(offer)
            made_offers.append(offer)
        db.session.commit()
        people = []
        for n, (practice, placements) in enumerate(teachers):
            user = User(username=f"gen{n}", display_name=f"gen{n}", password_hash="x")
            user.roles  # noqa: B018 - load the collection before appending
            from pdtracker.auth.models import UserRole

            user.roles.append(UserRole(role=Role.TEACHER.value))
            user.department_id = base["dept"].id
            db.session.add(user)
            db.session.flush()
            for ago, span in practice:
                length = min(span, ago)  # logged practice is over by today
                start = today - timedelta(days=ago)
                db.session.add(
                    Activity(
                        teacher_id=user.id, kind_code="enterprise_placement",
                        title="企业实践", starts_on=start,
                        ends_on=start + timedelta(days=length - 1), days=length,
                        status="verified", verified_at=utcnow(),
                    )
                )  # fmt: skip
            for begin, length in placements:
                db.session.add(
                    Placement(
                        teacher_id=user.id, enterprise_id=base["enterprise"].id,
                        starts_on=today + timedelta(days=begin),
                        ends_on=today + timedelta(days=begin + length),
                        working_days=0, status="approved",
                    )
                )  # fmt: skip
            people.append(user)
        db.session.flush()
        for teacher_n, offer_n in dict.fromkeys(
            taken
        ):  # seats held by someone on some offers
            if teacher_n < len(people) and offer_n < len(made_offers):
                db.session.merge(
                    PlacementRequest(
                        offer_id=made_offers[offer_n].id,
                        teacher_id=people[teacher_n].id, status="requested",
                    )
                )  # fmt: skip
        db.session.commit()

        for user in people:
            _check_teacher(user, today)
        for offer in made_offers:
            _check_offer(offer, today)
        _reset()


def _facts(teacher_id: int) -> list[ActivityFact]:
    return [
        ActivityFact(
            id=a.id, kind=a.kind_code, start=a.starts_on, end=a.ends_on, days=a.days
        )
        for a in db.session.scalars(
            select(Activity).where(Activity.teacher_id == teacher_id)
        )
    ]


def _spans(teacher_id: int) -> list[tuple[date, date]]:
    placements = db.session.execute(
        select(Placement.starts_on, Placement.ends_on).where(
            Placement.teacher_id == teacher_id
        )
    )
    held = db.session.execute(
        select(PlacementOffer.starts_on, PlacementOffer.ends_on)
        .join(PlacementRequest, PlacementRequest.offer_id == PlacementOffer.id)
        .where(PlacementRequest.teacher_id == teacher_id)
    )
    return [tuple(r) for r in [*placements, *held]]  # type: ignore[misc]


def _check_teacher(user: User, today: date) -> None:
    facts = _facts(user.id)
    _, gap = practice_days(facts, today)
    sectors = set(db.session.scalars(select(DepartmentSector.sector)))
    spans = _spans(user.id)
    for s in offers_for_teacher(user, today):
        offer = s.offer
        assert gap > 0
        assert offer.starts_on > today
        assert not sectors or offer.sector in sectors
        held = db.session.scalar(
            select(db.func.count())
            .select_from(PlacementRequest)
            .where(PlacementRequest.offer_id == offer.id)
        )
        assert held < offer.seats
        assert all(not (a <= offer.ends_on and b >= offer.starts_on) for a, b in spans)
        planned = ActivityFact(
            id="x", kind="enterprise_placement", start=offer.starts_on,
            end=offer.ends_on, days=offer.working_days,
        )  # fmt: skip
        _, before = practice_days(facts, offer.ends_on)
        _, after = practice_days([*facts, planned], offer.ends_on)
        assert after < before  # it closes part of the gap, by the engine
        span = (offer.ends_on - offer.starts_on).days + 1
        assert s.needed_after == max(0, gap - span)


def _check_offer(offer: PlacementOffer, today: date) -> None:
    for candidate in teachers_for_offer(offer, today):
        assert candidate.needed > 0
        assert candidate.needed == practice_days(_facts(candidate.teacher_id), today)[1]
        spans = _spans(candidate.teacher_id)
        assert all(not (a <= offer.ends_on and b >= offer.starts_on) for a, b in spans)


def test_a_teacher_short_of_days_is_offered_a_free_post(app, base):
    from tests.placements.market_cast import make_offer, next_monday

    teacher = factories.make_user(app, "short1", Role.TEACHER, department=base["dept"])
    fits = make_offer(
        app, base["enterprise"].id, post="适合", starts_on=next_monday(10)
    )
    clash = make_offer(app, base["enterprise"].id, post="冲突")
    factories.make_placement(
        app, teacher, base["enterprise"], starts_on=clash.starts_on,
        ends_on=clash.starts_on, status="approved",
    )  # fmt: skip
    with app.app_context():
        user = db.session.get(User, teacher.id)
        found = offers_for_teacher(user, local_today())
        assert [s.offer.post for s in found] == ["适合"]
        assert found[0].needed_after == 180 - (fits.ends_on - fits.starts_on).days - 1
        offer = db.session.get(PlacementOffer, clash.id)
        assert teacher.id not in {
            c.teacher_id for c in teachers_for_offer(offer, local_today())
        }
        offer = db.session.get(PlacementOffer, fits.id)
        assert teacher.id in {
            c.teacher_id for c in teachers_for_offer(offer, local_today())
        }
