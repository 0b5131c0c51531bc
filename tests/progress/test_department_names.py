"""The progress pages name departments in the page's language (issue 15: "Department
names have their English names where set"): the department page's heading and
picker, and the college overview's table. Chinese pages keep the Chinese name.
"""

from __future__ import annotations

import pytest

from tests import factories

EN = factories.AI_NAME_EN  # what the shared ``named`` fixture sets
ZH = "人工智能技术应用系"


@pytest.mark.parametrize(
    ("locale", "shown", "hidden"), [("en", EN, ZH), ("zh", ZH, EN)]
)
def test_department_page_names_its_department_in_the_pages_language(
    client, auth, world, named, locale, shown, hidden
) -> None:
    html = auth.page(
        "admin",
        locale,
        f"/progress/department?department={world['ai'].id}",
    )
    assert shown in html
    assert hidden not in html  # neither in the heading nor in the picker


@pytest.mark.parametrize(
    ("locale", "shown", "hidden"), [("en", EN, ZH), ("zh", ZH, EN)]
)
def test_college_overview_names_departments_in_the_pages_language(
    client, auth, world, named, locale, shown, hidden
) -> None:
    college = world["ai"].institution_id
    html = auth.page("admin", locale, f"/progress/college?college={college}")
    assert shown in html
    assert hidden not in html
