"""The department's recognised ratio (official) beside the computed one (the engine's).

Both count professional-course teachers. The computed ratio says who meets the
rules today; the recognised ratio who holds a recognition today (what is
reported upward). They differ for two reasons, each listed by name: a teacher
meets the rules but has not been recognised yet (no round, or not applied), or
holds a recognition but no longer meets the rules (it stands until its review).
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from typing import Any

from pdtracker.papers.official import recognised_on
from pdtracker.progress.services import DepartmentSummary


@dataclass(frozen=True)
class RatioComparison:
    """The two ratios and the teachers that make them differ."""

    total: int
    computed: int
    recognised: int
    not_yet_recognised: list[Any]  # the summary's teachers (User or cached snapshot)
    no_longer_meeting: list[Any]

    @property
    def computed_ratio(self) -> float | None:
        """Share meeting the rules."""
        return None if self.total == 0 else self.computed / self.total

    @property
    def recognised_ratio(self) -> float | None:
        """Share holding a recognition."""
        return None if self.total == 0 else self.recognised / self.total


def compare_ratios(summary: DepartmentSummary) -> RatioComparison:
    """Compare on the summary's date.

    A cached summary's teachers say whether they hold a recognition that day (the
    page cache's key reads it, :mod:`pdtracker.progress.cache`); otherwise one
    query reads the recognitions.
    """
    statuses = [s for s in summary.teachers if s.professional_course]
    held: Container[int]
    known = [getattr(s.teacher, "recognised", None) for s in statuses]
    if all(isinstance(k, bool) for k in known):
        held = {s.teacher.id for s, k in zip(statuses, known, strict=True) if k}
    else:
        held = recognised_on((s.teacher.id for s in statuses), summary.as_of)
    return RatioComparison(
        total=len(statuses),
        computed=sum(s.dual_qualified for s in statuses),
        recognised=sum(s.teacher.id in held for s in statuses),
        not_yet_recognised=[
            s.teacher for s in statuses if s.dual_qualified and s.teacher.id not in held
        ],
        no_longer_meeting=[
            s.teacher for s in statuses if not s.dual_qualified and s.teacher.id in held
        ],
    )
