"""The navigation bar: names that say what they hold, and menus that save room."""

from __future__ import annotations

import re

from flask_babel import force_locale

from pdtracker.navigation import NAV

NAV_LINK = re.compile(
    r'<a class="(?:nav-link|dropdown-item)[^"]*"\s+href="([^"]+)">([^<]+)'
)


def _bar(client) -> dict[str, str]:
    """href → label of every link in the page's navigation bar."""
    page = client.get("/notifications/").get_data(as_text=True)
    bar = page[page.index("<nav") : page.index("</nav>")]
    return {href: label.strip() for href, label in NAV_LINK.findall(bar)}


def test_a_teachers_records_and_the_association_events_share_no_word(app) -> None:
    """我的记录 and 协会活动: the two never both say 活动 (needs the phone.tsv merge)."""
    labels = {i.endpoint: i.label for i in NAV}
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        records = str(labels["activities.index"])
        events = str(labels["events.index"])
    assert records == "我的记录"
    assert events == "协会活动"
    with app.test_request_context(), force_locale("en"):
        assert str(labels["activities.index"]) == "My records"
        assert str(labels["events.index"]) == "Association events"


def test_related_pages_share_a_menu_and_a_lone_one_stays_a_link(
    client, auth, world
) -> None:
    auth.login("head1")
    client.post("/language", data={"locale": "en"})
    page = client.get("/notifications/").get_data(as_text=True)
    bar = page[page.index("<nav") : page.index("</nav>")]
    # The head's recognition pages are one menu; Imports, alone of its group, a link.
    menus = re.findall(r"dropdown-toggle[^>]*>([^<]+)<", bar)
    assert "Recognition" in [m.strip() for m in menus]
    links = _bar(client)
    assert links["/recognition/"] == "Recognition"
    assert links["/recognition/checks"] == "Recognition checks"
    assert re.search(r'class="nav-link[^"]*"\s+href="/imports/"', bar)
    assert links["/activities/"] == "My records"
    assert links["/events/"] == "Association events"


def test_the_admin_menu_holds_the_deployment_pages(client, auth, world) -> None:
    auth.login("admin")
    client.post("/language", data={"locale": "en"})
    page = client.get("/notifications/").get_data(as_text=True)
    bar = page[page.index("<nav") : page.index("</nav>")]
    menu = bar[bar.index(">Administration<") :]
    menu = menu[: menu.index("</ul>")]
    for href in ("/admin/users", "/admin/departments", "/admin/institutions",
                 "/admin/rulesets", "/imports/", "/progress/college"):  # fmt: skip
        assert f'href="{href}"' in menu
