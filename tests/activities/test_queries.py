"""Pages issue a bounded number of SQL queries whatever the data size."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from decimal import Decimal

import pytest

from pdtracker.activities.models import Activity, EvidenceFile
from pdtracker.extensions import db


def _add_activities(app, teacher, count: int) -> None:
    """Add `count` completed lectures, each with one evidence row, in one flush."""
    with app.app_context():
        rows = [
            Activity(
                teacher_id=teacher.id,
                kind_code=("seminar", "expert_lecture", "training")[i % 3],
                title=f"讲座 {i}",
                starts_on=date(2024, 1, 1) + timedelta(days=i),
                hours=Decimal("2"),
                status="completed",
                evidence=[
                    EvidenceFile(
                        original_name=f"证明{i}.pdf",
                        stored_name=f"{secrets.token_hex(16)}.pdf",
                        content_type="application/pdf",
                        size_bytes=100,
                        sha256="0" * 64,
                    )
                ],
            )
            for i in range(count)
        ]
        db.session.add_all(rows)
        db.session.commit()


def _queries(client, count_queries, path: str) -> int:
    with count_queries() as counter:
        response = client.get(path)
    assert response.status_code == 200
    return counter.count


@pytest.mark.parametrize(
    ("user", "path"),
    [
        ("teacher1", "/activities/"),
        ("teacher1", "/activities/?kind=seminar&status=completed&year=2024"),
        ("head1", "/activities/review"),
    ],
)
def test_page_query_count_does_not_grow(
    app, client, auth, world, count_queries, user, path
) -> None:
    auth.login(user)
    _add_activities(app, world["teacher1"], 1)
    small = _queries(client, count_queries, path)
    _add_activities(app, world["teacher1"], 199)
    large = _queries(client, count_queries, path)
    assert large == small
    assert "讲座" in client.get(path).get_data(as_text=True)
