"""Case list speed: median and p95 server time of the filtered list and of a name search.

Seeds 10,000 then 100,000 synthetic cases on SQLite and PostgreSQL and requests the case list
through the full Flask stack (routing, login, query, template) with the test client, so the
figure is server time without the network. Goal: p95 <= 50 ms at 100,000 cases. Like app.py,
it freezes start-up objects out of the garbage collector's full passes once warmed up.

    .venv/bin/python bench/case_list.py [--sizes 10000,100000] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import gc
import time

from _common import analyse, bench_app, summary, timed

from cases.auth.models import Role
from cases.auth.services import create_user
from cases.demo.seed import seed_cases

PASSWORD = "bench passphrase 1234"
QUERIES = {
    "list, default sort": "/cases/",
    "filtered list": "/cases/?status=open&governorate=IQG07&age_min=20&age_max=35&sort=activity",
    "district + last contact": "/cases/?district=IQG07Q04&contact_from=2023-01-01",
    "name search (Arabic)": "/cases/?q=محمد+كاظم",
    "name search (Latin prefix)": "/cases/?q=Huss",
    "name search + filter": "/cases/?q=حيدر&status=open",
}


def run(backend: str, sizes: list[int], runs: int) -> None:
    app = bench_app(backend, "case_list")
    with app.app_context():
        create_user("bench-sup", Role.SUPERVISOR, PASSWORD)
        for i in range(8):
            create_user(f"bench-cw{i}", Role.CASEWORKER, PASSWORD)
    seeded = 0
    for size in sizes:
        start = time.perf_counter()
        with app.app_context():
            seed_cases(size - seeded, seed=size)
        seeded = size
        analyse(app)
        print(f"\n[{backend}] {size:,} cases (seeded in {time.perf_counter() - start:.0f} s)")
        for who in ("bench-sup", "bench-cw0"):
            client = app.test_client()
            client.post("/language", data={"lang": "en"})
            client.post("/login", data={"username": who, "password": PASSWORD})
            role = "supervisor (all cases)" if who == "bench-sup" else "caseworker (own cases)"
            print(f"  as {role}")
            for url in QUERIES.values():  # warm the worker, as a served app would be
                client.get(url)
            gc.freeze()  # as app.py does after start-up
            for label, url in QUERIES.items():

                def get(url: str = url, client=client) -> None:  # noqa: ANN001
                    response = client.get(url)
                    assert response.status_code == 200, response.status_code

                print(f"    {label:<28} {summary(timed(get, runs))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    for backend in args.backends.split(","):
        run(backend, sizes, args.runs)


if __name__ == "__main__":
    main()
