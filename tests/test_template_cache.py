"""Compiled templates are kept on disk, so a new process (a restarted or recycled
gunicorn worker) renders its first pages without compiling them again."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask, render_template
from jinja2 import Environment, FileSystemLoader

from pdtracker import create_app


def _app(cache_dir: object, tmp_path: Path) -> Flask:
    return create_app({
        "TESTING": True, "SECRET_KEY": "t", "TEMPLATE_CACHE_DIR": cache_dir,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
    })  # fmt: skip


def _render_errors_page(app: Flask) -> str:
    with app.test_request_context("/"):
        template = app.jinja_env.get_template("errors/_message.html")
        return template.render(code=404, mib=None)


def test_a_second_process_loads_the_compiled_template(tmp_path, monkeypatch):
    cache = tmp_path / "jinja"
    first = _render_errors_page(_app(str(cache), tmp_path))
    assert list(cache.iterdir()), "the compiled template was not written"

    def refuse(*_args, **_kwargs):
        raise AssertionError("compiled again instead of loaded from the cache")

    monkeypatch.setattr(Environment, "compile", refuse)
    assert _render_errors_page(_app(str(cache), tmp_path)) == first


def test_an_edited_template_is_compiled_afresh(tmp_path):
    """The cache is keyed by the template's source: a deploy never renders old code."""
    pages = tmp_path / "pages"
    pages.mkdir()
    page = pages / "page.html"

    def render(source: str) -> str:
        page.write_text(source)
        app = _app(str(tmp_path / "jinja"), tmp_path)
        app.jinja_env.loader = FileSystemLoader(str(pages))
        with app.test_request_context("/"):
            return render_template("page.html")

    assert render("{{ 1 + 1 }}") == "2"
    assert render("{{ 2 + 2 }}") == "4"


@pytest.mark.parametrize("setting", ["", None])
def test_the_cache_can_be_off_or_under_the_instance_folder(tmp_path, setting):
    app = _app(setting, tmp_path)
    cache = app.jinja_env.bytecode_cache
    if setting == "":
        assert cache is None
    else:
        assert cache is not None
        assert cache.directory == str(Path(app.instance_path) / "jinja-cache")
