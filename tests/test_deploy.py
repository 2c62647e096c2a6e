"""deploy/: both compose files pass `docker-compose config` (Debian's docker-compose, installed by `make
test`), their ClickHouse image is the one pinned version everywhere, every file they mount exists, and the
Helm values load and use exactly the documented keys of Dagster's chart."""

import os
import re
import shutil
import subprocess

import pytest
import yaml

from pipeline.settings import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"
COMPOSE_FILES = [DEPLOY / "docker-compose.yml", DEPLOY / "cluster" / "docker-compose.yml"]
CLICKHOUSE_VERSION = "25.8.29.51"
PASSWORDS = {
    name: "not-a-secret"
    for name in re.findall(r"^(\w+)=", (DEPLOY / ".env.example").read_text(), re.M) + ["CLICKHOUSE_CLUSTER_SECRET"]
}
# The chart keys deploy/helm/values.yaml sets (README "Production"); a key added there must be added here.
HELM_KEYS = {
    "global.postgresqlSecretName",
    "generatePostgresqlPasswordSecret",
    "postgresql.enabled",
    "postgresql.postgresqlHost",
    "postgresql.postgresqlUsername",
    "postgresql.postgresqlDatabase",
    "postgresql.service.port",
    "dagster-user-deployments.enabled",
    "dagster-user-deployments.enableSubchart",
    "dagster-user-deployments.deployments[].name",
    "dagster-user-deployments.deployments[].image.repository",
    "dagster-user-deployments.deployments[].image.tag",
    "dagster-user-deployments.deployments[].image.pullPolicy",
    "dagster-user-deployments.deployments[].dagsterApiGrpcArgs",
    "dagster-user-deployments.deployments[].port",
    "dagster-user-deployments.deployments[].envSecrets[].name",
    "dagster-user-deployments.deployments[].env[].name",
    "dagster-user-deployments.deployments[].env[].value",
    "dagster-user-deployments.deployments[].includeConfigInLaunchedRuns.enabled",
    "runLauncher.type",
    "runLauncher.config.k8sRunLauncher.envSecrets[].name",
    "dagsterDaemon.enabled",
    "dagsterDaemon.runCoordinator.enabled",
    "dagsterDaemon.runCoordinator.type",
    "dagsterDaemon.runCoordinator.config.queuedRunCoordinator.maxConcurrentRuns",
    "dagsterDaemon.runMonitoring.enabled",
    "dagsterDaemon.runMonitoring.startTimeoutSeconds",
    "dagsterDaemon.runMonitoring.freeSlotsAfterRunEndSeconds",
    "concurrency.enabled",
    "concurrency.pools.granularity",
    "concurrency.pools.defaultLimit",
    "telemetry.enabled",
}


def docker_compose_config(path, env):
    docker_compose = shutil.which("docker-compose")
    assert docker_compose, "docker-compose is missing: `make test` installs Debian's package (make deploy-deps)"
    return subprocess.run(
        [docker_compose, "-f", str(path), "config"],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], **env},
    )


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_the_compose_files_are_valid_and_refuse_to_start_without_their_passwords(path):
    result = docker_compose_config(path, PASSWORDS)
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    images = {service.get("image") for service in config["services"].values()}
    assert {image for image in images if image and "clickhouse" in image} <= {
        f"clickhouse/clickhouse-server:{CLICKHOUSE_VERSION}",
        f"clickhouse/clickhouse-keeper:{CLICKHOUSE_VERSION}",
    }
    for service in config["services"].values():
        for volume in service.get("volumes", []):
            source = volume["source"] if isinstance(volume, dict) else volume.split(":")[0]
            if source.startswith("/"):
                assert os.path.exists(source), f"{path.name} mounts {source}, which does not exist"
    missing = docker_compose_config(path, {k: v for k, v in PASSWORDS.items() if k != "CLICKHOUSE_ADMIN_PASSWORD"})
    assert missing.returncode != 0 and "CLICKHOUSE_ADMIN_PASSWORD" in missing.stderr


def test_the_single_machine_compose_runs_dagster_from_this_code_location():
    config = yaml.safe_load(docker_compose_config(COMPOSE_FILES[0], PASSWORDS).stdout)
    services = config["services"]
    assert {"postgres", "clickhouse", "code_location", "webserver", "daemon"} <= set(services)
    assert services["code_location"]["build"]["dockerfile"] == "deploy/Dockerfile"
    for name in ("webserver", "daemon"):
        assert services[name]["command"][:4] == ["python", "-m", "pipeline.instance", "exec"], name
    workspace = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())
    assert workspace["load_from"][0]["grpc_server"] == {
        "host": "code_location",
        "port": 4000,
        "location_name": "pivot_pipeline",
    }


def test_the_cluster_has_two_shards_of_two_replicas_and_three_keepers():
    config = yaml.safe_load(docker_compose_config(COMPOSE_FILES[1], PASSWORDS).stdout)
    servers = sorted(name for name in config["services"] if name.startswith("ch-"))
    keepers = sorted(name for name in config["services"] if name.startswith("keeper-"))
    assert servers == ["ch-s1r1", "ch-s1r2", "ch-s2r1", "ch-s2r2"] and len(keepers) == 3
    remote_servers = (DEPLOY / "cluster" / "config.d" / "remote_servers.xml").read_text()
    assert re.findall(r"<host>(ch-\w+)</host>", remote_servers) == servers
    for server in servers:
        macros = (DEPLOY / "cluster" / "macros" / f"{server}.xml").read_text()
        assert f"<shard>0{server[4]}</shard>" in macros and f"<replica>{server}</replica>" in macros


def _keys(value, prefix=""):
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _keys(child, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        for item in value:
            yield from _keys(item, prefix + "[]")
    else:
        yield prefix


def test_the_helm_values_load_and_use_the_documented_keys():
    values = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())
    assert set(_keys(values)) == HELM_KEYS
    assert values["runLauncher"]["type"] == "K8sRunLauncher" and values["postgresql"]["enabled"] is False
    [deployment] = values["dagster-user-deployments"]["deployments"]
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "pipeline.definitions"]


def test_the_ci_workflow_runs_the_readme_command_and_the_pinned_server():
    workflow = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / "ci.yml").read_text())
    jobs = workflow["jobs"]
    assert all(any(step.get("run") == ".ci/run" for step in job["steps"]) for job in jobs.values())
    assert "make test" in (REPO_ROOT / ".ci" / "run").read_text()
    server = jobs["clickhouse-server"]
    assert server["services"]["clickhouse"]["image"] == f"clickhouse/clickhouse-server:{CLICKHOUSE_VERSION}"
    assert server["env"]["PIVOT_CLICKHOUSE_URL"].endswith("@clickhouse:8123")
