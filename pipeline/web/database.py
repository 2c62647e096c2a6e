"""The web app's connection to dist_perf_dw: a read-only role, one engine per app, one session per request.

DESIGN decision 13: the pages read as `dist_perf_dw_reader`, a role that may only SELECT on schema
dist_perf_dw. `PIVOT_WEB_POSTGRES_URL` is its URL. Unset, the app sets the role up itself on the
server and database the pipeline loads (`PIVOT_POSTGRES_URL`, else the project's own server): it
creates the role if missing, gives it a password kept in `<data dir>/web/reader_password` (made
once, mode 0600), grants SELECT on the schema's tables (and, by default privileges, on tables made
later) and makes its transactions read-only by default. On a server where the pipeline's role may
not create roles, run deploy/postgres/roles.sql once and set PIVOT_WEB_POSTGRES_URL.

The session is a plain SQLAlchemy `Session` from a `sessionmaker`, kept in `flask.g` and closed on
teardown (Flask's own tutorial keeps its database connection the same way), rather than
Flask-SQLAlchemy: the ORM's `Base` is shared with the pipeline and carries no Flask, and the engine
needs settings of its own (read-only role, statement timeout, pool sized to the server's threads).
"""

import os
import secrets
import threading
import time

import psycopg
import sqlalchemy as sa
from flask import current_app, g
from psycopg import sql
from sqlalchemy.orm import Session, sessionmaker

from pipeline.dist_perf_dw.models import SCHEMA
from pipeline.resources.postgres import PostgresResource, normalize_url
from pipeline.settings import ENV_POSTGRES_URL, ENV_WEB_POSTGRES_URL, data_dir

READER_ROLE = "dist_perf_dw_reader"
CONNECT_TIMEOUT_SECONDS = 5
# A page that needs longer than this is a bug or an overloaded server: the request answers 503.
STATEMENT_TIMEOUT_MS = 15_000
SESSION_KEY = "dist_perf_dw_session"
EXTENSION_KEY = "dist_perf_dw"


def reader_password() -> str:
    """The reader role's password on a server the project sets up, made once and kept 0600."""
    path = data_dir() / "web" / "reader_password"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        candidate = path.with_suffix(f".{os.getpid()}.tmp")
        candidate.write_text(secrets.token_urlsafe(24))
        candidate.chmod(0o600)
        try:
            os.link(candidate, path)  # the first process to get here wins; the others read its password
        except FileExistsError:
            pass
        finally:
            candidate.unlink()
    return path.read_text().strip()


def _conninfo(url: sa.URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def ensure_reader_role(admin_url: sa.URL, password: str) -> None:
    """Create or update `dist_perf_dw_reader` on the server of `admin_url` and grant it SELECT on
    schema dist_perf_dw of that database. Idempotent; safe when several processes run it at once
    (a role is shared by the server's databases, so a concurrent CREATE ROLE is retried)."""
    PostgresResource(url=admin_url.render_as_string(hide_password=False)).ensure_schema()
    role, schema = sql.Identifier(READER_ROLE), sql.Identifier(SCHEMA)
    statements = [
        sql.SQL("ALTER ROLE {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD {}").format(
            role, sql.Literal(password)
        ),
        sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(role),
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(admin_url.database), role),
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, role),
        sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(schema, role),
        sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(schema, role),
    ]
    for attempt in range(10):
        try:
            with psycopg.connect(_conninfo(admin_url), autocommit=True) as connection, connection.transaction():
                exists = connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (READER_ROLE,)).fetchone()
                if not exists:
                    connection.execute(sql.SQL("CREATE ROLE {} LOGIN").format(role))
                for statement in statements:
                    connection.execute(statement)
            return
        except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation, psycopg.errors.InternalError):
            # Another process created the role or updated its catalog row first ("tuple concurrently updated").
            if attempt == 9:
                raise
            time.sleep(0.05 * (attempt + 1))


def pipeline_url() -> sa.URL:
    """The URL the pipeline loads dist_perf_dw with: PIVOT_POSTGRES_URL, else the project's own server."""
    return PostgresResource(url=os.environ.get(ENV_POSTGRES_URL, "")).sqlalchemy_url()


def reader_url(admin_url: sa.URL | None = None) -> sa.URL:
    """PIVOT_WEB_POSTGRES_URL, else the reader role set up on the pipeline's database."""
    configured = os.environ.get(ENV_WEB_POSTGRES_URL)
    if configured:
        try:
            return normalize_url(configured)
        except ValueError as error:  # its message names the pipeline's variable
            raise ValueError(str(error).replace(ENV_POSTGRES_URL, ENV_WEB_POSTGRES_URL)) from None
    admin_url = admin_url or pipeline_url()
    password = reader_password()
    ensure_reader_role(admin_url, password)
    return admin_url.set(username=READER_ROLE, password=password)


def make_engine(url: sa.URL, pool_size: int) -> sa.Engine:
    return sa.create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=10,
        pool_pre_ping=True,
        # The URL (with its password) and the statements' parameters never reach a log line or a page.
        hide_parameters=True,
        connect_args={
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "application_name": "pivot-pipeline-web",
            # Belt and braces: the role is read-only by its grants and by its default. No parallel workers:
            # with many concurrent readers on few cores they add processes, not speed.
            "options": f"-c default_transaction_read_only=on -c statement_timeout={STATEMENT_TIMEOUT_MS} "
            "-c max_parallel_workers_per_gather=0",
        },
    )


class Database:
    """The app's engine, made on first use (so the app starts, and answers 503, while the server is down)."""

    def __init__(self, url: sa.URL | str | None, pool_size: int):
        self._url = sa.make_url(url) if isinstance(url, str) else url
        self._pool_size = pool_size
        self._engine: sa.Engine | None = None
        self._sessions: sessionmaker | None = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> sa.Engine:
        with self._lock:
            if self._engine is None:
                url = self._url or reader_url()
                self._engine = make_engine(url, self._pool_size)
                self._sessions = sessionmaker(self._engine, expire_on_commit=False, autoflush=False)
            return self._engine

    def session(self) -> Session:
        self.engine  # noqa: B018  (makes the sessionmaker)
        return self._sessions()

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def get_session() -> Session:
    """This request's session: made on first use, closed by `close_session` at teardown."""
    if SESSION_KEY not in g:
        g.setdefault(SESSION_KEY, current_app.extensions[EXTENSION_KEY].session())
    return g.get(SESSION_KEY)


def close_session(_exception: BaseException | None = None) -> None:
    session = g.pop(SESSION_KEY, None)
    if session is not None:
        session.close()

