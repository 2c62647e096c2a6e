"""The README is a contract: its commands run as written, and its counts match the definitions.

`test_every_readme_command_runs_on_a_fresh_clone` clones the repository's HEAD into a temporary
folder (commit a README change before running it), links the installed .venv (whose editable
install points at this checkout, so PYTHONPATH puts the clone's `pipeline` first, as a .venv
installed from the clone would: checked from outside the clone, since Dagster imports the
instance's storage class before the code location), and runs every fenced `bash` block of
README.md in order, each in a fresh `bash -e` with a clean environment (no PIVOT_*/DAGSTER_*
variables), after the README's setup line. An HTML comment on the line above a block drives it:

    <!-- readme-test: setup -->               the setup line, run before every later block
    <!-- readme-test: variant: CMD | why -->  run CMD instead (a server that never exits)
    <!-- readme-test: skip: why -->           not run: what it needs (Docker, a running server)
    <!-- readme-test: file: PATH -->          (above a csv block) write the block to PATH in the clone

A block passes when it exits 0, prints no Dagster Beta/Preview/Supersession warning, and prints
every `# → ` line it shows. The demo's excerpt (the block after "What `make demo` prints") must
match the real run line by line, up to what changes with the day (`_shape`: numbers, column
widths, a table row's values). Skips are only for what this machine cannot run (a Docker daemon,
a server that never exits, your own server), checked by `test_the_readme_blocks_are_marked_consistently`.
"""

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import dagster as dg
import pytest

from pipeline.settings import REPO_ROOT

README = REPO_ROOT / "README.md"
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>\w*)\s*$")
MARKER = re.compile(r"<!-- readme-test: (?P<kind>setup|variant|skip|file)(?::\s*(?P<arg>.*?))? -->")
DAGSTER_WARNINGS = re.compile(r"BetaWarning|PreviewWarning|SupersessionWarning")
# What this test cannot run: a server that never exits, or a Docker daemon (the machine has none). A
# block running one is skipped or replaced by a variant; every other block runs.
CANNOT_RUN_HERE = re.compile(
    r"\b(make ui|dagster dev|dagster-webserver|dagster-daemon|flask run|gunicorn|docker(-compose)?|helm|kubectl)\b"
)
# A skip says what the block needs that the test lacks: a Docker daemon, a running server, your own server.
SKIP_REASON = re.compile(r"^needs .*\b(Docker|running|server)\b")


def readme_blocks(text: str) -> list[dict]:
    """Every fenced block: language, body (indent removed), the marker above it, the line before."""
    lines, blocks, i = text.splitlines(), [], 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, end = len(opening["indent"]), i + 1
        while not FENCE.match(lines[end]) or len(FENCE.match(lines[end])["indent"]) != indent:
            end += 1
        above = next((line for line in reversed(lines[:i]) if line.strip()), "")
        marker = MARKER.search(above)
        blocks.append(
            {
                "lang": opening["lang"],
                "body": "\n".join(line[indent:] for line in lines[i + 1 : end]),
                "kind": marker["kind"] if marker else None,
                "arg": (marker["arg"] or "") if marker else "",
                "line": i + 1,
                "intro": "\n".join(lines[max(0, i - 6) : i]),
            }
        )
        i = end + 1
    return blocks


def test_the_readme_blocks_are_marked_consistently():
    blocks = readme_blocks(README.read_text())
    assert [b["body"] for b in blocks if b["kind"] == "setup"] == [
        'source .venv/bin/activate && eval "$(python -m pipeline.instance env)"'
    ]
    for block in blocks:
        where = f"README line {block['line']}"
        if block["kind"] in ("skip", "variant"):
            assert block["arg"].strip(), f"{where}: a skip or variant says why"
            for test_file in re.findall(r"tests/[\w/]+\.py", block["arg"]):
                assert (REPO_ROOT / test_file).exists(), f"{where}: the reason names {test_file}, which is missing"
        if block["kind"] == "skip":
            assert SKIP_REASON.match(block["arg"]), f"{where}: skipped, but it needs no Docker or server: run it"
        if block["kind"] == "variant":
            command, _, why = block["arg"].partition("|")
            assert why.strip() and not CANNOT_RUN_HERE.search(command), f"{where}: `variant: CMD | why`, CMD runnable"
        if block["lang"] == "bash" and CANNOT_RUN_HERE.search(block["body"]):
            assert block["kind"] in ("skip", "variant"), f"{where}: a server or Docker command, marked neither"
        if block["kind"] == "file":
            assert block["lang"] == "csv" and block["arg"].startswith(".data/")
    assert sum(b["lang"] == "bash" and b["kind"] not in ("skip",) for b in blocks) >= 7
    # The quiet-CLI rule (no Dagster Beta/Preview/Supersession warning on stderr) is held on the blocks run.
    assert any(b["kind"] is None and "dagster asset materialize" in b["body"] for b in blocks if b["lang"] == "bash")


def test_the_readme_counts_match_the_definitions():
    from pipeline.definitions import defs

    text = README.read_text()
    sensors = set(re.findall(r"^- \*\*`(\w+)`\*\*", text.split("### Sensors", 1)[1].split("\n### ", 1)[0], re.M))
    assert sensors == {sensor.name for sensor in defs.sensors}
    assert f"the {_number_word(len(defs.sensors))} sensors start running" in text
    checks_table = text.split("### Asset checks", 1)[1].split("\n### ", 1)[0]
    assert set(re.findall(r"^\| `(\w+)` \|", checks_table, re.M)) == {
        key.name for check in defs.asset_checks for key in check.check_keys
    }
    assets = len([key for asset in defs.assets if isinstance(asset, dg.AssetsDefinition) for key in asset.keys])
    assert f"`dg list defs` ({assets} assets" in text


def test_the_configuration_table_names_every_environment_variable():
    """pipeline/settings.py names every variable the code location reads; the README's table lists each."""
    from pipeline import settings

    named = {value for name, value in vars(settings).items() if name.startswith("ENV_")}
    table = set(re.findall(r"^\| `(PIVOT_[A-Z_]+)` \|", README.read_text(encoding="utf-8"), flags=re.MULTILINE))
    assert named - table == set()


def test_the_readme_names_no_missing_file():
    text = README.read_text()
    links = re.findall(r"\]\(((?!https?:|#)[^)]+)\)", text)
    linked = [link.partition("#")[0] for link in links]
    for link in links:  # a link into another markdown file's section: that section exists
        path, _, anchor = link.partition("#")
        if anchor and path.endswith(".md") and (REPO_ROOT / path).exists():
            headings = re.findall(r"^#+ (.+)$", (REPO_ROOT / path).read_text(), re.M)
            assert anchor in {re.sub(r"[^\w -]", "", h.strip().lower()).replace(" ", "-") for h in headings}, link
    quoted = [path for path in re.findall(r"`([\w./-]+\.(?:py|md|yaml|txt|png|sql|json|toml))`", text) if "/" in path]
    missing = [path for path in linked + quoted if not (REPO_ROOT / path).exists() and not path.startswith(".data")]
    # Paths inside the layout sections name files relative to their folder (e.g. `pivot/fx.py`).
    missing = [p for p in missing if not any((REPO_ROOT / root / p).exists() for root in ("pipeline", "benchmarks"))]
    assert not missing, missing


def _number_word(n: int) -> str:
    return ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"][n]


def _fresh_clone(root: Path) -> Path:
    """`git clone` of the repository's HEAD (what a newcomer gets), with the installed .venv linked.

    The clone's pyproject.toml is dated a second before the .venv's install stamp of the same
    content, so the clone's `make` finds the .venv installed: were it newer (a fresh checkout, or
    the same time read through a float), `make demo` would `pip install -e .` from the clone into
    the shared .venv, pointing its editable `pipeline` at a folder deleted after the test."""
    clone = root / "clone"
    subprocess.run(["git", "clone", "--quiet", str(REPO_ROOT), str(clone)], check=True, capture_output=True)
    (clone / ".venv").symlink_to(REPO_ROOT / ".venv")
    pyproject = clone / "pyproject.toml"
    stamp = REPO_ROOT / ".venv" / f".installed-{hashlib.md5(pyproject.read_bytes()).hexdigest()[:12]}"
    if not stamp.exists():
        pytest.fail(f".venv has no {stamp.name}: it was never installed from HEAD's pyproject.toml (`make install`)")
    before_stamp = stamp.stat().st_mtime_ns - 1_000_000_000
    os.utime(pyproject, ns=(before_stamp, before_stamp))
    return clone


def _editable_pipeline() -> str:
    """Where the .venv imports `pipeline` from, outside any checkout (no current-directory import)."""
    where = subprocess.run(
        [str(REPO_ROOT / ".venv" / "bin" / "python"), "-c", "import pipeline; print(pipeline.__file__)"],
        cwd="/", capture_output=True, text=True, check=True,
    )
    return where.stdout.strip()


def _clean_env(root: Path) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TERM", "USER", "TMPDIR")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    # Each test run a fresh pgserver socket dir; the machine's /tmp is shared by the agents' tests.
    env["XDG_RUNTIME_DIR"] = str(root / "run")
    return env


def _bash(script: str, cwd: Path, env: dict, timeout: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
    )


def _shape(line: str) -> str:
    """A demo line without what changes with the day: every number (figures, dates, timings) is `#`,
    runs of spaces are one (column widths follow the values), and a table row with figures is its
    column count (its symbols are the day's)."""
    if line.lstrip().startswith("│") and re.search(r"\d", line):
        return "│ " + " ┆ ".join("?" for _ in line.split("┆")) + " │"
    return " ".join(re.sub(r"\d[\d,.]*", "#", line).split())


def _check_demo_excerpt(excerpt: str, output: str) -> None:
    shapes = {_shape(line) for line in output.splitlines()}
    for line in excerpt.splitlines():
        if line.strip() and "…" not in line:
            assert _shape(line) in shapes, f"demo excerpt line not in the real run: {line!r}"


@pytest.mark.slow
def test_every_readme_command_runs_on_a_fresh_clone():
    # Not pytest's tmp_path: its parents are 0700, and the project's PostgreSQL runs as the system
    # user `pgserver` when the tests run as root, which must reach its data directory to stop it.
    tmp_path = Path(tempfile.mkdtemp(prefix="pivot-readme-"))
    tmp_path.chmod(0o755)
    clone = _fresh_clone(tmp_path)
    installed_from = _editable_pipeline()
    env = _clean_env(tmp_path) | {"PYTHONPATH": str(clone)}
    (tmp_path / "run").mkdir()
    blocks = readme_blocks((clone / "README.md").read_text())
    setup = next(b["body"] for b in blocks if b["kind"] == "setup")
    setup_line = next(b["line"] for b in blocks if b["kind"] == "setup")
    where_from = "(cd / && python -c 'import pipeline; print(pipeline.__file__)'); echo $DAGSTER_HOME"
    which = _bash(f"{setup}\n{where_from}", clone, env, 120)
    assert which.returncode == 0, which.stderr
    assert which.stdout.split() == [str(clone / "pipeline" / "__init__.py"), str(clone / ".data" / "dagster_home")]

    ran, timings, outputs = [], [], {}
    try:
        for block in blocks:
            if block["kind"] == "file":
                target = clone / block["arg"]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(block["body"] + "\n")
                continue
            if block["lang"] != "bash" or block["kind"] in ("skip", "setup"):
                continue
            body = block["arg"].split("|")[0].strip() if block["kind"] == "variant" else block["body"]
            script = body if block["line"] < setup_line else f"{setup}\n{body}"
            started = time.monotonic()
            completed = _bash(script, clone, env, 600)  # the smoke-sized `make bench`: 3 min on a busy machine
            timings.append((block["line"], round(time.monotonic() - started, 1)))
            output = completed.stdout + completed.stderr
            where = f"README line {block['line']}:\n{body}\n--- exit {completed.returncode}, output:\n{output[-4000:]}"
            assert completed.returncode == 0, where
            assert not DAGSTER_WARNINGS.search(completed.stderr), where
            for expected in re.findall(r"^# → (.+)$", body, re.M):
                assert expected.strip() in output, f"{where}\nexpected: {expected}"
            outputs[block["line"]] = completed.stdout
            ran.append(block["line"])
    finally:
        subprocess.run(
            [str(clone / ".venv" / "bin" / "python"), "-m", "pipeline.resources.local_postgres", "stop"],
            cwd=clone,
            env=env,
            capture_output=True,
            timeout=60,
        )
        print("README blocks (line, seconds):", timings)
        shutil.rmtree(tmp_path, ignore_errors=True)
    # A `make` in a clone whose pyproject.toml is newer than the .venv's stamp reinstalls the shared .venv.
    assert _editable_pipeline() == installed_from, "the .venv's editable `pipeline` moved during the run"

    demo_line = next(b["line"] for b in blocks if b["kind"] == "variant" and "make demo" in b["arg"])
    excerpt = next(b for b in blocks if "What `make demo` prints" in b["intro"] and b["lang"] == "")
    _check_demo_excerpt(excerpt["body"], outputs[demo_line])
    assert len(ran) >= 7

