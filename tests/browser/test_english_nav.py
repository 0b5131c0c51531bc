"""The English navigation bar fits one line at 1366 px, for every role of the demo.

English labels are longer than Chinese ones; the bar keeps each label whole, puts
related pages into menus, and must neither wrap nor push past the window.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from pdtracker.auth.models import User
from pdtracker.extensions import db
from tests.browser import demo_cast
from tests.browser.conftest import ARTIFACTS
from tests.browser.demo_cast import login

pytestmark = pytest.mark.browser

WIDE = {"width": 1366, "height": 768}

# How the navigation bar sits: every link and control on the brand's line, none
# overlapping the next, none past the window's edge.
NAV_JS = """
() => {
  const problems = [];
  const width = window.innerWidth;
  const brand = document.querySelector('.navbar-brand').getBoundingClientRect();
  const middle = brand.top + brand.height / 2;
  const items = [...document.querySelectorAll(
    'nav .navbar-collapse a, nav .navbar-collapse button')]
    .filter((el) => el.getBoundingClientRect().width > 0);
  if (items.length === 0) problems.push('the navigation is collapsed');
  let previous = brand;
  for (const el of items) {
    const box = el.getBoundingClientRect();
    const text = el.innerText.trim();
    if (Math.abs(box.top + box.height / 2 - middle) > 6)
      problems.push(`"${text}" is not on the brand's line (top ${Math.round(box.top)})`);
    if (box.left < previous.right - 1)
      problems.push(`"${text}" overlaps the item before it`);
    if (box.right > width)
      problems.push(`"${text}" ends past the window (${Math.round(box.right)})`);
    if (el.scrollWidth > el.clientWidth + 1) problems.push(`"${text}" is cut off`);
    previous = box;
  }
  const scroll = document.documentElement.scrollWidth;
  if (scroll > width) problems.push(`the page scrolls sideways (${scroll} > ${width} px)`);
  return problems;
}
"""


@pytest.fixture
def wide_english(browser) -> Iterator[object]:
    """A 1366 px wide page with English preferred."""
    context = browser.new_context(locale="en-US", viewport=WIDE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_english_navigation_fits_on_one_line_at_1366(
    app, live_server, wide_english
) -> None:
    logins = demo_cast.seed(app)
    with app.app_context():
        for user in db.session.scalars(select(User)):
            user.locale = "en"
        db.session.commit()
    problems = []
    for role, username in logins.items():
        wide_english.context.clear_cookies()
        login(wide_english, live_server, username)
        assert wide_english.locator("html").get_attribute("lang") == "en"
        labels = wide_english.locator("nav .navbar-nav .nav-link").all_inner_texts()
        found = wide_english.evaluate(NAV_JS)
        problems += [f"{role} ({len(labels)} links): {p}" for p in found]
        if found:
            ARTIFACTS.mkdir(exist_ok=True)
            wide_english.screenshot(path=str(ARTIFACTS / f"nav-1366-{role}.png"))
    assert not problems, "\n".join(problems)
