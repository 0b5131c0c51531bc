"""The benchmark runs from a fresh clone: its generator follows the schema.

The generator seeds its smallest institution (300 teachers) on SQLite through its
real command line into a temporary directory, so a column a migration adds cannot
break `make bench` unnoticed again. The benchmark's command line and report are
checked here too: `--db both` measures both kinds, and the report names the commit.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    func,
    select,
    text,
)

from bench import run
from bench.generate import (
    GROWTH_SIZES,
    MIN_SIZE,
    Writer,
    college_of_departments,
    college_rows,
    department_sizes,
)
from pdtracker import ROOT


def _migrations_head() -> str:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def test_generator_seeds_the_smallest_institution_on_sqlite(tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.generate", "--db", "sqlite",
         "--size", str(MIN_SIZE), "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]

    meta = json.loads((tmp_path / f"db-sqlite-{MIN_SIZE}.json").read_text())
    assert meta["url"].startswith(f"sqlite:///{tmp_path}")
    engine = create_engine(meta["url"])
    try:
        with engine.connect() as conn:
            # The schema is the one the migrations build, as in a deployment.
            version = conn.scalar(text("SELECT version_num FROM alembic_version"))
            assert version == _migrations_head()
            activities = conn.scalar(text("SELECT count(*) FROM activities"))
            assert activities == meta["counts"]["activities"] > 80 * MIN_SIZE
            # The rows never name `sequence`: it comes from the model's default.
            sequences = conn.execute(
                text("SELECT DISTINCT sequence FROM activities")
            ).scalars()
            assert set(sequences) == {0}
            teachers = conn.scalar(
                text("SELECT count(*) FROM user_roles WHERE role = 'teacher'")
            )
            assert teachers == MIN_SIZE
            # The association's cast: a staff login, and every teacher's standing
            # stored, as the standings tick would have (the dashboard reads them).
            staff = conn.scalar(
                text("SELECT count(*) FROM user_roles WHERE role = 'staff'")
            )
            assert staff == 1
            assert meta["staff"]["username"] == "staff-bench"
            stored = conn.scalar(text("SELECT count(*) FROM teacher_standings"))
            assert stored == MIN_SIZE
    finally:
        engine.dispose()


def test_association_scale_spreads_departments_over_every_college() -> None:
    """60,000 teachers in 100 colleges: the measured departments in the first,
    every college some departments, teachers shared about evenly."""
    sizes = department_sizes(60000)
    colleges = college_of_departments(len(sizes), 100)
    assert colleges[: len(GROWTH_SIZES)] == [1] * len(GROWTH_SIZES)
    assert set(colleges) == set(range(1, 101))
    teachers = {c: 0 for c in range(1, 101)}
    for size, college in zip(sizes, colleges, strict=True):
        teachers[college] += size
    assert sum(teachers.values()) == 60000
    others = [n for c, n in teachers.items() if c != 1]
    assert max(others) - min(others) <= 150  # one department's difference
    rows = college_rows(100)
    assert [r["id"] for r in rows] == list(range(1, 101))
    assert len({r["code"] for r in rows}) == 100
    assert rows[0]["code"] == "BENCH"


def test_one_college_keeps_the_single_college_shape() -> None:
    sizes = department_sizes(3000)
    assert set(college_of_departments(len(sizes), 1)) == {1}
    assert college_rows(1) == [{"id": 1, "code": "BENCH", "name": "基准职业技术学院"}]


def test_writer_fills_what_rows_leave_out_from_the_table_definition() -> None:
    """A column added later (Python default or server default) needs no generator edit."""
    metadata = MetaData()
    table = Table(
        "things",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(20), nullable=False),
        Column("version", Integer, nullable=False, default=7),
        Column("label", String(20), nullable=False, default=lambda: "made"),
        Column("rank", Integer, nullable=False, server_default="3"),
        Column("note", String(20)),
    )
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as conn:
        writer = Writer(conn)
        writer.write(
            table, [{"id": 1, "name": "a"}, {"id": 2, "name": "b", "version": 9}]
        )
        rows = conn.execute(select(table).order_by(table.c.id)).all()
        assert writer.counts == {"things": 2}
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        (1, "a", 7, "made", 3, None),
        (2, "b", 9, "made", 3, None),
    ]


def test_writer_refuses_a_server_default_given_by_only_some_rows() -> None:
    metadata = MetaData()
    table = Table(
        "things",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("rank", Integer, nullable=False, server_default="3"),
    )
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as conn, pytest.raises(ValueError, match="things.rank"):
        Writer(conn).write(table, [{"id": 1, "rank": 1}, {"id": 2}])
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(table)) == 0
    engine.dispose()


@pytest.mark.parametrize(
    ("given", "kinds"),
    [
        ("both", ["postgresql", "sqlite"]),
        ("postgresql,sqlite", ["postgresql", "sqlite"]),
        ("sqlite", ["sqlite"]),
        ("postgresql", ["postgresql"]),
    ],
)
def test_bench_db_option_names_what_is_measured(given: str, kinds: list[str]) -> None:
    assert run.parse_args(["--db", given]).db == kinds


def test_bench_db_option_rejects_an_unknown_kind(capsys) -> None:
    with pytest.raises(SystemExit):
        run.parse_args(["--db", "mysql"])
    assert "mysql" in capsys.readouterr().err


def test_bench_report_names_the_commit_it_measured() -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert run.source_commit().startswith(commit)
    results = {
        "started": "2026-12-01 10:00 CST",
        "machine": {"nproc": "2", "cpu": "x", "memory": "m", "kernel": "k",
                    "python": "3.11", "postgresql": "15", "sqlite": "3",
                    "wrk": "wrk", "commit": run.source_commit()},
        "args": {"max_requests": 0, "connections": 16, "duration": 10, "warmup": 2},
        "load": {"start": 0.1, "end": 0.2, "max": 0.3},
        "runs": [],
    }  # fmt: skip
    assert f"pdtracker at commit {commit}" in run.render(results)
