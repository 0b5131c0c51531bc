"""The backup manifest is signed with the deployment's key and is the list of what comes back.

See docs/deployment.md D14.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import inspect

from pdtracker import create_app
from pdtracker.extensions import db
from tests import test_backup
from tests.test_backup import _dump_tables, _files

target_url = test_backup.target_url  # the empty database a restore goes into


def _backup(app: Flask, tmp_path: Path) -> Path:
    uploads = Path(app.config["UPLOAD_FOLDER"])
    (uploads / "ev").mkdir(parents=True, exist_ok=True)
    (uploads / "ev" / "a1.pdf").write_bytes(b"%PDF-1.4 one")
    dest = tmp_path / "backup"
    result = app.test_cli_runner().invoke(args=["backup", "create", str(dest)])
    assert result.exit_code == 0, result.output
    return dest


def _fresh(url: str, uploads: Path, secret: str = "test-secret") -> Flask:
    return create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secret,
         "UPLOAD_FOLDER": str(uploads)}
    )  # fmt: skip


def _restore(app: Flask, dest: Path, *flags: str):
    """Run `backup restore` on app, then close its connections (the test goes on)."""
    result = app.test_cli_runner().invoke(args=["backup", "restore", *flags, str(dest)])
    with app.app_context():
        db.engine.dispose()
    return result


def _untouched(app: Flask, uploads: Path) -> None:
    with app.app_context():
        assert inspect(db.engine).get_table_names() == []
        db.engine.dispose()
    assert not uploads.exists() or not any(uploads.iterdir())


def _edit(dest: Path, change) -> str:
    """Apply change(manifest) to the manifest file; return the original text."""
    original = (dest / "manifest.json").read_text()
    manifest = json.loads(original)
    change(manifest)
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return original


def test_files_not_listed_in_the_manifest_are_not_restored(
    app, world, tmp_path, target_url
) -> None:
    dest = _backup(app, tmp_path)
    (dest / "uploads" / "evil.html").write_text("<script>alert(1)</script>")
    (dest / "uploads" / "ev" / "extra.pdf").write_bytes(b"%PDF-1.4 planted")
    restored = tmp_path / "restored"
    result = _restore(_fresh(target_url, restored), dest)
    assert result.exit_code == 0, result.output
    assert _files(restored) == {"ev/a1.pdf": b"%PDF-1.4 one"}


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda m: m["tables"].update(users=m["tables"]["users"] + 1),
                     id="count"),
        pytest.param(lambda m: m["files"]["uploads/ev/a1.pdf"].update(size=99),
                     id="checksum"),
        pytest.param(lambda m: m.update(revision="0001"), id="revision"),
        pytest.param(lambda m: m.pop("signature"), id="unsigned"),
    ],
)  # fmt: skip
def test_a_tampered_manifest_is_refused_before_anything_is_touched(
    app,
    world,
    tmp_path,
    target_url,
    change,
) -> None:
    dest = _backup(app, tmp_path)
    original = _edit(dest, change)
    restored = tmp_path / "restored"
    fresh = _fresh(target_url, restored)
    result = _restore(fresh, dest)
    assert result.exit_code == 1, result.output
    assert "signature" in result.output
    assert "--trust" in result.output
    _untouched(fresh, restored)

    (dest / "manifest.json").write_text(original)
    result = _restore(fresh, dest)
    assert result.exit_code == 0, result.output


def test_another_deployments_backup_needs_its_key_or_trust(
    app, world, tmp_path, target_url
) -> None:
    dest = _backup(app, tmp_path)
    with app.app_context():
        before = _dump_tables(db.engine)
        db.engine.dispose()
    restored = tmp_path / "restored"
    other = _fresh(target_url, restored, secret="another-deployment")
    result = _restore(other, dest)
    assert result.exit_code == 1, result.output
    assert "signature" in result.output
    _untouched(other, restored)

    result = _restore(other, dest, "--trust")
    assert result.exit_code == 0, result.output
    with other.app_context():
        assert _dump_tables(db.engine) == before
        db.engine.dispose()
    assert _files(restored) == {"ev/a1.pdf": b"%PDF-1.4 one"}


def test_trust_skips_only_the_signature_not_the_checksums(
    app, world, tmp_path, target_url
) -> None:
    dest = _backup(app, tmp_path)
    (dest / "uploads" / "ev" / "a1.pdf").write_bytes(b"%PDF-1.4 two")
    restored = tmp_path / "restored"
    fresh = _fresh(target_url, restored, secret="another-deployment")
    result = _restore(fresh, dest, "--trust")
    assert result.exit_code == 1, result.output
    assert "checksum mismatch: uploads/ev/a1.pdf" in result.output
    _untouched(fresh, restored)


@pytest.mark.parametrize("kind", ["parent", "absolute", "outside-uploads"])
def test_a_manifest_cannot_restore_outside_the_upload_folder(
    app, world, tmp_path, target_url, kind
) -> None:
    dest = _backup(app, tmp_path)
    name = {
        "parent": "uploads/../../escaped.txt",
        "absolute": str(tmp_path / "escaped.txt"),
        "outside-uploads": "elsewhere.txt",
    }[kind]
    (dest / name).resolve().write_text("x")  # an absolute name replaces dest
    _edit(dest, lambda m: m["files"].update({name: {
        "sha256": "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
        "size": 1}}))  # fmt: skip
    restored = tmp_path / "restored"
    fresh = _fresh(target_url, restored)
    result = _restore(fresh, dest, "--trust")
    assert result.exit_code == 1, result.output
    assert "not a file this backup may hold" in result.output
    _untouched(fresh, restored)


def test_an_unsigned_format_1_backup_restores_only_with_trust(
    app, world, tmp_path, target_url
) -> None:
    dest = _backup(app, tmp_path)
    _edit(dest, lambda m: (m.pop("signature"), m.pop("schema"), m.update(format=1)))
    restored = tmp_path / "restored"
    fresh = _fresh(target_url, restored)
    result = _restore(fresh, dest)
    assert result.exit_code == 1, result.output
    assert "no signature" in result.output
    _untouched(fresh, restored)

    result = _restore(fresh, dest, "--trust")
    assert result.exit_code == 0, result.output
    assert _files(restored) == {"ev/a1.pdf": b"%PDF-1.4 one"}
