"""The event list's kept rows of HTML draw the same page as drawing every row.

Each request here is also drawn with the list template as it was before rows were
kept (``REFERENCE``, the same context), and the two pages must be the same bytes
(CSRF tokens masked), in Chinese and English, on a first visit (rows drawn) and a
second one (rows kept). Then: a change to an event, to its seats or to the user's
registration shows at once, and one teacher's registration never shows on
another's list.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import flask
import pytest

from pdtracker import fragments
from pdtracker.auth.models import User
from pdtracker.events import views as event_views
from pdtracker.events.models import Event
from pdtracker.events.registrations import cancel_registration
from pdtracker.extensions import db
from pdtracker.timeutil import SHANGHAI, utcnow

# templates/events/index.html before its rows were kept (every row drawn each time).
REFERENCE = """{% extends "base.html" %}
{% from "events/_event.html" import registration_status, pager with context %}
{% block title %}{{ _("Association events") }}{% endblock %}
{% block content %}
<div class="d-flex flex-wrap justify-content-between align-items-center gap-2 mb-3">
  <h1 class="h3 mb-0">{{ _("Association events") }}</h1>
  {% if is_staff %}<a class="btn btn-outline-primary btn-sm" href="{{ url_for('events.manage') }}">{{ _("Manage events") }}</a>{% endif %}
</div>

<ul class="nav nav-pills flex-wrap mb-2">
  <li class="nav-item"><a class="nav-link{% if not kind %} active{% endif %}" href="{{ url_for('events.index', month=month or None) }}">{{ _("All kinds") }}</a></li>
  {% for choice in kinds %}
  <li class="nav-item"><a class="nav-link{% if kind == choice.value %} active{% endif %}" href="{{ url_for('events.index', kind=choice.value, month=month or None) }}">{{ choice.label }}</a></li>
  {% endfor %}
</ul>
<div class="d-flex flex-wrap align-items-center gap-2 mb-3">
  <a class="btn btn-sm btn-outline-secondary" href="{{ url_for('events.index', kind=kind or None, month=months.prev) }}" aria-label="{{ _('Previous month') }}">‹ {{ months.prev }}</a>
  <a class="btn btn-sm {% if month %}btn-secondary{% else %}btn-outline-secondary{% endif %}" href="{{ url_for('events.index', kind=kind or None, month=months.this) }}">{{ months.this }}</a>
  <a class="btn btn-sm btn-outline-secondary" href="{{ url_for('events.index', kind=kind or None, month=months.next) }}" aria-label="{{ _('Next month') }}">{{ months.next }} ›</a>
  {% if month %}<a class="btn btn-sm btn-link" href="{{ url_for('events.index', kind=kind or None) }}">{{ _("All months") }}</a>{% endif %}
</div>

{% for event in page.items %}
{% set taken, waiting = counts[event.id] %}
{% set mine_reg = mine.get(event.id) %}
<div class="card mb-2{% if event.series_ends_at and event.series_ends_at < now %} text-body-secondary{% endif %}">
  <div class="card-body">
    <div class="d-flex flex-wrap justify-content-between gap-2">
      <h2 class="h5 card-title mb-1"><a href="{{ url_for('events.detail', event_id=event.id) }}">{{ event.title }}</a></h2>
      <div>
        <span class="badge text-bg-light">{{ kind_label(event.kind) }}</span>
        {% if mine_reg and mine_reg.status != 'cancelled' %}{{ registration_status(mine_reg.status) }}{% endif %}
      </div>
    </div>
    {% set upcoming = next_sessions.get(event.id) %}
    {% if event.is_series %}
    <div class="small">{{ series_text(event) }}</div>
    {% if upcoming %}<div class="small">{{ _("Next session") }}: {{ session_when(event, upcoming.starts_at, upcoming.ends_at) }}{% if upcoming.is_moved %} <span class="badge text-bg-warning">{{ _("moved") }}</span>{% endif %}</div>{% endif %}
    {% else %}
    <div class="small">{{ event_when(event) }}</div>
    {% endif %}
    {% if event.location %}<div class="small text-body-secondary">{{ event.location }}</div>
    {% elif event.online_url %}<div class="small text-body-secondary">{{ _("Online") }}</div>{% endif %}
    <div class="small mt-1">{{ seats_text(event.capacity, taken, waiting) }}</div>
  </div>
</div>
{% else %}
<p class="text-body-secondary">{{ _("No events found.") }}</p>
{% endfor %}
{{ pager(page, 'events.index', kind=kind or None, month=month or None) }}
{% endblock %}"""  # noqa: E501


def _masked(text: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "csrf", text)


@pytest.fixture
def references(monkeypatch) -> list[str]:
    """Each list page drawn again with REFERENCE, from the context worked out plainly
    (test_list_bytes.reference_context: the view's own context holds kept rows)."""
    from tests.events.test_list_bytes import reference_context

    drawn: list[str] = []
    real = event_views.render_template

    def both(name: str, **context):
        page = real(name, **context)
        if name == "events/index.html":
            plain = reference_context(utcnow())
            drawn.append(flask.render_template_string(REFERENCE, **plain))
        return page

    monkeypatch.setattr(event_views, "render_template", both)
    return drawn


def _as(auth, name: str) -> None:
    auth.logout()
    auth.login(name)


def _world(make_event, registered, world, now: datetime) -> dict[str, Event]:
    events = {
        "soon": make_event(
            title="明天 <讲座> & 研讨", starts_at=now + timedelta(days=1)
        ),
        "full": make_event(
            title="满员讲座", capacity=1, starts_at=now + timedelta(days=2)
        ),
        "online": make_event(
            title="线上讲座",
            location=None,
            online_url="https://meet.example.org/x",
            starts_at=now + timedelta(days=3),
            ends_at=now + timedelta(days=4, hours=2),
        ),
        "all_day": make_event(
            title="全天工作坊",
            is_all_day=True,
            start_on=date(2031, 5, 6),
            end_on=date(2031, 5, 9),
        ),
        "series": make_event(
            title="每周研讨",
            kind_code="seminar",
            starts_at=now - timedelta(weeks=2) + timedelta(hours=30),
            ends_at=now - timedelta(weeks=2) + timedelta(hours=31, minutes=30),
            rrule="FREQ=WEEKLY;COUNT=6",
        ),
        "cancelled": make_event(
            title="取消了的讲座", starts_at=now + timedelta(days=5)
        ),
    }
    for i in range(24):
        make_event(title=f"讲座{i:02d}", starts_at=now + timedelta(days=6, hours=7 * i))
    for i in range(4):
        make_event(title=f"旧讲座{i}", starts_at=now - timedelta(days=3 + i))
    teacher1, teacher2 = world["teacher1"], world["teacher2"]
    registered(teacher2, events["full"])
    registered(teacher1, events["full"])  # waitlisted
    registered(teacher1, events["soon"])
    registered(teacher1, events["cancelled"])
    with db.session.begin():
        cancel_registration(
            db.session.get_one(User, teacher1.id),
            db.session.get_one(Event, events["cancelled"].id),
            datetime(2020, 1, 3, tzinfo=UTC),
        )
    return events


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_kept_rows_draw_the_same_bytes_as_drawing_every_row(
    app, client, auth, world, make_event, registered, references, locale
) -> None:
    with app.app_context():
        _world(make_event, registered, world, utcnow())
        for name in ("teacher1", "staff1"):
            db.session.get_one(User, world[name].id).locale = locale
        db.session.commit()
    month = utcnow().astimezone(SHANGHAI).strftime("%Y-%m")
    paths = [
        "/events/",
        "/events/?page=2",
        "/events/?kind=seminar",
        f"/events/?month={month}",
    ]
    for name in ("teacher1", "staff1"):
        _as(auth, name)
        for visit in ("drawn", "kept"):
            for path in paths:
                page = client.get(path).text
                assert _masked(page) == _masked(references[-1]), (name, visit, path)
    first = references[0]
    assert ("Association events" in first) == (locale == "en")
    assert "明天 &lt;讲座&gt; &amp; 研讨" in first
    assert (
        first.count('class="badge text-bg-success"') == 1
    )  # registered, not cancelled
    assert first.count('class="badge text-bg-warning"') == 1  # waitlisted


def test_a_change_to_an_event_or_its_seats_shows_at_once(
    app, client, auth, world, make_event, registered
) -> None:
    event = make_event(
        title="旧标题", capacity=2, starts_at=utcnow() + timedelta(days=1)
    )
    with app.app_context():
        db.session.get_one(User, world["teacher1"].id).locale = "en"
        db.session.commit()
    auth.login("teacher1")
    page = client.get("/events/").text
    assert "旧标题" in page
    assert "2 of 2 seats left" in page
    with app.app_context():
        db.session.get_one(Event, event.id).title = "新标题"  # not even a version bump
        db.session.commit()
    page = client.get("/events/").text
    assert "新标题" in page
    assert "旧标题" not in page
    registered(world["teacher2"], event)
    page = client.get("/events/").text
    assert "1 of 2 seats left" in page
    assert "2 of 2 seats left" not in page


def test_one_teachers_registration_never_shows_on_anothers_list(
    app, client, auth, world, make_event, registered
) -> None:
    event = make_event(title="讲座", starts_at=utcnow() + timedelta(days=1))
    badge = 'class="badge text-bg-success"'
    _as(auth, "teacher2")
    assert badge not in client.get("/events/").text
    registered(world["teacher1"], event)
    _as(auth, "teacher1")
    assert badge in client.get("/events/").text  # kept with teacher1's status
    _as(auth, "teacher2")
    assert badge not in client.get("/events/").text
    _as(auth, "teacher1")
    assert badge in client.get("/events/").text
    with app.app_context(), db.session.begin():
        cancel_registration(
            db.session.get_one(User, world["teacher1"].id),
            db.session.get_one(Event, event.id),
            datetime(2020, 1, 3, tzinfo=UTC),
        )
    assert badge not in client.get("/events/").text


def test_rows_are_kept_between_requests(app, client, auth, world, make_event) -> None:
    for i in range(3):
        make_event(title=f"讲座{i}", starts_at=utcnow() + timedelta(days=1 + i))
    auth.login("teacher1")
    first = client.get("/events/").text
    store = app.extensions[fragments._SMALL_EXTENSION]
    assert len(store) == 3 + 2  # rows, the filters and the pager
    assert client.get("/events/").text == first
    assert len(store) == 3 + 2  # rows, the filters and the pager
