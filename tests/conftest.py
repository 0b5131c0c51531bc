"""Shared fixtures: the app on SQLite (or PostgreSQL), clients, factories, query counting."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache, partial

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from hypothesis import settings
from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy import event, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.util import LRUCache

from pdtracker import create_app
from pdtracker.activities.models import Activity
from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.org.models import Department
from pdtracker.papers.fonts import FontMissing
from tests import factories, fast_routes
from tests.factories import DEMO_PASSWORD
from tests.support import filled_tables, pg_database, require_tool, sqlalchemy_pg_url

PG_URL = os.environ.get("PDTRACKER_TEST_DATABASE_URL")

fast_routes.install()  # one fresh app per test: compile each URL rule's builder once


def _share_compiled_sql() -> None:
    """Let every test's engine reuse the SQL its predecessors compiled.

    Each test builds a new app, so a new engine, whose compiled-statement cache
    starts empty: compiling the ORM's statements again was a third of a matrix
    test's CPU. The cache is keyed by the dialect object, so a new engine for the
    same URL and options takes the dialect (initialized on a first connection) and
    the cache of the first such engine. Its pool, connections and events stay its own.
    Production builds one engine per process and is left as it is.
    """
    make_engine = SQLAlchemy._make_engine
    donors: dict[str, Engine] = {}

    def _make_engine(self, bind_key, options, app) -> Engine:
        engine = make_engine(self, bind_key, options, app)
        key = repr(sorted(options.items(), key=lambda item: item[0]))
        donor = donors.get(key)
        if donor is not None:
            engine.dialect = donor.dialect
            engine._compiled_cache = donor._compiled_cache
        elif engine._compiled_cache is not None:

            def _donate(*_args) -> None:  # after create_engine's own first connect
                engine._compiled_cache = LRUCache(5000)  # the suite's statements
                donors.setdefault(key, engine)

            event.listen(engine, "connect", _donate, once=True)
        return engine

    SQLAlchemy._make_engine = _make_engine  # type: ignore[method-assign]


_share_compiled_sql()


class _TemplateCode(BytecodeCache):
    """Compiled templates kept in memory for the whole test run (Jinja checks each
    entry against its template's source checksum)."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if (code := self._code.get(bucket.key)) is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CODE = _TemplateCode()

# CI runs property tests derandomized so a green run stays green; locally they explore.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

requires_postgres = pytest.mark.skipif(
    not PG_URL,
    reason="PDTRACKER_TEST_DATABASE_URL is not set (PostgreSQL tests skipped)",
)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """PostgreSQL when PDTRACKER_TEST_DATABASE_URL is set, else a SQLite file.

    Under pytest-xdist each worker gets a database of its own on the same server.
    """
    if not PG_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        yield sqlalchemy_pg_url(PG_URL)
        return
    with pg_database(PG_URL, f"{make_url(PG_URL).database}_{worker}") as url:
        yield url


@pytest.fixture(scope="session")
def _schema(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    app = create_app(_config(database_url, tmp_path_factory.mktemp("inst")))
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.engine.dispose()
    yield  # no app context stays open: tests' own apps must be the current one
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


def _config(database_url: str, instance: object) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "UPLOAD_FOLDER": str(instance),
        "SERVER_NAME": "pdtracker.test",
        # Still scrypt, with the lowest cost so thousands of test users stay fast.
        "PASSWORD_HASH_METHOD": "scrypt:1024:1:1",
    }


def _clear(app: Flask) -> None:
    # DELETE, not TRUNCATE: on small tables it is much faster on PostgreSQL.
    with app.app_context(), db.engine.begin() as conn:
        for table in reversed(filled_tables(conn)):
            conn.execute(table.delete())


@pytest.fixture
def app(_schema: None, database_url: str, tmp_path) -> Iterator[Flask]:
    """A fresh app over empty tables, with the reference data loaded."""
    app = create_app(_config(database_url, tmp_path / "uploads"))
    app.config["INSTANCE_TMP"] = str(tmp_path)
    # Every test's app renders the same templates: compile each once per run.
    app.jinja_env.bytecode_cache = TEMPLATE_CODE
    _clear(app)
    with app.app_context():
        from pdtracker.reference import ensure_activity_kinds

        ensure_activity_kinds()
        db.session.commit()
    yield app
    from pdtracker.calendar.directory import shutdown

    shutdown(app)  # the feed listener's thread and connection, if a feed started it
    with app.app_context():
        db.session.remove()
        # Close pooled connections now: an idle one would hold locks the next test waits on.
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    """A CLI runner for the app."""
    return app.test_cli_runner()


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    """An app context for tests that use the session directly."""
    with app.app_context():
        yield


class Auth:
    """Log in and out through the real login form."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, username: str, password: str = DEMO_PASSWORD):
        """Post the login form."""
        return self._client.post(
            "/login", data={"username": username, "password": password}
        )

    def logout(self):
        """Post the logout form."""
        return self._client.post("/logout")

    def page(self, username: str, locale: str, url: str) -> str:
        """``url``'s HTML as ``username`` reads it in ``locale`` (the language menu's form)."""
        self.login(username)
        self._client.post("/language", data={"locale": locale})
        response = self._client.get(url)
        assert response.status_code == 200
        return response.get_data(as_text=True)


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    """Login helper bound to the test client."""
    return Auth(client)


@pytest.fixture
def make_department(app: Flask) -> Callable[..., Department]:
    """Create a department (and its institution on first use)."""
    return partial(factories.make_department, app)


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    """Create a user with roles; teachers get a profile."""
    return partial(factories.make_user, app)


@pytest.fixture
def make_activity(app: Flask) -> Callable[..., Activity]:
    """Create an activity for a teacher with sensible defaults."""
    return partial(factories.make_activity, app)


@pytest.fixture
def world(make_department, make_user):
    """The access-matrix cast: two teachers of one department, heads, staff, admin."""
    from pdtracker.auth.models import Role

    ai = make_department("AI", "人工智能技术应用系")
    other = make_department("ME", "机电工程系")
    return {
        "ai": ai,
        "other": other,
        "teacher1": make_user("teacher1", Role.TEACHER, department=ai),
        "teacher2": make_user("teacher2", Role.TEACHER, department=ai),
        "head1": make_user("head1", Role.HEAD, Role.TEACHER, department=ai),
        "head2": make_user("head2", Role.HEAD, Role.TEACHER, department=other),
        "staff1": make_user("staff1", Role.STAFF),
        "admin": make_user("admin", Role.ADMIN),
    }


@pytest.fixture
def named(app: Flask, world) -> None:
    """world's AI department with its English name (factories.AI_NAME_EN) set."""
    with app.app_context():
        db.session.get_one(Department, world["ai"].id).name_en = factories.AI_NAME_EN
        db.session.commit()


class QueryCounter:
    """Counts SQL statements sent to the database."""

    def __init__(self) -> None:
        self.count = 0
        self.statements: list[str] = []


@pytest.fixture
def count_queries(app: Flask):
    """Context manager counting the SQL statements executed inside it."""

    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()

        def _count(conn, cursor, statement, *args) -> None:
            counter.count += 1
            counter.statements.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", _count)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", _count)

    return counting


@pytest.fixture
def table_counts(app: Flask):
    """Snapshot of the row count of every table, to prove bad input changed nothing."""

    def snapshot() -> dict[str, int]:
        with app.app_context(), db.engine.connect() as conn:
            return {
                t.name: conn.execute(
                    text(f'SELECT COUNT(*) FROM "{t.name}"')
                ).scalar_one()
                for t in db.metadata.sorted_tables
            }

    return snapshot


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """On the database pass (PDTRACKER_DATABASE_TESTS_ONLY=1), run only what can differ.

    CI runs the suite on SQLite, then again on PostgreSQL. A test that never opens
    the database (no ``database_url`` among its fixtures: the pure engine, feed
    bytes, parsers, imports, packaging) and the browser tests (the pages people
    click; the queries beneath them are exercised on both databases by the HTTP
    tests) would only repeat the first pass, so the second pass leaves them out.
    """
    if os.environ.get("PDTRACKER_DATABASE_TESTS_ONLY") != "1":
        return
    kept, dropped = [], []
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        uses_database = "database_url" in fixtures or _names_postgres(item)
        is_browser = "browser" in fixtures
        (kept if uses_database and not is_browser else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


_POSTGRES_WORDS = ("PG_URL", "requires_postgres", "PDTRACKER_TEST_DATABASE_URL")


@cache
def _module_names_postgres(path: str) -> bool:
    with open(path, encoding="utf-8") as source:
        text = source.read()
    return any(word in text for word in _POSTGRES_WORDS)


def _names_postgres(item: pytest.Item) -> bool:
    """A test whose module reaches PostgreSQL its own way (races, migrations, pools)."""
    return _module_names_postgres(str(item.path))


# Papers need a CJK font and WeasyPrint's system libraries (Pango); a machine without
# them skips the tests that make a paper, as it skips the other interop tests, and CI
# (PDTRACKER_REQUIRE_INTEROP=1) fails them.
_PANGO_WORDS = ("pango", "gobject", "harfbuzz", "fontconfig", "cairo")


def paper_tool_missing(exc: BaseException) -> str | None:
    """Why a paper could not be made on this machine, or None for a real failure."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, FontMissing):
            return f"papers cannot be made here: {current}"
        if isinstance(current, OSError | ImportError) and _from_weasyprint(current):
            words = str(current).lower()
            if any(word in words for word in _PANGO_WORDS):
                return (
                    "papers cannot be made here: WeasyPrint cannot load its system "
                    f"libraries ({current}); apt-get install libpango-1.0-0 "
                    "libpangoft2-1.0-0"
                )
        current = current.__cause__ or current.__context__
    return None


def _from_weasyprint(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        if "weasyprint" in tb.tb_frame.f_code.co_filename:
            return True
        tb = tb.tb_next
    return False


def _skip_missing_paper_tools() -> Iterator[None]:
    try:
        return (yield)
    except Exception as exc:
        reason = paper_tool_missing(exc)
        if reason is None:
            raise
        require_tool(False, reason)
        raise  # not reached: require_tool skips or fails


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    """A fixture that makes a paper skips when the machine cannot make one."""
    return (yield from _skip_missing_paper_tools())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """A test that makes a paper skips when the machine cannot make one."""
    return (yield from _skip_missing_paper_tools())
