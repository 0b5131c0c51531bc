"""Which activity kind a spreadsheet's 类型 names: a table with Chinese defaults.

Pure. Admins extend the table (stored rows are merged over the defaults); a type
matches a key exactly, else the longest key it contains (国培计划 → 国培 → training).
"""

from __future__ import annotations

from collections.abc import Mapping

from pdtracker.onboarding.errors import Invalid
from pdtracker.onboarding.values import half_width

DEFAULT_TYPE_MAP: dict[str, str] = {
    **dict.fromkeys(("讲座", "专家讲座"), "expert_lecture"),
    **dict.fromkeys(("会议", "行业会议", "学术会议", "年会"), "industry_conference"),
    **dict.fromkeys(("企业实践", "挂职", "顶岗"), "enterprise_placement"),
    **dict.fromkeys(("研讨", "座谈", "教研"), "seminar"),
    **dict.fromkeys(("培训", "研修", "进修", "国培", "省培"), "training"),
    **dict.fromkeys(("证书", "职业资格", "技能等级"), "certificate"),
    **dict.fromkeys(("标准",), "standard_drafting"),
    **dict.fromkeys(("企业项目", "横向课题"), "enterprise_project"),
}


class KindTable:
    """Type names → kind codes: the defaults, the kinds' own labels and codes, extras."""

    def __init__(
        self,
        extra: Mapping[str, str] = (),  # type: ignore[assignment]
        labels: Mapping[str, str] = (),  # type: ignore[assignment]
    ) -> None:
        table = {**DEFAULT_TYPE_MAP, **dict(labels), **dict(extra)}
        self._exact = {_key(k): v for k, v in table.items()}
        # Longest first, so 企业项目 wins over 企业 and 企业实践 over 实践.
        self._contained = sorted(self._exact.items(), key=lambda kv: -len(kv[0]))

    def kind_of(self, value: object) -> str:
        """The kind code the type names, or Invalid('unknown_type')."""
        key = _key(value)
        if key in self._exact:
            return self._exact[key]
        for name, code in self._contained:
            if name and name in key:
                return code
        raise Invalid("unknown_type", value=half_width(value))


def _key(value: object) -> str:
    return "".join(half_width(value).split()).casefold()
