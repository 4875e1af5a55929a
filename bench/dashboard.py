"""Dashboard speed at 100,000 and 1,000,000 cases on SQLite and PostgreSQL.

Prints, per database and size:
- "figures, uncached": the time to compute every figure from the database (what the first
  request after the cache expires pays; DASHBOARD_CACHE_SECONDS, 5 minutes by default);
- "page, cached": the dashboard page through the full Flask stack while the figures are cached,
  which is what supervisors get between refreshes.
Goal: p95 <= 300 ms at 1,000,000 cases.

    .venv/bin/python bench/dashboard.py [--sizes 100000,1000000] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import gc

from _common import grow, logged_in, staffed_app, summary, timed

from cases.extensions import cache
from cases.oversight import stats


def run(backend: str, sizes: list[int], runs: int) -> None:
    app = staffed_app(backend, "dashboard", caseworkers=20)
    app.config["DASHBOARD_CACHE_SECONDS"] = 300
    for _size in grow(app, backend, sizes):
        with app.app_context():
            uncached = timed(lambda: stats.compute(stale_days=30), max(3, runs // 8), warmup=1)
        print(f"  figures, uncached        {summary(uncached)}")
        client = logged_in(app, "bench-sup")
        with app.app_context():
            cache.clear()
        client.get("/oversight/")  # fills the cache, as the first visitor would
        gc.freeze()  # as app.py does after start-up

        def page(client=client) -> None:  # noqa: ANN001
            response = client.get("/oversight/")
            assert response.status_code == 200, response.status_code

        print(f"  page, cached             {summary(timed(page, runs))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    for backend in args.backends.split(","):
        run(backend, [int(s) for s in args.sizes.split(",")], args.runs)


if __name__ == "__main__":
    main()
