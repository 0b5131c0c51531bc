"""Double credit: a hand-logged activity that an attendance or a placement already credited.

Attending an event and completing a placement each credit a verified activity
by themselves. A teacher who then logs the same thing by hand would count it
twice. "The same thing": same kind, overlapping dates, and a similar title (or
the same host enterprise). Titles are compared normalised (Unicode NFKC, case
folded, punctuation and spaces dropped, the generated "企业实践：" prefix left
out): one containing the other, or a difflib ratio of at least
:data:`SIMILAR_RATIO`.

The teacher is warned before saving (and may save anyway); the head's
verification queue flags the likely duplicates of a page of activities with one
query (:func:`flags_for`).
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from pdtracker.activities.models import Activity, ActivitySource
from pdtracker.extensions import db

SIMILAR_RATIO = 0.6
# How the credited activities got into the log; everything else was typed or imported.
HAND_SOURCES = (ActivitySource.SELF.value, ActivitySource.IMPORT.value)
# Prefixes the app writes into generated titles (placements.services._credit).
GENERATED_PREFIXES = ("企业实践",)
MIN_CONTAINED = 2  # a contained title must be at least this long to count
SOURCE_LABELS = {
    ActivitySource.EVENT.value: _l("credited by attendance at an event"),
    ActivitySource.PLACEMENT.value: _l("credited by an enterprise placement"),
}


@dataclass(frozen=True)
class Lookalike:
    """An activity already credited that the one being logged seems to repeat."""

    id: int
    title: str
    source: str
    starts_on: date
    ends_on: date

    @property
    def source_label(self) -> str:
        """How it was credited, in words."""
        return str(SOURCE_LABELS.get(self.source, _l("credited automatically")))


def normalise(title: str) -> str:
    """The title reduced to its letters and digits, case-folded (NFKC first)."""
    text = unicodedata.normalize("NFKC", title or "").casefold()
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")
    for prefix in GENERATED_PREFIXES:
        if kept.startswith(prefix) and len(kept) > len(prefix):
            kept = kept[len(prefix) :]
    return kept


def similar_titles(a: str, b: str) -> bool:
    """Whether two titles name the same thing, as far as their words tell."""
    left, right = normalise(a), normalise(b)
    if not left or not right:
        return False
    if left == right:
        return True
    shorter, longer = sorted((left, right), key=len)
    if len(shorter) >= MIN_CONTAINED and shorter in longer:
        return True
    return difflib.SequenceMatcher(None, left, right).ratio() >= SIMILAR_RATIO


def _last_day(start: date, end: date | None) -> date:
    return end or start


def overlaps(
    a_start: date, a_end: date | None, b_start: date, b_end: date | None
) -> bool:
    """Whether two date spans (an end of None: one day) share a day."""
    return a_start <= _last_day(b_start, b_end) and b_start <= _last_day(a_start, a_end)


def _alike(
    title: str,
    enterprise_id: int | None,
    other_title: str,
    other_enterprise: int | None,
) -> bool:
    if enterprise_id is not None and enterprise_id == other_enterprise:
        return True
    return similar_titles(title, other_title)


def lookalikes(
    teacher_id: int,
    *,
    kind_code: str,
    title: str,
    starts_on: date,
    ends_on: date | None = None,
    enterprise_id: int | None = None,
    exclude_id: int | None = None,
) -> list[Lookalike]:
    """The teacher's credited activities (attendance, placement) this one repeats."""
    query = select(
        Activity.id, Activity.title, Activity.source, Activity.starts_on,
        Activity.ends_on, Activity.enterprise_id,
    ).where(
        Activity.teacher_id == teacher_id,
        Activity.kind_code == kind_code,
        Activity.source.not_in(HAND_SOURCES),
        Activity.starts_on <= _last_day(starts_on, ends_on),
        func.coalesce(Activity.ends_on, Activity.starts_on) >= starts_on,
    ).order_by(Activity.starts_on, Activity.id)  # fmt: skip
    if exclude_id is not None:
        query = query.where(Activity.id != exclude_id)
    return [
        Lookalike(row.id, row.title, row.source, row.starts_on,
                  _last_day(row.starts_on, row.ends_on))
        for row in db.session.execute(query)
        if _alike(title, enterprise_id, row.title, row.enterprise_id)
    ]  # fmt: skip


def lookalikes_of_fields(
    teacher_id: int, fields: Any, *, exclude_id: int | None = None
) -> list[Lookalike]:
    """:func:`lookalikes` for the form's :class:`ActivityFields`."""
    return lookalikes(
        teacher_id, kind_code=fields.kind_code, title=fields.title,
        starts_on=fields.starts_on, ends_on=fields.ends_on,
        enterprise_id=fields.enterprise_id, exclude_id=exclude_id,
    )  # fmt: skip


def confirmation(found: Iterable[Lookalike]) -> str:
    """What "save anyway" carries: the ids of the lookalikes the teacher was shown."""
    return ",".join(str(item.id) for item in sorted(found, key=lambda i: i.id))


def unconfirmed(found: Sequence[Lookalike], confirmed: str | None) -> list[Lookalike]:
    """The lookalikes the teacher has not yet been shown and saved anyway."""
    seen = {part for part in (confirmed or "").split(",") if part.isdigit()}
    return [item for item in found if str(item.id) not in seen]


def flags_for(activities: Collection[Activity]) -> dict[int, list[Lookalike]]:
    """Likely duplicates of each hand-logged activity among `activities` (one query).

    For the head's queue: a self-join from the page's activities to the same
    teacher's credited activities of the same kind with overlapping dates; the
    titles are compared here. Activities without a lookalike are absent.
    """
    hand = {a.id: a for a in activities if a.source in HAND_SOURCES}
    if not hand:
        return {}
    mine, credited = Activity, aliased(Activity)
    rows = db.session.execute(
        select(
            mine.id.label("activity_id"), credited.id, credited.title,
            credited.source, credited.starts_on, credited.ends_on,
            credited.enterprise_id,
        )
        .join(credited, and_(
            credited.teacher_id == mine.teacher_id,
            credited.kind_code == mine.kind_code,
            credited.id != mine.id,
            credited.source.not_in(HAND_SOURCES),
            credited.starts_on <= func.coalesce(mine.ends_on, mine.starts_on),
            func.coalesce(credited.ends_on, credited.starts_on) >= mine.starts_on,
        ))
        .where(mine.id.in_(list(hand)))
        .order_by(mine.id, credited.starts_on, credited.id)
    )  # fmt: skip
    flags: dict[int, list[Lookalike]] = {}
    for row in rows:
        activity = hand[row.activity_id]
        if _alike(activity.title, activity.enterprise_id, row.title, row.enterprise_id):
            flags.setdefault(row.activity_id, []).append(
                Lookalike(row.id, row.title, row.source, row.starts_on,
                          _last_day(row.starts_on, row.ends_on))
            )  # fmt: skip
    return flags
