"""The placement list is the same bytes as the list drawn plainly, every time.

Every request of ``/placements/`` here is also drawn with the list template as it
was before anything was kept (``REFERENCE``) from the view's old code
(``reference_context``: the scope's placements paginated, their days counted).
The two pages must be the same bytes (CSRF tokens masked), in Chinese and
English, for a teacher, a head, a mentor and the admin, with and without the
status filter, on the first visit and the next ones, and after each kind of
change: a new placement, a cancelled one, a mentor's confirmed days, a renamed
enterprise and teacher, a college ruleset that counts days another way, a
language switch.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import flask
import pytest
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from pdtracker.auth.models import Role, User
from pdtracker.extensions import db
from pdtracker.main.paging import paginate
from pdtracker.placements import views as placement_views
from pdtracker.placements.counting import placements_days
from pdtracker.placements.market import sees_offers
from pdtracker.placements.market_models import MentorAssessment
from pdtracker.placements.mentors import placement_clause
from pdtracker.placements.models import Enterprise, Placement, PlacementStatus
from pdtracker.placements.services import cancel_placement
from tests.placements.test_days import _publish_working_layer

# templates/placements/index.html before its body was kept.
REFERENCE = """{% extends "base.html" %}
{% from "placements/_status.html" import placement_badge %}
{% block title %}{{ _("Placements") }}{% endblock %}
{% block content %}
<div class="d-flex flex-wrap align-items-center gap-2 mb-3">
  <h1 class="h3 mb-0 me-auto">{{ (_("Department placements") if can_plan else _("Placements")) if is_head else _("My placements") }}</h1>
  {% if offers_visible %}<a class="btn btn-outline-primary" href="{{ url_for('placements.offers') }}">{{ _("Enterprise offers") }}</a>{% endif %}
  {% if can_plan %}
  <a class="btn btn-outline-primary" href="{{ url_for('placements.timeline') }}">{{ _("Timeline") }}</a>
  <a class="btn btn-primary" href="{{ url_for('placements.create') }}">{{ _("Plan a placement") }}</a>
  {% endif %}
</div>
{% if is_head %}
<ul class="nav nav-pills flex-wrap mb-3">
  <li class="nav-item"><a class="nav-link{% if not status %} active{% endif %}" href="{{ url_for('placements.index') }}">{{ _("All") }}</a></li>
  {% for s in statuses %}
  <li class="nav-item"><a class="nav-link{% if status == s %} active{% endif %}" href="{{ url_for('placements.index', status=s.value) }}">{{ placement_status_label(s) }}</a></li>
  {% endfor %}
</ul>
{% endif %}
{% if page.items %}
<div class="table-responsive">
<table class="table table-sm table-hover">
  <thead><tr>
    {% if is_head %}<th>{{ _("Teacher") }}</th>{% endif %}
    <th>{{ _("Host enterprise") }}</th><th>{{ _("Dates") }}</th><th class="text-end">{{ _("Credited days") }}</th><th>{{ _("Status") }}</th>
  </tr></thead>
  <tbody>
  {% for p in page.items %}
  <tr>
    {% if is_head %}<td>{{ p.teacher.display_name }}</td>{% endif %}
    <td><a href="{{ url_for('placements.detail', placement_id=p.id) }}">{{ p.enterprise.name }}</a></td>
    <td class="text-nowrap">{{ p.starts_on.isoformat() }} – {{ p.ends_on.isoformat() }}</td>
    {% set credit = credits[p.id] %}
    <td class="text-end" data-credited="{{ credit.days }}">{{ credit.days }}{% if credit.confirmed %} <span title="{{ _('As the enterprise mentor confirmed them') }}">✓</span>{% endif %}</td>
    <td>{{ placement_badge(p.status) }}</td>
  </tr>
  {% endfor %}
  </tbody>
</table>
</div>
{% if page.pages > 1 %}
<nav aria-label="{{ _('Pages') }}"><ul class="pagination">
  {% if page.has_prev %}<li class="page-item"><a class="page-link" href="{{ url_for('placements.index', status=status or None, page=page.prev_num) }}">{{ _("Previous") }}</a></li>{% endif %}
  <li class="page-item disabled"><span class="page-link">{{ page.page }} / {{ page.pages }}</span></li>
  {% if page.has_next %}<li class="page-item"><a class="page-link" href="{{ url_for('placements.index', status=status or None, page=page.next_num) }}">{{ _("Next") }}</a></li>{% endif %}
</ul></nav>
{% endif %}
{% else %}
<p class="text-muted">{{ _("No placements yet.") }}</p>
{% endif %}
{% endblock %}
"""  # noqa: E501


def reference_context() -> dict[str, Any]:
    """The list view's context as it was worked out before (nothing kept)."""
    status = flask.request.args.get("status", "")
    query = (
        select(Placement)
        .options(joinedload(Placement.teacher), joinedload(Placement.enterprise))
        .join(User, User.id == Placement.teacher_id)
        .where(placement_clause(current_user))
    )
    is_head = not (
        current_user.has_role(Role.TEACHER)
        and not current_user.has_role(
            Role.HEAD, Role.MENTOR, Role.COLLEGE_ADMIN, Role.ADMIN
        )
    )
    if status in placement_views.STATUS_LABELS:
        query = query.where(Placement.status == status)
    page = paginate(
        query.order_by(Placement.starts_on.desc(), Placement.id.desc()),
        placement_views.PER_PAGE,
    )
    return {
        "page": page,
        "credits": placements_days(page.items),
        "status": status,
        "statuses": list(PlacementStatus),
        "is_head": is_head,
        "can_plan": current_user.has_role(Role.HEAD),
        "offers_visible": sees_offers(current_user),
    }


def masked(text: str) -> str:
    """The page with its CSRF tokens masked (they are signed with the time)."""
    return re.sub(r'name="csrf_token" value="[^"]*"', "csrf", text)


@pytest.fixture
def checked(monkeypatch) -> list[tuple[str, str]]:
    """Each list page with the reference drawn in the same request."""
    pairs: list[tuple[str, str]] = []
    real = placement_views.render_template

    def both(name: str, **context: Any) -> str:
        page = real(name, **context)
        if name == "placements/index.html":
            reference = flask.render_template_string(REFERENCE, **reference_context())
            pairs.append((page, reference))
        return page

    monkeypatch.setattr(placement_views, "render_template", both)
    monkeypatch.setattr(placement_views, "PER_PAGE", 3)  # several pages
    return pairs


PATHS = ["/placements/", "/placements/?page=2", "/placements/?status=approved"]


def _as(auth, name: str) -> None:
    auth.logout()
    auth.login(name)


def _visit_all(client, checked, label: str) -> str:
    for visit in ("first", "again"):
        for path in PATHS:
            before = len(checked)
            assert client.get(path).status_code == 200, (label, path)
            assert len(checked) == before + 1, path
            page, reference = checked[-1]
            assert masked(page) == masked(reference), (label, visit, path)
    return checked[-3][0]


def _everyone(client, auth, checked, label: str) -> None:
    for name in ("teacher1", "teacher2", "head1", "mentor", "admin"):
        _as(auth, name)
        _visit_all(client, checked, f"{label}: {name}")


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
    app, client, auth, world, cast, make_placement, checked, locale
) -> None:
    with app.app_context():
        for name in ("teacher1", "teacher2", "head1", "admin"):
            db.session.get_one(User, world[name].id).locale = locale
        db.session.get_one(User, cast["mentor"].id).locale = locale
        db.session.commit()
    _everyone(client, auth, checked, "start")
    assert ("My placements" in checked[0][0]) == (locale == "en")

    make_placement(world["teacher1"], cast["zte"], status="approved")  # new
    _everyone(client, auth, checked, "new placement")
    with app.app_context():  # cancelled
        placement = db.session.get_one(Placement, cast["placements"][3].id)
        cancel_placement(
            placement,
            actor=db.session.get_one(User, world["head1"].id),
            now=datetime(2026, 3, 1, tzinfo=UTC),
            reason="改期",
        )
        db.session.commit()
    _everyone(client, auth, checked, "cancelled")
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
    teacher1 = _visit_all(client, checked, "confirmed: admin")
    _everyone(client, auth, checked, "confirmed")
    with app.app_context():  # renamed enterprise and teacher
        db.session.get_one(Enterprise, cast["hua"].id).name = "华为 <改名>"
        db.session.get_one(User, world["teacher2"].id).display_name = "王 & 老师"
        db.session.commit()
    _everyone(client, auth, checked, "renamed")
    with app.app_context():  # teacher1's college counts working days
        _publish_working_layer(world["ai"].institution_id)
    _everyone(client, auth, checked, "ruleset")
    _as(auth, "head1")
    other = "zh_Hans_CN" if locale == "en" else "en"
    client.post("/language", data={"locale": other})  # a language switch
    _visit_all(client, checked, "switched")
    assert ("Department placements" in checked[-3][0]) == (other == "en")
    assert teacher1


def _score_fields() -> tuple[str, ...]:
    from pdtracker.placements.market_models import SCORE_FIELDS

    return tuple(SCORE_FIELDS)


def test_one_teachers_list_never_shows_on_anothers(
    app, client, auth, world, cast, checked
) -> None:
    _as(auth, "teacher1")
    first = client.get("/placements/").text
    _as(auth, "teacher2")
    second = client.get("/placements/").text
    assert masked(first) != masked(second)
    for page, reference in checked:
        assert masked(page) == masked(reference)
