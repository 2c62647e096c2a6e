"""The UI's exposure: `make ui` binds 127.0.0.1, and a password in PIVOT_CLICKHOUSE_URL never
reaches what the UI shows (the resource's configured values name the env var, not its value)."""

import importlib
import re

import dagster as dg
import pytest
from dagster._core.remote_representation.external_data import RepositorySnap, ResourceConfigEnvVarSnap
from dagster_shared.serdes import serialize_value

from pipeline import instance
from pipeline.settings import ENV_CLICKHOUSE_URL, REPO_ROOT

pytestmark = pytest.mark.faults

SECRET = "s3cret-not-for-the-ui"


def test_make_ui_and_the_dev_command_bind_localhost_only(monkeypatch, tmp_path):
    ui_recipe = re.search(r"^ui:.*\n\t(.+)$", (REPO_ROOT / "Makefile").read_text(), re.M).group(1)
    assert "-m pipeline.instance dev" in ui_recipe and "--host 127.0.0.1" in ui_recipe

    command = instance.dev_command("127.0.0.1", 3000)
    assert command[1] == "dev" and command[command.index("-h") + 1] == "127.0.0.1"

    # and without --host, `python -m pipeline.instance dev` still binds 127.0.0.1
    execs = []
    monkeypatch.setattr(
        instance,
        "prepare_instance",
        lambda home: {
            "DAGSTER_HOME": str(home),
            instance.ENV_DAGSTER_STORAGE_URL: "postgresql+psycopg2://u:pw@/dagster",
        },
    )
    monkeypatch.setattr(instance.os, "chdir", lambda path: None)
    monkeypatch.setattr(instance.os, "execve", lambda path, argv, env: execs.append(argv))
    instance.main(["dev", "--home", str(tmp_path)])
    [argv] = execs
    assert argv[argv.index("-h") + 1] == "127.0.0.1"
    assert "0.0.0.0" not in argv


@pytest.fixture
def definitions_with_a_password_url(monkeypatch):
    import pipeline.definitions

    monkeypatch.setenv(ENV_CLICKHOUSE_URL, f"http://analyst:{SECRET}@clickhouse.internal:8123")
    yield importlib.reload(pipeline.definitions).defs
    monkeypatch.undo()
    importlib.reload(pipeline.definitions)


def test_the_ui_shows_the_env_var_name_not_the_password(definitions_with_a_password_url):
    defs = definitions_with_a_password_url
    # under an instance, as the code server loads it (a test's finished instance may linger as
    # the definitions' state storage otherwise)
    with dg.instance_for_test():
        snap = RepositorySnap.from_def(defs.get_repository_def())
    [clickhouse] = [r for r in snap.resources if r.name == "clickhouse"]
    # what the UI's resource page renders: the variable's name
    assert clickhouse.configured_values["url"] == ResourceConfigEnvVarSnap(name=ENV_CLICKHOUSE_URL)
    everything = serialize_value(snap)
    assert SECRET not in everything
    assert ENV_CLICKHOUSE_URL in everything
