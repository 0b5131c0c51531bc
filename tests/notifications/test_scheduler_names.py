"""The admin's scheduler page names jobs in words, not module paths (issue 15)."""

from __future__ import annotations

import re

from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.notifications.ticks import TICK_LABELS
from pdtracker.scheduler import SCHEDULE


def test_every_tick_has_a_name_and_a_description() -> None:
    assert {tick.id for tick in SCHEDULE} <= set(TICK_LABELS)


def test_the_page_names_each_job_in_words(app, client, auth, world) -> None:
    with app.app_context():
        db.session.get_one(User, world["admin"].id).locale = "en"
        db.session.commit()
    auth.login("admin")
    page = client.get("/admin/scheduler").text
    heading = re.search(r'id="tick-dispatch">([^<]*)</h2>', page)
    assert heading is not None
    assert heading.group(1) == "Send notifications"
    assert "delivers due notifications in-app and by e-mail" in page
    for tick in SCHEDULE:
        assert f'id="tick-{tick.id}">{TICK_LABELS[tick.id][0]}</h2>' in page
    # No function or module path anywhere on the page.
    assert "pdtracker." not in page
    assert "<code>" not in page
    assert "&lt;function" not in page
