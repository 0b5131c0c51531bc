"""The recognised ratio beside the computed one, and who makes them differ."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from flask import render_template_string

from pdtracker.auth.models import Role
from pdtracker.papers.ratios import compare_ratios
from tests.factories import make_recognition

ON = date(2027, 1, 15)


def _status(user, *, meets: bool, professional: bool = True):
    teacher = SimpleNamespace(id=user.id, display_name=user.display_name)
    return SimpleNamespace(
        teacher=teacher, dual_qualified=meets, professional_course=professional
    )


def _summary(app, people, make_user):
    general = make_user("gen", Role.TEACHER, department=people["ai"],
                        display_name="通识", professional_course=False)  # fmt: skip
    make_recognition(app, people["teacher"])  # recognised and meets
    make_recognition(app, people["colleague"])  # recognised, no longer meets
    make_recognition(app, general)  # outside the population
    return SimpleNamespace(
        as_of=ON,
        teachers=[
            _status(people["teacher"], meets=True),
            _status(people["colleague"], meets=False),
            _status(people["head"], meets=True),  # meets, not recognised
            _status(general, meets=True, professional=False),
        ],
    )


def test_compare_ratios_names_the_differences(app, people, make_user):
    summary = _summary(app, people, make_user)
    with app.app_context():
        cmp = compare_ratios(summary)
    assert (cmp.total, cmp.computed, cmp.recognised) == (3, 2, 2)
    assert [t.display_name for t in cmp.not_yet_recognised] == ["head1"]
    assert [t.display_name for t in cmp.no_longer_meeting] == ["李明"]


def test_partial_shows_both_ratios_and_names(app, people, make_user):
    summary = _summary(app, people, make_user)
    with app.test_request_context():
        html = render_template_string(
            '{% include "papers/_ratio_comparison.html" %}', summary=summary
        )
    assert 'data-computed="2"' in html
    assert 'data-recognised="2"' in html
    assert "66.7%" in html
    assert "head1" in html.split('id="not-yet-recognised"')[1]
    assert "李明" in html.split('id="no-longer-meeting"')[1]


def test_department_page_shows_the_comparison(app, client, auth, people):
    make_recognition(app, people["teacher"], valid_from=date(2020, 1, 1), years=20)
    auth.login("head1")
    page = client.get("/progress/department").text
    assert 'id="ratio-comparison"' in page
    assert 'data-recognised="1"' in page
    # Nobody meets the rules here (no activities): 王小华 is recognised regardless.
    assert "王小华" in page.split('id="no-longer-meeting"')[1]
