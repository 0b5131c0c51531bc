"""Two clicks on Download certificate at once: one paper, the same file twice."""

from __future__ import annotations

from sqlalchemy import func, select

from pdtracker.extensions import db
from pdtracker.papers.models import Paper
from tests.concurrency import at_once, signed_in
from tests.factories import make_recognition


def test_two_clicks_on_download_certificate_issue_one_paper(app, people):
    rec = make_recognition(app, people["teacher"])
    clients = [signed_in(app, "wxh") for _ in range(2)]

    def click(client):
        def run():
            response = client.post(f"/papers/certificates/{rec.id}")
            return response.status_code, response.data

        return run

    results = at_once(*(click(c) for c in clients))
    for result in results:
        if isinstance(result, BaseException):
            raise result  # here, where a missing Pango or font becomes a skip
    assert [r[0] for r in results] == [200, 200], results
    assert results[0][1] == results[1][1]  # the same stored file
    with app.app_context():
        assert db.session.scalar(select(func.count(Paper.id))) == 1
