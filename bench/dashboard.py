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
import time

from _common import analyse, bench_app, summary, timed

from cases.auth.models import Role
from cases.auth.services import create_user
from cases.demo.seed import seed_cases
from cases.extensions import cache
from cases.oversight import stats

PASSWORD = "bench passphrase 1234"


def run(backend: str, sizes: list[int], runs: int) -> None:
    app = bench_app(backend, "dashboard")
    app.config["DASHBOARD_CACHE_SECONDS"] = 300
    with app.app_context():
        create_user("bench-sup", Role.SUPERVISOR, PASSWORD)
        for i in range(20):
            create_user(f"bench-cw{i}", Role.CASEWORKER, PASSWORD)
    seeded = 0
    for size in sizes:
        start = time.perf_counter()
        with app.app_context():
            seed_cases(size - seeded, seed=size)
        seeded = size
        analyse(app)
        print(f"\n[{backend}] {size:,} cases (seeded in {time.perf_counter() - start:.0f} s)")
        with app.app_context():
            uncached = timed(lambda: stats.compute(stale_days=30), max(3, runs // 8), warmup=1)
        print(f"  figures, uncached        {summary(uncached)}")
        client = app.test_client()
        client.post("/language", data={"lang": "en"})
        client.post("/login", data={"username": "bench-sup", "password": PASSWORD})
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
