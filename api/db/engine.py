"""The database engine, Alembic migrations at start, and what "the database is unavailable" means."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import tenacity
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
T = TypeVar("T")


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or refused the connection; the request may be retried later."""


class DatabaseRefused(DatabaseUnavailable):
    """The server answered but will not serve us: the database or the user does not exist, or a wrong password.

    Retrying does not help (SQLSTATE 3D000, 28000, 28P01); the message says what to do.
    """


_CHECK_USER = "check the user and password in --database-url / PVSIM_DATABASE_URL"


def refusal(error: BaseException, database: str = "NAME") -> str | None:
    """What to do about a connection the server refused for good (no such database or user, bad password).

    None for anything else (a server that is down or restarting may come back: retry it).
    libpq reports these at connect time without a SQLSTATE, so the message text decides too.
    """
    if not isinstance(error, OperationalError):
        return None
    text = str(error.orig)
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate == "3D000" or ("database " in text and "does not exist" in text):
        return (f"create it (createdb -h HOST -U USER {database}, or CREATE DATABASE in psql) or name an existing "
                "one in --database-url / PVSIM_DATABASE_URL")
    if sqlstate in ("28000", "28P01") or "does not exist" in text or "password authentication failed" in text:
        return _CHECK_USER
    return None


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the database is unreachable (as opposed to a bad query or constraint)."""
    if isinstance(error, DatabaseUnavailable):
        return True
    if isinstance(error, OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (SQLite file or ``postgresql+psycopg://``), ready for threads.

    SQLite runs in WAL mode with a busy timeout so readers never block the writer;
    PostgreSQL connections time out after 5 s and are checked before use, so a restarted
    server is picked up again without a restart of the service.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, pool_timeout=5,
                         connect_args={"connect_timeout": 5})


def migrate(engine: Engine) -> None:
    """Apply every Alembic migration not applied yet (``alembic upgrade head``) on ``engine``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def migrate_with_retry(engine: Engine, timeout_s: float) -> None:
    """:func:`migrate`, retrying an unreachable database with backoff for up to ``timeout_s``.

    A database or user that does not exist, or a wrong password, is not retried.

    Raises
    ------
    DatabaseRefused
        At once if the server refuses the connection for good (:func:`refusal`).
    DatabaseUnavailable
        If the database is still unreachable after ``timeout_s``.
    """
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(lambda error: is_unavailable(error) and refusal(error) is None),
        stop=tenacity.stop_after_delay(timeout_s),
        wait=tenacity.wait_exponential_jitter(multiplier=0.5, max=5),
        before_sleep=lambda state: log.warning("database unreachable (%s); retrying", _reason(state)),
        reraise=True,
    )
    try:
        retrying(migrate, engine)
    except (OperationalError, InterfaceError, DBAPIError) as error:
        reason = " ".join(str(error.orig).split())  # psycopg's hint is on a second line
        advice = refusal(error, engine.url.database or "NAME")
        if advice is not None:
            raise DatabaseRefused(f"database {engine.url.render_as_string()} refused the connection: "
                                  f"{reason.removeprefix('connection failed: ')}; {advice}") from None
        raise DatabaseUnavailable(f"database {engine.url.render_as_string()} unreachable: {reason}") from None


def _reason(state: tenacity.RetryCallState) -> str:
    error = state.outcome.exception() if state.outcome else None
    return str(getattr(error, "orig", error)).strip().splitlines()[0] if error else "?"


class Database:
    """The engine and its sessions; every call maps an unreachable database to :class:`DatabaseUnavailable`."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error.

        Raises
        ------
        DatabaseUnavailable
            If the database cannot be reached (the original error is chained).
        """
        try:
            with self._sessions.begin() as session:
                yield session
        except Exception as error:
            if is_unavailable(error) and not isinstance(error, DatabaseUnavailable):
                raise DatabaseUnavailable(f"database unavailable: {describe(error)}") from error
            raise

    def run(self, work: Callable[[Session], T]) -> T:
        """``work(session)`` in one transaction (committed if it returns)."""
        with self.session() as session:
            return work(session)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def describe(error: BaseException) -> str:
    """First line of the driver's message, without SQL or parameters."""
    original = getattr(error, "orig", None) or error
    text = str(original).strip()
    return text.splitlines()[0] if text else type(original).__name__
