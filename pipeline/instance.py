"""The production-like Dagster instance: PostgreSQL storage, queued runs, database pools.

    python -m pipeline.instance dev [--port 3000]   # what `make ui` runs
    python -m pipeline.instance prepare              # write $DAGSTER_HOME/dagster.yaml, set pools, print env
    python -m pipeline.instance exec dg check defs   # any command, on this instance (`make test` runs this one)
    eval "$(python -m pipeline.instance env)"        # this shell: every `dagster` command on this instance

`prepare_instance` copies the committed dagster.yaml into $DAGSTER_HOME,
resolves PIVOT_DAGSTER_STORAGE_URL (default: database `dagster` on the
project's local PostgreSQL, started if needed) and stores the pool limits in
the instance: `clickhouse` = 1 on the embedded chDB store (one process per data
directory), PIVOT_CLICKHOUSE_POOL_LIMIT (default 4) on a ClickHouse server;
`postgres` = PIVOT_POSTGRES_POOL_LIMIT (default 4). `dev` then execs
`dagster dev` (webserver + daemon) bound to 127.0.0.1 with that environment, so
runs, materializations and ticks survive a restart.
"""

import argparse
import os
import shlex
import shutil
import sys
from pathlib import Path

import dagster as dg
import sqlalchemy as sa
from dagster_postgres import DagsterPostgresStorage

from pipeline.settings import (
    CLICKHOUSE_POOL,
    ENV_CLICKHOUSE_POOL_LIMIT,
    ENV_CLICKHOUSE_URL,
    ENV_DAGSTER_STORAGE_URL,
    ENV_POSTGRES_POOL_LIMIT,
    POSTGRES_POOL,
    REPO_ROOT,
    data_dir,
    default_clickhouse_url,
)

DAGSTER_YAML = REPO_ROOT / "dagster.yaml"
WORKSPACE_YAML = REPO_ROOT / "workspace.yaml"
DAGSTER_DATABASE = "dagster"
DAGSTER_STORAGE_DRIVER = "postgresql+psycopg2"
DEFAULT_SERVER_POOL_LIMIT = 4


def dagster_storage_url(database: str = DAGSTER_DATABASE) -> str:
    """$PIVOT_DAGSTER_STORAGE_URL, else `database` on the project's local PostgreSQL.

    dagster-postgres speaks psycopg2 (its SQL fails under psycopg 3, which
    SQLAlchemy 2.1 picks for a bare postgresql://), so the driver is explicit."""
    configured = os.environ.get(ENV_DAGSTER_STORAGE_URL)
    if configured:
        return configured
    from pipeline.resources.local_postgres import ensure_local_postgres_url

    url = sa.make_url(ensure_local_postgres_url(database))
    return url.set(drivername=DAGSTER_STORAGE_DRIVER).render_as_string(hide_password=False)


class ProjectPostgresStorage(DagsterPostgresStorage):
    """Dagster's PostgreSQL storage (dagster.yaml) at $PIVOT_DAGSTER_STORAGE_URL, else database
    `dagster` on the project's local server, started first if it is stopped. So any `dagster`
    command finds its storage: after `local_postgres stop` it starts the server in a second
    instead of retrying a dead socket for 13 s and failing."""

    @classmethod
    def config_type(cls) -> dict:
        return {}

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> "ProjectPostgresStorage":
        return cls(postgres_url=dagster_storage_url(), inst_data=inst_data)


def pool_limits(environ: dict | None = None) -> dict[str, int]:
    """Slots per database pool for the ClickHouse and PostgreSQL in use."""
    environ = os.environ if environ is None else environ
    clickhouse_url = environ.get(ENV_CLICKHOUSE_URL) or default_clickhouse_url()
    embedded = clickhouse_url.startswith("chdb:")
    return {
        # chDB admits one process per data directory: steps touching it must queue.
        CLICKHOUSE_POOL: 1 if embedded else int(environ.get(ENV_CLICKHOUSE_POOL_LIMIT) or DEFAULT_SERVER_POOL_LIMIT),
        POSTGRES_POOL: int(environ.get(ENV_POSTGRES_POOL_LIMIT) or DEFAULT_SERVER_POOL_LIMIT),
    }


def prepare_instance(home: Path, environ: dict | None = None) -> dict[str, str]:
    """Make `home` a DAGSTER_HOME for this project and return the environment to run Dagster with.

    Idempotent: the storage schema is created or migrated on first use, the pool
    limits are (re)written from the current environment each time."""
    env = dict(os.environ if environ is None else environ)
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DAGSTER_YAML, home / "dagster.yaml")
    if not env.get(ENV_DAGSTER_STORAGE_URL):
        env[ENV_DAGSTER_STORAGE_URL] = dagster_storage_url()
    env["DAGSTER_HOME"] = str(home)

    saved = {key: os.environ.get(key) for key in ("DAGSTER_HOME", ENV_DAGSTER_STORAGE_URL)}
    os.environ.update(DAGSTER_HOME=env["DAGSTER_HOME"], **{ENV_DAGSTER_STORAGE_URL: env[ENV_DAGSTER_STORAGE_URL]})
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            for pool, limit in pool_limits(env).items():
                instance.event_log_storage.set_concurrency_slots(pool, limit)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return env


# Only for the shell `env` sets up: the `dagster` CLI's own commands are superseded by `dg launch`
# and print so before our code runs (no filter in the definitions can reach it); the README
# teaches `dagster asset materialize` / `dagster job backfill` / `dagster job execute` on purpose
# (partition ranges, run config, the same CLI throughout). Exactly these messages, nothing else.
SUPERSEDED_CLI_WARNINGS = (
    "ignore:Function `asset_materialize_command` is superseded",
    "ignore:Function `job_backfill_command` is superseded",
    "ignore:Function `job_execute_command` is superseded",
)


def shell_exports(home: Path) -> str:
    """The `export` lines that make a shell use this instance: an absolute DAGSTER_HOME (the
    storage URL is resolved by ProjectPostgresStorage at each command, so none is exported)."""
    warnings_filter = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"), *SUPERSEDED_CLI_WARNINGS]))
    return "\n".join(
        [
            f"export DAGSTER_HOME={shlex.quote(str(home))}",
            f"export PYTHONWARNINGS={shlex.quote(warnings_filter)}",
        ]
    )


def dev_command(host: str, port: int) -> list[str]:
    dagster = str(Path(sys.executable).with_name("dagster"))
    return [dagster, "dev", "-h", host, "-p", str(port), "-w", str(WORKSPACE_YAML)]


def resolve_command(command: list[str]) -> list[str]:
    """`command` with its program taken from this virtualenv when it has one by that name (dg, dagster)."""
    in_venv = Path(sys.executable).with_name(command[0])
    program = str(in_venv) if "/" not in command[0] and in_venv.exists() else shutil.which(command[0])
    if program is None:
        raise SystemExit(f"{command[0]}: command not found")
    return [program, *command[1:]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.instance", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["dev", "prepare", "exec", "env"])
    parser.add_argument("--home", default=os.environ.get("DAGSTER_HOME") or str(data_dir() / "dagster_home"))
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: %(default)s, local only)")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("args", nargs=argparse.REMAINDER, help="exec: the command to run and its arguments")
    args = parser.parse_args(argv)
    if args.command == "exec" and not args.args:
        parser.error("exec needs a command, e.g. `exec dg check defs`")

    env = prepare_instance(Path(args.home).resolve())
    if args.command == "env":
        print(shell_exports(Path(env["DAGSTER_HOME"])))
        return 0
    limits = pool_limits(env)
    storage = sa.make_url(env[ENV_DAGSTER_STORAGE_URL]).render_as_string(hide_password=True)
    if args.command == "exec":
        # Tools that look for the project's virtualenv (dg) find it active.
        env["VIRTUAL_ENV"] = sys.prefix
        command = resolve_command(args.args)
        os.execve(command[0], command, env)
    print(f"DAGSTER_HOME={env['DAGSTER_HOME']}\nstorage: {storage}\npools: {limits}", flush=True)
    if args.command == "prepare":
        return 0
    # From DAGSTER_HOME, where the instance's dagster.yaml is: `dagster dev` started next to the
    # repository's dagster.yaml would say that file "will not be used" (it is, as the copy).
    os.chdir(env["DAGSTER_HOME"])
    os.execve(dev_command(args.host, args.port)[0], dev_command(args.host, args.port), env)


if __name__ == "__main__":
    sys.exit(main())
