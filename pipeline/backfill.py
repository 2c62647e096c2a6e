"""Launch an asset backfill on the running webserver and follow it to the end.

    python -m pipeline.backfill --from 2024-01-01 --to 2024-01-31 --select 'pivot/*,dist_perf_dw/*' \
        [--url http://127.0.0.1:3000] [--config-json '{"ops": {...}}'] [--timeout 3600]

Unlike `dagster job backfill` (one run per partition), this goes through
Dagster's asset backfill (GraphQL `launchPartitionBackfill`), which respects
each asset's backfill policy: the single-run facts get one run for the whole
range, assets run after their upstreams, monthly assets get the months that
overlap the range, unpartitioned ones one materialization. The daemon (started
by `make ui`) executes it; this command prints progress per asset until the
backfill ends and exits non-zero if any partition failed.

`--select` takes comma-separated asset keys (`pivot/trades_1d`), glob patterns
(`pivot/*`, `dist_perf_dw/fact_*`) or `*` for every asset.
"""

import argparse
import fnmatch
import json
import sys
import time
import urllib.error
import urllib.request
from datetime import date

import dagster as dg

LAUNCH = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on UnauthorizedError { message }
    ... on PartitionSetNotFoundError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""

STATUS = """
query Status($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill {
      status
      error { message }
      assetBackfillData {
        assetBackfillStatuses {
          __typename
          ... on AssetPartitionsStatusCounts {
            assetKey { path } numPartitionsTargeted numPartitionsInProgress
            numPartitionsMaterialized numPartitionsFailed
          }
          ... on UnpartitionedAssetStatus { assetKey { path } inProgress materialized failed }
        }
      }
    }
    ... on PythonError { message }
    ... on BackfillNotFoundError { message }
  }
}
"""

DONE = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
SUCCESS = {"COMPLETED", "COMPLETED_SUCCESS"}


class BackfillError(RuntimeError):
    """The backfill could not be launched, or it ended with failures."""


def graphql(url: str, query: str, variables: dict, timeout: float = 60) -> dict:
    request = urllib.request.Request(
        url.rstrip("/") + "/graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise BackfillError(f"the Dagster webserver at {url} answered {error.code}: {error.read()[:2000]!r}") from None
    except urllib.error.URLError as error:
        raise BackfillError(
            f"cannot reach the Dagster webserver at {url}: {error.reason}. Is `make ui` running?"
        ) from None
    if payload.get("errors"):
        raise BackfillError("GraphQL error: " + "; ".join(e.get("message", "") for e in payload["errors"]))
    return payload["data"]


def select_assets(defs: dg.Definitions, patterns: list[str]) -> list[dg.AssetSpec]:
    specs = list(defs.resolve_all_asset_specs())
    chosen = [s for s in specs if any(fnmatch.fnmatchcase(s.key.to_user_string(), p.strip()) for p in patterns)]
    unmatched = [p for p in patterns if not any(fnmatch.fnmatchcase(s.key.to_user_string(), p.strip()) for s in specs)]
    if unmatched:
        raise BackfillError(
            f"--select {unmatched} matches no asset; known assets: "
            + ", ".join(sorted(s.key.to_user_string() for s in specs))
        )
    return chosen


def partitions_by_assets(specs: list[dg.AssetSpec], start: date, end: date) -> list[dict]:
    """One selector per asset: the partition keys whose time window overlaps [start, end]."""
    selectors = []
    for spec in specs:
        selector = {"assetKey": {"path": list(spec.key.path)}}
        pdef = spec.partitions_def
        if pdef is not None:
            keys = [
                key
                for key in pdef.get_partition_keys()
                if _overlaps(pdef.time_window_for_partition_key(key), start, end)
            ]
            if not keys:
                raise BackfillError(f"{spec.key.to_user_string()} has no partition between {start} and {end}")
            selector["partitions"] = {"range": {"start": keys[0], "end": keys[-1]}}
        selectors.append(selector)
    return selectors


def _overlaps(window, start: date, end: date) -> bool:
    return window.start.date() <= end and window.end.date() > start


def launch(url: str, selectors: list[dict], run_config: dict | None, title: str) -> str:
    params = {
        "partitionsByAssets": selectors,
        "title": title,
        "tags": [{"key": "pivot/launched_by", "value": "pipeline.backfill"}],
    }
    if run_config:
        params["runConfigData"] = run_config
    result = graphql(url, LAUNCH, {"params": params})["launchPartitionBackfill"]
    if result["__typename"] != "LaunchBackfillSuccess":
        detail = result.get("message") or "; ".join(e["message"] for e in result.get("errors", []))
        raise BackfillError(f"backfill not launched ({result['__typename']}): {detail}")
    return result["backfillId"]


def status(url: str, backfill_id: str) -> dict:
    result = graphql(url, STATUS, {"id": backfill_id})["partitionBackfillOrError"]
    if result["__typename"] != "PartitionBackfill":
        raise BackfillError(f"backfill {backfill_id}: {result.get('message')}")
    return result


def progress_lines(state: dict) -> list[str]:
    lines = []
    for asset in state["assetBackfillData"]["assetBackfillStatuses"]:
        key = "/".join(asset["assetKey"]["path"])
        if asset["__typename"] == "AssetPartitionsStatusCounts":
            done, total = asset["numPartitionsMaterialized"], asset["numPartitionsTargeted"]
            bar = "#" * round(20 * done / total) if total else ""
            lines.append(
                f"  {key:<40} [{bar:<20}] {done:>4}/{total:<4} running {asset['numPartitionsInProgress']}"
                f" failed {asset['numPartitionsFailed']}"
            )
        else:
            state_word = (
                "failed"
                if asset["failed"]
                else "done"
                if asset["materialized"]
                else "running"
                if asset["inProgress"]
                else "waiting"
            )
            lines.append(f"  {key:<40} {state_word}")
    return lines


def follow(url: str, backfill_id: str, timeout: float, poll: float = 2.0, out=sys.stdout) -> dict:
    """Print progress whenever it changes; return the final state."""
    deadline, last = time.monotonic() + timeout, None
    while True:
        state = status(url, backfill_id)
        lines = [f"backfill {backfill_id}: {state['status']}"] + progress_lines(state)
        if lines != last:
            print(time.strftime("%H:%M:%S"), "\n".join(lines), file=out, flush=True)
            last = lines
        if state["status"] in DONE:
            return state
        if time.monotonic() > deadline:
            raise BackfillError(f"backfill {backfill_id} still {state['status']} after {timeout:.0f}s")
        time.sleep(poll)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.backfill", description=__doc__.split("\n")[0])
    parser.add_argument("--from", dest="start", required=True, type=date.fromisoformat, help="first date, YYYY-MM-DD")
    parser.add_argument("--to", dest="end", required=True, type=date.fromisoformat, help="last date, inclusive")
    parser.add_argument("--select", required=True, help="asset keys or globs, comma-separated ('*' = all)")
    parser.add_argument("--url", default="http://127.0.0.1:3000", help="Dagster webserver (default: %(default)s)")
    parser.add_argument("--config-json", default="", help="run config applied to every run of the backfill")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the end")
    args = parser.parse_args(argv)
    if args.end < args.start:
        parser.error("--to is before --from")

    from pipeline.definitions import defs

    try:
        specs = select_assets(defs, args.select.split(","))
        selectors = partitions_by_assets(specs, args.start, args.end)
        backfill_id = launch(
            args.url,
            selectors,
            json.loads(args.config_json) if args.config_json else None,
            f"pipeline.backfill {args.start}..{args.end}",
        )
        print(
            f"launched backfill {backfill_id} of {len(specs)} assets, {args.start}..{args.end}: "
            f"{args.url.rstrip('/')}/overview/backfills/{backfill_id}",
            flush=True,
        )
        state = follow(args.url, backfill_id, args.timeout)
    except BackfillError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if state["status"] not in SUCCESS or any(
        a.get("numPartitionsFailed") or a.get("failed") for a in state["assetBackfillData"]["assetBackfillStatuses"]
    ):
        print(f"backfill {backfill_id} ended {state['status']} with failures", file=sys.stderr)
        return 1
    print(f"backfill {backfill_id} completed: every targeted partition materialized", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
