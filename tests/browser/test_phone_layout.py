"""Every page of every role on a 390×844 phone (the 1366 px bar: test_english_nav.py).

The pages are found, not listed: each role logs in to the demo data and the sweep
follows the navigation bar, then the links of the page's main part two levels down
(a list, its item's page, what that page links to: an event, a session's check-in
screen; an activity; a placement; an application; an offer). Same-site GET links
only, one page per kind of link (a list of fifty activities costs one detail
page), at most PAGES_PER_ROLE pages. Pages added later are covered without
touching this file.

On each page nothing may scroll sideways, and no visible button or link may lie
outside the screen horizontally; a table may scroll inside its own box only when
no button or link sits beyond the screen's edge.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urldefrag, urlsplit

import pytest
from flask import Flask
from sqlalchemy import select, update

from pdtracker.auth.models import User
from pdtracker.events.models import Event
from pdtracker.extensions import db
from tests.browser import demo_cast
from tests.browser.conftest import ARTIFACTS
from tests.browser.demo_cast import LOGINS, login
from tests.support import Prebuilt

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
# Links that are not pages to look at: leaving, files, other sites' schemes.
SKIP_PATH = re.compile(
    r"/(logout|login)$|\.(csv|xlsx|pdf|ics|png|jpg|zip|txt|json)$|/static/"
)
# PDTRACKER_PHONE_SHOTS=1 keeps a screenshot of every page, to look through by eye.
SHOTS = bool(os.environ.get("PDTRACKER_PHONE_SHOTS"))
PAGES_PER_ROLE = 120  # a bound, so a page of thousands of distinct links stays quick
# Levels of links followed below the navigation bar's pages: the third reaches a
# session's check-in screen (events → an event → its sessions → the screen).
DEPTH = 3
# Detail pages each role's sweep must reach (it reached none of these at one level).
MUST_REACH = {
    "teacher": {"/events/<n>", "/activities/<n>", "/placements/<n>",
                "/placements/offers/<n>"},
    "head": {"/activities/<n>", "/progress/teachers/<n>",
             "/recognition/applications/<n>"},
    "college_admin": {"/recognition/recognitions/<n>", "/recognition/applications/<n>"},
    "staff": {"/events/<n>", "/checkin/events/<n>/sessions/<session>/screen",
              "/checkin/events/<n>/sessions/<session>/attendance",
              "/events/<n>/sessions/<session>/move"},
    "mentor": {"/placements/<n>/assessment"},
    "admin": {"/recognition/applications/<n>", "/placements/offers/<n>/matches"},
}  # fmt: skip

# What is wrong with the page as it is shown: sideways scrolling, and each visible
# button or link that lies outside the window horizontally.
PROBLEMS_JS = """
() => {
  const width = window.innerWidth;
  const problems = [];
  const scroll = document.documentElement.scrollWidth;
  if (scroll > width) problems.push(`the page scrolls sideways (${scroll} > ${width} px)`);
  const targets = document.querySelectorAll(
    'a[href], button, input[type=submit], input[type=button], .btn');
  for (const el of targets) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    if (getComputedStyle(el).visibility === 'hidden') continue;
    if (el.closest('.visually-hidden, .visually-hidden-focusable')) continue;
    if (box.left >= -1 && box.right <= width + 1) continue;
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || '')
      .trim().replace(/\\s+/g, ' ').slice(0, 40);
    problems.push(`${el.tagName.toLowerCase()} "${text}" lies at ` +
      `${Math.round(box.left)}..${Math.round(box.right)} px of ${width}`);
  }
  return problems;
}
"""


def pattern(url: str) -> str:
    """A link's kind: its path with numbers and tokens generalised, no query."""
    path = urlsplit(url).path
    path = re.sub(r"/\d+(?=/|$)", "/<n>", path)
    path = re.sub(r"/\d{8}(T\d{6}Z)?(?=/|$)", "/<session>", path)  # session keys
    return re.sub(r"/[A-Za-z0-9_-]{20,}(?=/|$)", "/<token>", path)


_DEMO = Prebuilt(demo_cast.seed)  # seeded by a process's first sweep, copied after


@pytest.fixture
def demo(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The demo data on the fresh test database, one login per role."""
    return _DEMO(app, lambda: tmp_path_factory.mktemp("demo"))


def series_id(app: Flask) -> int:
    """The demo's first published series. Its page is a start of its own: one event
    stands for all in the sweep, and a single event's page has no session links."""
    with app.app_context():
        found = db.session.scalar(
            select(Event.id)
            .where(Event.rrule.is_not(None), Event.recurrence_key == "",
                   Event.status == "published")
            .order_by(Event.id)
            .limit(1)
        )  # fmt: skip
    assert found is not None, "the demo has no series"
    return found


class Sweep:
    """Visit pages, remember what each one shows wrong."""

    def __init__(self, page, base: str, role: str) -> None:
        self.page, self.base, self.role = page, base, role
        self.visited: list[str] = []
        self.skipped: list[str] = []
        self.problems: list[str] = []
        self.kinds: set[str] = set()

    def is_page(self, url: str) -> bool:
        """A same-site HTML page answering 200 (files and redirects are not)."""
        answer = self.page.request.get(url, max_redirects=0)
        kind = answer.headers.get("content-type", "")
        if answer.status != 200 or not kind.startswith("text/html"):
            path = url.removeprefix(self.base)
            self.skipped.append(f"{path} ({answer.status} {kind.split(';')[0]})")
            return False
        return True

    def visit(self, url: str) -> list[str]:
        """Open one page, check it; return its same-site links."""
        self.page.goto(url)
        self.page.wait_for_load_state()
        path = url.removeprefix(self.base)
        self.visited.append(path)
        found = self.page.evaluate(PROBLEMS_JS)
        if found:
            more = [f"... and {len(found) - 5} more"] if len(found) > 5 else []
            self.problems += [f"{path}: {p}" for p in found[:5] + more]
        if found or SHOTS:
            ARTIFACTS.mkdir(exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_") or "index"
            self.page.screenshot(
                path=str(ARTIFACTS / f"phone-{self.role}-{name}.png"), full_page=True
            )
        links = self.page.eval_on_selector_all(
            "main a[href]", "els => els.map(e => e.href)"
        )
        return [urldefrag(link).url for link in links if link.startswith(self.base)]

    def take(self, url: str) -> bool:
        """True the first time a kind of page comes up."""
        kind = pattern(url)
        if kind in self.kinds:
            return False
        if SKIP_PATH.search(urlsplit(url).path):
            self.kinds.add(kind)
            self.skipped.append(f"{url.removeprefix(self.base)} (a file or leaving)")
            return False
        if len(self.visited) >= PAGES_PER_ROLE:
            self.skipped.append(f"{url} (over the bound of {PAGES_PER_ROLE} pages)")
            return False
        self.kinds.add(kind)
        return True

    def run(self, starts: list[str]) -> None:
        """The navigation bar's pages and ``starts``, then DEPTH levels of links."""
        self.page.goto(f"{self.base}/")
        nav = self.page.eval_on_selector_all(
            "nav a[href]", "els => els.map(e => e.href)"
        )
        top = [self.page.url] + [u for u in nav if u.startswith(self.base)]
        top = [urldefrag(u).url for u in top]
        top += [self.base + s for s in starts if self.is_page(self.base + s)]
        level = [u for u in dict.fromkeys(top) if self.take(u)]
        below: list[str] = []
        for url in level:
            below += self.visit(url)
        for _depth in range(DEPTH):
            level, below = list(dict.fromkeys(below)), []
            for url in level:
                if self.take(url) and self.is_page(url):
                    below += self.visit(url)


@pytest.mark.parametrize(
    ("role", "locale"),
    [(role, "zh_Hans_CN") for role in LOGINS] + [(role, "en") for role in LOGINS],
)
def test_every_page_fits_a_phone(
    app, live_server, page, demo, role: str, locale: str
) -> None:
    """In Chinese, and in English (whose longer labels wrap differently)."""
    with app.app_context():
        db.session.execute(
            update(User).where(User.username == demo[role]).values(locale=locale)
        )
        db.session.commit()
    # conftest's page: 390×844, and a screenshot in test-artifacts/ when it fails.
    assert page.viewport_size == PHONE
    login(page, live_server, demo[role])
    sweep = Sweep(page, live_server, f"{role}-{locale}")
    sweep.run([f"/events/{series_id(app)}"])
    print(
        f"\n{role} ({locale}): {len(sweep.visited)} pages", *sweep.visited, sep="\n  "
    )
    if sweep.skipped:
        print(f"{role}: skipped", *sweep.skipped, sep="\n  ")
    assert len(sweep.visited) > 2, "the sweep found no pages"
    assert MUST_REACH[role] <= {pattern(path) for path in sweep.visited}
    assert not sweep.problems, "\n".join(sweep.problems)
