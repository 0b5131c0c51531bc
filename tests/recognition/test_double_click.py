"""Two clicks on Apply at once (or two tabs): one application, and the second
request is told it has applied, not shown an error page."""

from __future__ import annotations

from sqlalchemy import func, select

from pdtracker.extensions import db
from pdtracker.recognition.models import RecognitionApplication
from pdtracker.timeutil import utcnow
from tests.concurrency import at_once, signed_in
from tests.recognition.conftest import qualify
from tests.recognition.flow import open_round


def test_two_clicks_on_apply_make_one_application(app, cast):
    qualify(app, cast["teacher1"], "primary")
    with app.app_context():
        rid = open_round(utcnow()).id
        db.session.commit()
    clients = [signed_in(app, "teacher1") for _ in range(2)]

    def click(client):
        return lambda: (
            client.post(
                f"/recognition/rounds/{rid}/apply", data={"level": "primary"}
            ).status_code
        )

    statuses = at_once(*(click(c) for c in clients))
    assert sorted(map(str, statuses)) == ["200", "302"]  # the second is told why
    with app.app_context():
        assert db.session.scalar(select(func.count(RecognitionApplication.id))) == 1
