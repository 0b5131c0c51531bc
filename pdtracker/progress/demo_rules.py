"""The demo's ruleset layers: the shipped examples published per scope."""

from __future__ import annotations

from datetime import datetime

from pdtracker.auth.models import User
from pdtracker.org.models import Institution
from pdtracker.progress import records
from pdtracker.progress.rulebook import builtin_text


def seed_rule_layers(
    regional_by: User, colleges: dict[Institution, User], now: datetime
) -> None:
    """Publish the shipped example layers, for the demo.

    The province example becomes the regional layer (published by
    ``regional_by``: staff or the deployment admin) and the college example each
    given college's own layer (published by that college's admin). Idempotent
    per scope: a scope with an active version of that name is left alone. A
    name belongs to one scope, so the college example can be published into one
    college only; any further college gets a copy named after its code.
    """
    regional = records.active_ruleset()
    if regional.name != "cn-province-example":
        rec = records.create_draft(
            builtin_text("cn-province-example"), "toml", actor=regional_by, now=now
        )
        records.publish(rec, actor=regional_by, now=now)
    college_text = builtin_text("cn-college-example")
    for number, (institution, admin) in enumerate(colleges.items()):
        mine = records.active_ruleset_for(institution.id)
        if mine.institution_id == institution.id:
            continue
        text = college_text
        if number:
            text = text.replace(
                'name = "cn-college-example"',
                f'name = "cn-college-example-{institution.code.lower()}"',
                1,
            )
        rec = records.create_draft(
            text, "toml", actor=admin, now=now, institution_id=institution.id
        )
        records.publish(rec, actor=admin, now=now)
