"""A step's form that does not validate is shown again with its errors and what
was typed, not replaced by a generic message on an empty form."""

from __future__ import annotations

from sqlalchemy import select

from pdtracker.extensions import db
from pdtracker.recognition.models import Objection
from pdtracker.timeutil import utcnow
from tests.recognition.conftest import qualify
from tests.recognition.flow import apply, open_round, publish, through_panel


def test_an_objection_too_long_keeps_what_was_typed_and_says_why(
    app, client, auth, cast
):
    qualify(app, cast["teacher1"], "primary")
    now = utcnow()
    with app.app_context():
        rnd = open_round(now)
        a = apply(rnd, "teacher1", "primary", now)
        through_panel(a, now)
        publish(rnd, now)
        db.session.commit()
        a_id = a.id
    auth.login("teacher1")
    typed = "我对结果有异议，理由如下。" * 400  # 4,800 characters: over the limit
    response = client.post(
        f"/recognition/applications/{a_id}/object",
        data={"object-statement": typed},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert typed in response.text  # still in the form
    assert "请填写理由" not in response.text  # not "Give a reason."
    assert "4000" in response.text  # the field's limit is named
    with app.app_context():
        assert db.session.scalar(select(Objection.id)) is None
