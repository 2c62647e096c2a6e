"""`python -m pipeline.web [--host H] [--port P] [--threads N]`: the pages on waitress (what `make web` runs).

Sets up the read-only role first (unless PIVOT_WEB_POSTGRES_URL names one), so a misconfigured
database fails here, with the reason, instead of on the first page.
"""

import argparse
import logging
import sys

from pipeline.resources.postgres import PostgresUnavailableError, redacted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.web", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s, local only)")
    parser.add_argument("--port", type=int, default=8000, help="default: %(default)s")
    parser.add_argument("--threads", type=int, default=8, help="request threads, and database connections kept "
                        "(default: %(default)s)")
    parser.add_argument("--cache-seconds", type=float, default=60, help="serve a rendered page again for this long "
                        "while the warehouse is unchanged; 0 = off (default: %(default)s)")
    args = parser.parse_args(argv)

    import waitress

    from pipeline.web import create_app
    from pipeline.web.database import reader_url

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        url = reader_url()
    except (PostgresUnavailableError, ValueError) as error:
        print(f"cannot start the web pages: {error}", file=sys.stderr)
        return 1
    app = create_app({"DIST_PERF_DW_URL": url, "DB_POOL_SIZE": args.threads, "PAGE_CACHE_SECONDS": args.cache_seconds})
    print(f"dist_perf_dw pages on http://{args.host}:{args.port}/ (JSON under /api/), reading as "
          f"{redacted(url)}", flush=True)
    waitress.serve(app, host=args.host, port=args.port, threads=args.threads, ident="pivot-pipeline",
                   # A page is small; a slow client must not hold a thread for long.
                   channel_timeout=30, connection_limit=200)
    return 0


if __name__ == "__main__":
    sys.exit(main())
