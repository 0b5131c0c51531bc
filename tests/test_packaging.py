"""Every install path serves the Chinese UI, not only `make install`.

The compiled catalogues (``*.mo``) are not in git. A copy of the project as a fresh
clone has it (no ``.mo``) is installed by pip, as an operator would, into a new,
empty virtual environment: pip builds it in an isolated build environment from
`[build-system] requires` (fetched from the package index, or pip's cache), so the
build step and its requirements are both exercised. The project's dependencies are
then lent to the new environment from the running one by a ``.pth`` line, so they
are not downloaded. In that environment:

* `pip install .` (a wheel): templates and static files live beside the package,
  not in it, so such an install cannot render pages; the test looks a known message
  up through Flask-Babel, which reads only the ``.mo``;
* `pip install -e .` (how deploy/*.service and the Procfile run from the
  checkout): the login page is rendered and must be Chinese.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from pdtracker import ROOT

pytestmark = pytest.mark.packaging

PO = ROOT / "pdtracker" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
MSGID = "Log in"  # the login page's title and heading
# What a fresh clone holds: everything but what git ignores (caches, builds, *.mo).
IGNORED = shutil.ignore_patterns(
    "*.mo", "__pycache__", "*.pyc", "*.egg-info", "build", "dist", "instance"
)
PROJECT = (
    "pyproject.toml", "build_catalogs.py", "MANIFEST.in", "README.md",
    "pdtracker", "templates", "static", "migrations",
)  # fmt: skip

# Run by the new environment's Python: the installed package, its catalogue, and
# the message in Chinese; with --page, the rendered login page too.
PROBE = """
import json, pathlib, sys
import pdtracker
from flask_babel import force_locale, gettext
from pdtracker import create_app
from pdtracker.extensions import db

work = pathlib.Path(sys.argv[1])
app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'probe.sqlite'}",
                  "SECRET_KEY": "probe", "UPLOAD_FOLDER": str(work)})
package = pathlib.Path(pdtracker.__file__).parent
with app.test_request_context(), force_locale("zh_Hans_CN"):
    text = gettext(sys.argv[2])
page = None
if "--page" in sys.argv:
    with app.app_context():
        db.create_all()
    page = app.test_client().get("/login", headers={"Accept-Language": "zh-CN"})
    page = {"status": page.status_code, "html": page.get_data(as_text=True)}
print(json.dumps({
    "package": str(package),
    "mo": (package / "translations/zh_Hans_CN/LC_MESSAGES/messages.mo").is_file(),
    "data": sorted(
        str(p.relative_to(package))
        for pattern in ("progress/standards/*.toml", "onboarding/samples/*.*")
        for p in package.glob(pattern)
        if p.suffix != ".py"
    ),
    "text": text,
    "page": page,
}))
"""


def _chinese() -> str:
    with PO.open("rb") as f:
        message = read_po(f)[MSGID]
    assert message is not None
    assert message.string
    assert message.string != MSGID
    return message.string


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """The project as a fresh clone has it: sources and catalogues, nothing compiled."""
    source = tmp_path / "pdtracker-src"
    source.mkdir()
    for name in PROJECT:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=IGNORED)
        elif path.is_file():
            shutil.copy2(path, source / name)
    assert not list(source.rglob("*.mo"))
    return source


def _run(*command: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, (
        f"{command}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout


def _install(venv: Path, *target: str | Path) -> Path:
    """A new environment where pip installed only ``target``; then lend it our packages."""
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    # pip runs under the new environment's Python (--python): it sees nothing else.
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet",
         "--no-deps", *target)  # fmt: skip
    purelib = _run(
        python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    )
    # Appended after the new site-packages: the dependencies, never this checkout.
    lent = Path(purelib.strip()) / "zz_lent_dependencies.pth"
    lent.write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def _probe(python: Path, work: Path, *extra: str) -> dict:
    # -I: neither the working directory nor PYTHONPATH can supply `pdtracker`.
    out = _run(python, "-I", "-c", PROBE, work, MSGID, *extra, cwd=work)
    return json.loads(out.strip().splitlines()[-1])


def test_pip_install_carries_the_compiled_chinese_catalogue(clone, tmp_path) -> None:
    python = _install(tmp_path / "venv", clone)

    found = _probe(python, tmp_path)

    assert found["package"].startswith(str(tmp_path / "venv"))
    assert found["mo"] is True
    assert found["text"] == _chinese()
    # The data files the app reads at run time travel with the package.
    shipped = sorted(
        str(p.relative_to(ROOT / "pdtracker"))
        for pattern in ("progress/standards/*.toml", "onboarding/samples/*.*")
        for p in (ROOT / "pdtracker").glob(pattern)
        if p.suffix != ".py"
    )
    assert "progress/standards/cn-vocational-default.toml" in shipped
    assert found["data"] == shipped


def test_editable_install_serves_the_login_page_in_chinese(clone, tmp_path) -> None:
    python = _install(tmp_path / "venv", "--editable", clone)

    found = _probe(python, tmp_path, "--page")

    assert found["package"] == str(clone / "pdtracker")
    assert found["mo"] is True
    assert found["text"] == _chinese()
    assert found["page"]["status"] == 200
    assert f">{_chinese()}</h1>" in found["page"]["html"]
