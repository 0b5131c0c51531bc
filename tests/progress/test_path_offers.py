"""Enterprise offers on the path to the next level (placements.path_offers).

The dashboard's body is cached per status; the offers are rendered per request,
so seats taken since show at once, and the page's queries stay flat however
many offers are open.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask

from pdtracker.extensions import db
from pdtracker.placements.market_models import PlacementRequest
from pdtracker.timeutil import local_today
from tests import factories
from tests.placements.market_cast import add_market, make_offer, next_monday
from tests.tenancy.conftest import build_two_colleges

OFFER_ROW = re.compile(r'<li class="list-group-item" data-offer="(\d+)"([^>]*)>')
ACTION = re.compile(r'action="/placements/offers/\d+/(request|ask)"')


@pytest.fixture
def w(app: Flask) -> dict[str, Any]:
    return add_market(app, build_two_colleges(app))


def shown(html: str) -> dict[int, dict[str, str]]:
    """The offers on the path, by id, with their data attributes."""
    return {
        int(offer_id): dict(re.findall(r'data-([a-z-]+)="([^"]*)"', attrs))
        for offer_id, attrs in OFFER_ROW.findall(html)
    }


def hold_seat(app: Flask, offer_id: int, teacher_id: int, status: str = "requested"):
    with app.app_context():
        db.session.add(
            PlacementRequest(offer_id=offer_id, teacher_id=teacher_id, status=status)
        )
        db.session.commit()


def today(app: Flask) -> date:
    with app.app_context():
        return local_today()


def practice(app: Flask, teacher, days: int) -> None:
    """Verified enterprise practice of ``days`` days, over by last month."""
    end = today(app) - timedelta(days=30)
    factories.make_activity(
        app, teacher, kind_code="enterprise_placement", title="企业实践",
        starts_on=end - timedelta(days=days - 1), ends_on=end, days=days,
        status="verified",
    )  # fmt: skip


def test_a_teacher_short_of_days_sees_offers_that_fit(app, client, auth, w):
    offer = w["offer"]  # 26 days from a Monday four weeks on, 3 seats
    clash = make_offer(app, w["other_enterprise"].id, post="冲突岗位",
                       starts_on=next_monday(12))  # fmt: skip
    full = make_offer(app, w["enterprise"].id, post="满员岗位", seats=1,
                      starts_on=next_monday(20))  # fmt: skip
    factories.make_placement(
        app, w["teacher1"], w["other_enterprise"], starts_on=clash.starts_on,
        ends_on=clash.starts_on, status="approved",
    )  # fmt: skip
    hold_seat(app, full.id, w["teacher2"].id)
    hold_seat(app, offer.id, w["teacher2"].id)
    auth.login("teacher1")
    client.post("/language", data={"locale": "en"})
    html = client.get("/progress/").get_data(as_text=True)

    assert set(shown(html)) == {offer.id}
    row = shown(html)[offer.id]
    assert row["starts-on"] == offer.starts_on.isoformat()
    assert row["ends-on"] == offer.ends_on.isoformat()
    assert row["credited"] == "26"  # distinct days of the span
    assert row["needed-after"] == str(180 - 26)
    assert row["seats-left"] == "2"
    assert "华为技术有限公司 · 数据标注工程师" in html
    assert "2 of 3 seats left" in html
    assert f'href="/placements/offers/{offer.id}"' in html
    assert f'action="/placements/offers/{offer.id}/ask"' in html
    assert set(ACTION.findall(html)) == {"ask"}  # a teacher asks; heads request
    # Placed after the path, before what is coming up.
    assert html.index('id="path-offers"') < html.index("Coming up")


def test_seats_taken_show_at_once_though_the_body_is_cached(app, client, auth, w):
    offer = w["offer"]
    auth.login("teacher1")
    assert (
        shown(client.get("/progress/").get_data(as_text=True))[offer.id]["seats-left"]
        == "3"
    )
    hold_seat(app, offer.id, w["teacher2"].id)
    html = client.get("/progress/").get_data(as_text=True)
    assert shown(html)[offer.id]["seats-left"] == "2"
    hold_seat(app, offer.id, w["head1"].id)
    hold_seat(app, offer.id, w["north_teacher1"].id)
    assert offer.id not in shown(client.get("/progress/").get_data(as_text=True))


def test_asking_the_head_shows_the_ask_instead_of_the_button(app, client, auth, w):
    offer = w["offer"]
    auth.login("teacher1")
    client.post("/language", data={"locale": "en"})
    assert client.post(f"/placements/offers/{offer.id}/ask").status_code == 302
    html = client.get("/progress/").get_data(as_text=True)
    assert offer.id in shown(html)
    assert "Asked by the teacher" in html
    assert f'action="/placements/offers/{offer.id}/ask"' not in html


def test_the_head_requests_a_seat_from_the_teachers_page(app, client, auth, w):
    offer, teacher = w["offer"], w["teacher1"]
    auth.login("head1")
    html = client.get(f"/progress/teachers/{teacher.id}").get_data(as_text=True)
    assert offer.id in shown(html)
    form = html[html.index(f'action="/placements/offers/{offer.id}/request"') :]
    assert f'name="teacher_id" value="{teacher.id}"' in form[: form.index("</form>")]
    assert set(ACTION.findall(html)) == {"request"}  # asking is the teacher's own
    response = client.post(
        f"/placements/offers/{offer.id}/request", data={"teacher_id": teacher.id}
    )
    assert response.status_code == 302
    with app.app_context():
        assert (
            db.session.scalar(
                db.select(PlacementRequest.status).where(
                    PlacementRequest.teacher_id == teacher.id
                )
            )
            == "requested"
        )
    # A seat held: the offer is no longer suggested, on either page.
    html = client.get(f"/progress/teachers/{teacher.id}").get_data(as_text=True)
    assert offer.id not in shown(html)
    auth.logout()
    auth.login("teacher1")
    assert offer.id not in shown(client.get("/progress/").get_data(as_text=True))


@pytest.mark.parametrize(
    ("viewer", "section", "actions"),
    [
        ("cadmin1", False, False),  # college admins do not open offers
        ("admin", True, False),  # the deployment admin brokers: no seat actions
    ],
)
def test_other_viewers_of_a_teachers_page(client, auth, w, viewer, section, actions):
    auth.login(viewer)
    html = client.get(f"/progress/teachers/{w['teacher1'].id}").get_data(as_text=True)
    assert ('id="path-offers"' in html) is section
    assert bool(ACTION.findall(html)) is actions


def test_other_colleges_heads_and_mentors_see_no_teachers_page(client, auth, w):
    for viewer in ("north_head1", "mentor1", "staff1", "head2"):
        auth.logout()
        auth.login(viewer)
        response = client.get(f"/progress/teachers/{w['teacher1'].id}")
        assert response.status_code == 404, viewer
    auth.logout()
    auth.login("mentor1")
    assert client.get("/progress/").status_code == 403


def test_no_offers_when_practice_is_met(app, client, auth, w):
    practice(app, w["teacher1"], 180)
    auth.login("teacher1")
    assert 'id="path-offers"' not in client.get("/progress/").get_data(as_text=True)


def test_no_offers_when_what_is_planned_closes_the_gap(app, client, auth, w):
    practice(app, w["teacher1"], 170)
    start = today(app) + timedelta(days=7)
    factories.make_placement(
        app, w["teacher1"], w["other_enterprise"], starts_on=start,
        ends_on=start + timedelta(days=20), status="approved",
    )  # fmt: skip
    auth.login("teacher1")
    assert 'id="path-offers"' not in client.get("/progress/").get_data(as_text=True)


def test_the_gap_caps_the_credit_and_nothing_open_says_so(app, client, auth, w):
    practice(app, w["teacher1"], 170)
    auth.login("teacher1")
    client.post("/language", data={"locale": "en"})
    html = client.get("/progress/").get_data(as_text=True)
    row = shown(html)[w["offer"].id]
    assert (row["credited"], row["needed-after"]) == ("10", "0")
    assert "closes the gap" in html
    with app.app_context():
        from pdtracker.placements.market_models import PlacementOffer

        db.session.get(PlacementOffer, w["offer"].id).status = "withdrawn"
        db.session.commit()
    html = client.get("/progress/").get_data(as_text=True)
    assert not shown(html)
    assert "No open enterprise offer fits" in html


def test_at_most_three_the_soonest_to_close_the_gap(app, client, auth, w):
    practice(app, w["teacher1"], 160)  # 20 days needed
    made = {
        # (weeks from now, length in days) -> offer id
        (6, 9): None,  # credits 10 of the 20: shown after every offer closing it
        (8, 29): None,  # closes it
        (10, 19): None,  # closes it, ends a few days after (8, 29)
        (14, 19): None,  # closes it, ends last: the fourth, not shown
    }
    for weeks, length in made:
        start = next_monday(weeks)
        made[(weeks, length)] = make_offer(
            app, w["other_enterprise"].id, starts_on=start,
            ends_on=start + timedelta(days=length),
        ).id  # fmt: skip
    auth.login("teacher1")
    html = client.get("/progress/").get_data(as_text=True)
    order = list(shown(html))
    assert len(order) == 3
    # Closing the gap first, the earliest end first; partial offers after.
    assert order == [w["offer"].id, made[(8, 29)], made[(10, 19)]]


def _count(client, count_queries, path: str) -> int:
    client.get(path)  # the status and its body cached: what a return visit costs
    with count_queries() as counter:
        assert client.get(path).status_code == 200
    return counter.count


def test_queries_stay_flat_with_many_offers(app, client, auth, w, count_queries):
    teacher = w["teacher1"]
    auth.login("teacher1")
    few_own = _count(client, count_queries, "/progress/")
    auth.logout()
    auth.login("head1")
    few_head = _count(client, count_queries, f"/progress/teachers/{teacher.id}")
    for n in range(40):
        enterprise = factories.make_enterprise(app, f"企业{n}")
        offer = make_offer(app, enterprise.id, starts_on=next_monday(5 + n % 30))
        if n % 3 == 0:
            hold_seat(app, offer.id, teacher.id, status="asked")
    html = client.get(f"/progress/teachers/{teacher.id}").get_data(as_text=True)
    assert len(shown(html)) == 3
    assert _count(client, count_queries, f"/progress/teachers/{teacher.id}") == (
        few_head
    )
    auth.logout()
    auth.login("teacher1")
    assert _count(client, count_queries, "/progress/") == few_own


def test_today_is_not_offered(app, client, auth, w):
    on = today(app)
    started = make_offer(app, w["enterprise"].id, post="已开始", starts_on=on)
    auth.login("teacher1")
    found = shown(client.get("/progress/").get_data(as_text=True))
    assert started.id not in found
    assert all(date.fromisoformat(r["starts-on"]) > on for r in found.values())


def test_asking_from_the_dashboard_returns_to_the_dashboard(app, client, auth, w):
    offer = w["offer"]
    auth.login("teacher1")
    html = client.get("/progress/").get_data(as_text=True)
    form = html[html.index(f'action="/placements/offers/{offer.id}/ask"') :]
    form = form[: form.index("</form>")]
    found = re.search(r'name="next" value="([^"]*)"', form)
    assert found is not None, "the ask form names no way back"
    response = client.post(
        f"/placements/offers/{offer.id}/ask", data={"next": found.group(1)}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/progress/#path-offers"


def test_requesting_from_the_teachers_page_returns_there(app, client, auth, w):
    offer, teacher = w["offer"], w["teacher1"]
    auth.login("head1")
    page = f"/progress/teachers/{teacher.id}"
    html = client.get(page).get_data(as_text=True)
    form = html[html.index(f'action="/placements/offers/{offer.id}/request"') :]
    form = form[: form.index("</form>")]
    found = re.search(r'name="next" value="([^"]*)"', form)
    assert found is not None, "the request form names no way back"
    response = client.post(
        f"/placements/offers/{offer.id}/request",
        data={"teacher_id": teacher.id, "next": found.group(1)},
    )
    assert response.headers["Location"] == f"{page}#path-offers"


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "//evil.example/progress/",
        "https://evil.example/progress/",
        "/\\evil.example",
        "/\t/evil.example",
        "progress/",
        "javascript:alert(1)",
    ],
)
def test_an_unsafe_or_missing_next_goes_to_the_offer(app, client, auth, w, target):
    offer = w["offer"]
    auth.login("teacher1")
    data = {} if target is None else {"next": target}
    response = client.post(f"/placements/offers/{offer.id}/ask", data=data)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/placements/offers/{offer.id}"


def test_a_refused_request_also_returns_to_the_page(app, client, auth, w):
    """A refusal (the seat already requested) is flashed on the page it came from."""
    offer, teacher = w["offer"], w["teacher1"]
    hold_seat(app, offer.id, teacher.id)
    auth.login("head1")
    response = client.post(
        f"/placements/offers/{offer.id}/request",
        data={"teacher_id": teacher.id, "next": f"/progress/teachers/{teacher.id}"},
    )
    assert response.headers["Location"] == f"/progress/teachers/{teacher.id}"
