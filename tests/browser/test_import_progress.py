"""A large import in Chromium (desktop and phone): the upload's progress bar goes to
100 % and says the file is being checked, the preview loads; applying says how many
rows are imported until the result page comes."""

from __future__ import annotations

import pytest

from pdtracker.auth.models import Role

PASSWORD = "pdtracker-demo"
ROWS = 3000
WATCH = """([selector, name]) => {
  const box = document.querySelector(selector);
  const bar = box.querySelector("progress");
  const status = box.querySelector("[role=status]");
  new MutationObserver(() => window[name](bar.getAttribute("value"), status.textContent))
    .observe(box, { attributes: true, childList: true, subtree: true, characterData: true });
}"""


def records_csv(count: int = ROWS) -> bytes:
    """Thousands of valid records rows (with a wide unmapped column: a 2 MB file)."""
    pad = "备" * 200
    rows = "".join(
        f"S-t1,企业新技术培训第{i}期,培训,2024-{i % 12 + 1:02d}-{i % 28 + 1:02d},8,{pad}\n"
        for i in range(count)
    )
    return ("工号,培训项目,培训类型,开始日期,获得学时,附注\n" + rows).encode()


@pytest.mark.parametrize(
    "viewport", [(1280, 800), (390, 844)], ids=["desktop", "phone"]
)
def test_a_large_import_shows_its_progress(
    app, live_server, browser, tmp_path, make_department, make_user, viewport
) -> None:
    ai = make_department("AI", "人工智能技术应用系")
    make_user("t1", Role.TEACHER, department=ai)
    make_user("admin", Role.ADMIN)
    path = tmp_path / "台账.csv"
    path.write_bytes(records_csv())
    width, height = viewport
    context = browser.new_context(
        locale="zh-CN", viewport={"width": width, "height": height}
    )
    page = context.new_page()
    page.set_default_timeout(60_000)
    seen: dict[str, list[tuple[str | None, str]]] = {"upload": [], "apply": []}
    page.expose_function("seenUpload", lambda v, t: seen["upload"].append((v, t)))
    page.expose_function("seenApply", lambda v, t: seen["apply"].append((v, t)))
    xhr: list[str] = []
    page.on(
        "request", lambda r: xhr.append(r.url) if r.resource_type == "xhr" else None
    )
    try:
        page.goto(f"{live_server}/login")
        page.fill("#username", "admin")
        page.fill("#password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_load_state()
        page.goto(f"{live_server}/imports/")
        assert page.get_attribute("#file", "data-max-bytes") == str(20 * 1024 * 1024)
        page.select_option("#importer", "records")
        page.set_input_files("#file", str(path))
        page.evaluate(WATCH, ["#upload-form .import-progress", "seenUpload"])
        busy = page.get_attribute("#upload-form", "data-busy")
        with page.expect_navigation(url="**/imports/records/**"):
            page.click("#upload-form button[type=submit]")
        assert xhr  # sent by the script
        assert xhr[0].endswith("/imports/")
        assert ("100", busy) in seen["upload"]  # all bytes sent, then checking
        assert page.locator("#rows [data-action=create]").count() == 1000  # listed
        assert str(ROWS) in page.locator("#counts").inner_text()

        page.evaluate(WATCH, ["#mapping-form .import-progress", "seenApply"])
        importing = page.get_attribute("#apply", "data-busy")
        assert str(ROWS) in importing
        with page.expect_navigation():
            page.click("#apply")
        page.wait_for_load_state()
        assert (None, importing) in seen["apply"]  # running, no bar length known
        assert page.locator("[data-count=created]").inner_text().endswith(str(ROWS))
    finally:
        context.close()


def test_without_javascript_the_forms_are_plain_posts(
    app, live_server, browser, tmp_path, make_department, make_user
) -> None:
    ai = make_department("AI", "人工智能技术应用系")
    make_user("t1", Role.TEACHER, department=ai)
    make_user("admin", Role.ADMIN)
    path = tmp_path / "台账.csv"
    path.write_bytes(records_csv(50))
    context = browser.new_context(locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/login")
        page.fill("#username", "admin")
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.click("main button[type=submit]")
        page.goto(f"{live_server}/imports/")
        page.select_option("#importer", "records")
        page.set_input_files("#file", str(path))
        page.click("#upload-form button[type=submit]")
        page.wait_for_url("**/imports/records/**")
        assert page.locator("#rows [data-action=create]").count() == 50
        page.click("#apply")
        page.wait_for_selector("[data-count=created]")
        assert page.locator(".import-progress").is_hidden()
    finally:
        context.close()
