"""A small in-process cache of rendered pages, invalidated by the warehouse's own write counters.

dist_perf_dw changes when a load runs (daily), and a page is the same for every reader until then,
so a page is kept for (its URL, HTML or JSON, the warehouse's data version) and served again without
its aggregate queries. The data version is the sum of PostgreSQL's insert/update/delete counters of
the schema's tables (`pg_stat_user_tables`, readable by the reader role): one catalog read per request.
The server publishes a transaction's counts within a second of its commit, or within ~10 s when the
writer's connection stays idle afterwards, so a page can trail a load by that long; entries also expire
after PAGE_CACHE_SECONDS (default 60) whatever the counters say. PAGE_CACHE_SECONDS = 0 turns it off.
"""

import threading
import time
from collections import OrderedDict
from functools import wraps

import sqlalchemy as sa
from flask import current_app, make_response, request

from pipeline.dist_perf_dw.models import SCHEMA
from pipeline.web.database import get_session

MAX_BODY_BYTES = 2 * 1024 * 1024
# What all kept pages may hold together: a stream of distinct URLs cannot grow the server's memory past it.
MAX_TOTAL_BYTES = 64 * 1024 * 1024
DATA_VERSION = sa.text(
    "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::text || '/' || count(*)::text "
    "FROM pg_stat_user_tables WHERE schemaname = :schema"
).bindparams(schema=SCHEMA)


class PageCache:
    def __init__(self, seconds: float, entries: int, max_bytes: int = MAX_TOTAL_BYTES):
        self.seconds, self.entries, self.max_bytes = seconds, entries, max_bytes
        self._pages: OrderedDict = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key):
        with self._lock:
            found = self._pages.get(key)
            if found is None or found[0] < time.monotonic():
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return found[1]

    def put(self, key, page) -> None:
        """`page` is (body, status, content type); the oldest pages go first past `entries` or `max_bytes`."""
        with self._lock:
            if key in self._pages:
                self._bytes -= len(self._pages.pop(key)[1][0])
            self._pages[key] = (time.monotonic() + self.seconds, page)
            self._bytes += len(page[0])
            while self._pages and (len(self._pages) > self.entries or self._bytes > self.max_bytes):
                self._bytes -= len(self._pages.popitem(last=False)[1][1][0])


def cached(view):
    """Serve a 200 page from the cache while the warehouse's data version is unchanged."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        cache: PageCache | None = current_app.extensions.get("page_cache")
        if cache is None or cache.seconds <= 0:
            return view(*args, **kwargs)
        from pipeline.web.dist_perf_dw import wants_json

        try:
            version = get_session().execute(DATA_VERSION).scalar_one()
        except sa.exc.DBAPIError:
            # The view answers: 400 for its parameters before it asks the database, else 503.
            get_session().rollback()
            return view(*args, **kwargs)
        key = (request.full_path, wants_json(), version)
        page = cache.get(key)
        if page is not None:
            body, status, content_type = page
            response = make_response(body, status)
            response.content_type = content_type
            response.headers["X-Page-Cache"] = "hit"
            return response
        response = make_response(view(*args, **kwargs))
        if response.status_code == 200 and not response.direct_passthrough:
            body = response.get_data()
            if len(body) <= MAX_BODY_BYTES:
                cache.put(key, (body, response.status_code, response.content_type))
        response.headers["X-Page-Cache"] = "miss"
        return response

    return wrapper
