"""Load test of the web pages: N concurrent clients for S seconds against `python -m pipeline.web`.

    python -m benchmarks.web_load                       # a loaded month at flow_scale 1, 16 clients, 30 s
    python -m benchmarks.web_load --flow-scale 10       # the same month at 10 x the flows
    python -m benchmarks.web_load --cache-seconds 0     # every request computed (no page cache)
    python -m benchmarks.web_load --url http://127.0.0.1:8000 --clients 16 --seconds 30   # a running `make web`

Without --url it loads a month (its business days, as the assets would) into a throwaway database on
the project's local PostgreSQL, serves it with `python -m pipeline.web` (waitress, the reader role)
on a free local port, runs the load, then stops the server and drops the database.

Each client is a thread with one keep-alive connection, requesting in turn the overview of the month
and the entity pages (firms, advisors, products, wholesalers) named by the overview and the flow
list; it records each request's latency. Bounded: it stops at the deadline or after --max-requests,
and it talks to loopback addresses only.
"""

import argparse
import datetime as dt
import http.client
import ipaddress
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

PYTHON = sys.executable


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float, ok: bool) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)
            if not ok:
                self.errors[kind] = self.errors.get(kind, 0) + 1

    def summary(self) -> dict:
        def stats(values: list[float]) -> dict:
            ordered = sorted(values)
            return {
                "requests": len(ordered),
                "p50_ms": round(1000 * statistics.median(ordered), 1),
                "p95_ms": round(1000 * ordered[max(0, int(0.95 * len(ordered)) - 1)], 1),
                "max_ms": round(1000 * ordered[-1], 1),
            }

        every = [value for values in self.latencies.values() for value in values]
        return {
            "seconds": round(self.seconds, 1),
            "requests": len(every),
            "requests_per_second": round(len(every) / self.seconds, 1) if self.seconds else 0.0,
            "errors": sum(self.errors.values()),
            "all": stats(every) if every else {},
            "by_page": {kind: stats(values) for kind, values in sorted(self.latencies.items())},
        }


def _loopback_only(url: str) -> urllib.parse.SplitResult:
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    address = "127.0.0.1" if host == "localhost" else host
    if parts.scheme != "http" or not ipaddress.ip_address(address).is_loopback:
        raise SystemExit(f"{url}: the load test talks to loopback addresses only (http://127.0.0.1:PORT)")
    return parts


def _get_json(base: str, path: str) -> dict:
    parts = _loopback_only(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: HTTP {response.status}: {body[:300]!r}")
        return json.loads(body)
    finally:
        connection.close()


def page_mix(base: str, query: str) -> list[tuple[str, str]]:
    """(kind, path) of the pages the clients request: the overview, and the firms, products and wholesalers
    the overview names, and advisors of the flow list."""
    overview = _get_json(base, f"/api/?{query}")
    flows = _get_json(base, f"/api/flows/list?{query}&limit=200")["flows"]
    advisors = list(dict.fromkeys(flow["advisor"]["crd_number"] for flow in flows))[:10]
    pages = [("overview", f"/?{query}")]
    pages += [("firm", f"/firms/{row['key']}?{query}") for row in overview["top_firms"]]
    pages += [("product", f"/products/{row['key']}?{query}") for row in overview["top_products"]]
    pages += [("wholesaler", f"/wholesalers/{row['key']}?{query}") for row in overview["top_wholesalers"]]
    pages += [("advisor", f"/advisors/{crd}?{query}") for crd in advisors]
    # The overview as often as all entity pages together: it is the heaviest page and the landing page.
    entity_pages = len(pages) - 1
    return pages + [("overview", f"/?{query}")] * (entity_pages - 1)


def run_load(base: str, pages: list[tuple[str, str]], clients: int, seconds: float, max_requests: int) -> Results:
    parts = _loopback_only(base)
    results = Results()
    deadline = time.perf_counter() + seconds
    issued = iter(range(max_requests))
    issued_lock = threading.Lock()

    def client(offset: int) -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        index = offset
        try:
            while time.perf_counter() < deadline:
                with issued_lock:
                    if next(issued, None) is None:
                        return
                kind, path = pages[index % len(pages)]
                index += 1
                started = time.perf_counter()
                try:
                    connection.request("GET", path)
                    response = connection.getresponse()
                    response.read()
                    ok = response.status == 200
                except (OSError, http.client.HTTPException):
                    ok = False
                    connection.close()
                    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                results.add(kind, time.perf_counter() - started, ok)
        finally:
            connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i * 7,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 60)
    results.seconds = time.perf_counter() - started
    return results


def base_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(base: str, process: subprocess.Popen | None = None, timeout: float = 60) -> None:
    parts = _loopback_only(base)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the web server exited with {process.returncode}")
        try:
            socket.create_connection((parts.hostname, parts.port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{base} did not answer within {timeout} s")


def serve(env: dict, port: int, threads: int, cache_seconds: float, log_path: str) -> subprocess.Popen:
    """The server, its output to a file (a pipe nobody reads would fill and stall it under load)."""
    with open(log_path, "w") as log:
        return subprocess.Popen(
            [PYTHON, "-m", "pipeline.web", "--host", "127.0.0.1", "--port", str(port), "--threads", str(threads),
             "--cache-seconds", str(cache_seconds)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.web_load", description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a running server (loopback only); default: load a month and serve it")
    parser.add_argument("--month", default="2025-03", help="the month to load and request (default: %(default)s)")
    parser.add_argument("--flow-scale", type=float, default=1.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--max-requests", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=8, help="the server's threads (default: %(default)s)")
    parser.add_argument("--cache-seconds", type=float, default=60,
                        help="the server's page cache (default: %(default)s, as `make web`; 0 = off)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)

    first = dt.date.fromisoformat(args.month + "-01")
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    query = f"from={first}&to={last}"
    server = database = None
    loaded: dict = {}
    if args.url:
        base = args.url.rstrip("/")
        _loopback_only(base)
    else:
        from benchmarks.web_data import business_days, load_dist_perf_dw
        from pipeline.resources.local_postgres import create_database_if_missing, drop_database, start
        from pipeline.resources.postgres import PostgresResource, dispose_engines

        admin = start()
        database = f"web_load_{os.getpid()}"
        create_database_if_missing(admin, database)
        url = admin.set(database=database)
        began = time.perf_counter()
        loaded = load_dist_perf_dw(PostgresResource(url=url.render_as_string(hide_password=False)),
                                   business_days(first, last), flow_scale=args.flow_scale)
        dispose_engines()
        print(f"loaded {args.month} at flow_scale {args.flow_scale}: {loaded['fact_aum_flows']:,} flows, "
              f"{loaded['fact_revenue']:,} revenue rows in {time.perf_counter() - began:.0f} s", flush=True)
        port = _free_port()
        env = dict(os.environ, PIVOT_POSTGRES_URL=url.render_as_string(hide_password=False))
        env.pop("PIVOT_WEB_POSTGRES_URL", None)
        log_path = f"/tmp/web_load_{os.getpid()}_server.log"
        server = serve(env, port, args.threads, args.cache_seconds, log_path)
        print(f"server on {base_url(port)}, its log in {log_path}", flush=True)
        base = base_url(port)
    try:
        wait_for(base, server)
        pages = page_mix(base, query)
        run_load(base, pages[:3], 2, 2.0, 200)  # warm-up: connections, caches
        results = run_load(base, pages, args.clients, args.seconds, args.max_requests)
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        if database is not None:
            drop_database(admin, database)
    summary = results.summary() | {
        "clients": args.clients, "server_threads": args.threads, "month": args.month,
        "page_cache_seconds": None if args.url else args.cache_seconds,
        "flow_scale": args.flow_scale, "flows_loaded": loaded.get("fact_aum_flows"),
    }
    print(json.dumps(summary, indent=2))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(summary, out, indent=2)
    return 0 if summary["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
