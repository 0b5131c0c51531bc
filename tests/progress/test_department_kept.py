"""The department page keeps its rendered body and ratio comparison per cached
summary, language and time zone (issue 16, faster pages). Recognitions do not bump
the change versions, so the summary's key reads them: a recognition granted or
revoked shows on the next request, and each language keeps its own body.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from pdtracker.auth.models import Role, User
from pdtracker.extensions import db
from pdtracker.progress import cache
from pdtracker.recognition.models import Recognition
from tests.factories import make_recognition

_CSRF = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+|(csrf-token" content=")[^"]+')


@pytest.fixture
def people(make_department, make_user):
    """王小华 and 李明, teachers of one department, its head and a college admin."""
    ai = make_department("AI", "人工智能技术应用系")
    teacher = make_user("wxh", Role.TEACHER, department=ai, display_name="王小华")
    return {
        "ai": ai,
        "teacher": teacher,
        "colleague": make_user("teacher2", Role.TEACHER, department=ai,
                               display_name="李明"),
        "head": make_user("head1", Role.HEAD, Role.TEACHER, department=ai),
        "cadmin": make_user("cadmin1", Role.COLLEGE_ADMIN,
                            institution_id=teacher.institution_id),
    }  # fmt: skip


def _page(app, client, people, locale: str) -> str:
    """The head's department page in ``locale`` (CSRF tokens masked)."""
    with app.app_context():
        db.session.get_one(User, people["head"].id).locale = locale
        db.session.commit()
    response = client.get("/progress/department")
    assert response.status_code == 200
    return _masked(response.text)


def _masked(html: str) -> str:
    return _CSRF.sub(lambda m: (m.group(1) or m.group(2)) + "X", html)


def _comparison(html: str) -> str:
    return html.split('id="ratio-comparison"')[1].split("</section>")[0]


def test_recognition_granted_then_revoked_shows_on_the_warm_page(
    app, client, auth, people
) -> None:
    auth.login("head1")
    before = _page(app, client, people, "en")
    assert _page(app, client, people, "en") == before  # warm: kept body
    assert 'data-recognised="0"' in _comparison(before)

    rec = make_recognition(
        app, people["teacher"], valid_from=date(2020, 1, 1), years=20
    )
    granted = _comparison(_page(app, client, people, "en"))
    assert 'data-recognised="1"' in granted
    assert "王小华" in granted.split('id="no-longer-meeting"')[1]

    with app.app_context():
        revoked = db.session.get_one(Recognition, rec.id)
        revoked.state, revoked.revoke_reason = "revoked", "Evidence withdrawn"
        db.session.commit()
    revoked = _comparison(_page(app, client, people, "en"))
    assert 'data-recognised="0"' in revoked
    assert "王小华" not in revoked


def test_kept_body_is_per_language(app, client, auth, people) -> None:
    """One cached summary keeps a body per language: the head reads Chinese, the
    college admin English, and neither is served the other's."""
    with app.app_context():
        db.session.get_one(User, people["head"].id).locale = "zh_Hans_CN"
        db.session.get_one(User, people["cadmin"].id).locale = "en"
        db.session.commit()
    url = f"/progress/department?department={people['ai'].id}"

    def page(user: str) -> str:
        auth.login(user)
        html = _masked(client.get(url).text)
        auth.logout()
        client.get("/login")  # shows the sign-out message, so the next page does not
        return html

    zh, en = page("head1"), page("cadmin1")
    assert "Recognised and computed ratios" in en
    assert "认定比例与测算比例" in zh
    assert "Recognised and computed ratios" not in zh
    assert page("head1") == zh
    assert page("cadmin1") == en
    with app.app_context():
        kept = [s for s, _expires in cache.caches().departments._data.values()]  # noqa: SLF001
    assert len(kept) == 1
    bodies = {key[0]: body for key, body in kept[0].fragments.items()}
    assert set(bodies) == {"en", "zh_Hans_CN"}
    assert "Recognised and computed ratios" in bodies["en"]
    assert "认定比例与测算比例" in bodies["zh_Hans_CN"]


@pytest.mark.parametrize("locale", ["en", "zh_Hans_CN"])
def test_kept_page_is_the_page_rendered_afresh(app, client, auth, people, locale):
    """The warm page, byte for byte (CSRF masked), as a cold cache renders it."""
    make_recognition(app, people["teacher"], valid_from=date(2020, 1, 1), years=20)
    auth.login("head1")
    html = _page(app, client, people, locale)
    assert "王小华" in _comparison(html).split('id="no-longer-meeting"')[1]
    assert _page(app, client, people, locale) == html
    with app.app_context():
        cache.caches().departments.clear()
    assert _page(app, client, people, locale) == html
