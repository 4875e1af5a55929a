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

from _common import grow, logged_in, staffed_app, summary, timed

QUERIES = {
    "list, default sort": "/cases/",
    "filtered list": "/cases/?status=open&governorate=IQG07&age_min=20&age_max=35&sort=activity",
    "district + last contact": "/cases/?district=IQG07Q04&contact_from=2023-01-01",
    "name search (Arabic)": "/cases/?q=محمد+كاظم",
    "name search (Latin prefix)": "/cases/?q=Huss",
    "name search + filter": "/cases/?q=حيدر&status=open",
}


def run(backend: str, sizes: list[int], runs: int) -> None:
    app = staffed_app(backend, "case_list", caseworkers=8)
    for _size in grow(app, backend, sizes):
        for who in ("bench-sup", "bench-cw0"):
            client = logged_in(app, who)
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
