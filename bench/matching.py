"""Matching: quality on the labelled evaluation set, and speed against a large case base.

    .venv/bin/python bench/matching.py [--only quality|latency]
        [--sizes 100000,1000000] [--backends sqlite,postgresql] [--inquiries 300]

quality: precision and recall of the "strong" and "strong or possible" bands on
cases/matching/data/evaluation.csv (bench/make_evaluation_set.py), what each category of pairs
gets, the threshold sweep the bands were chosen from, and the memory of the name weights.
Goal (issue 6): recall >= 0.95 at precision >= 0.90 for "strong or possible"; the script exits
non-zero when it is missed.

latency: candidate generation and scoring for one inquiry at 100,000 and 1,000,000 cases on
SQLite and PostgreSQL (p50/p95, goal <= 100 ms p95), and the memory a worker needs.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import subprocess
import sys
import time
import tracemalloc
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import drop_bench_app, grow, p, staffed_app, summary  # noqa: E402
from sqlalchemy import func, or_, select  # noqa: E402

from cases.demo import names  # noqa: E402
from cases.extensions import db  # noqa: E402
from cases.matching import evaluation  # noqa: E402
from cases.matching.scoring import POSSIBLE, STRONG  # noqa: E402
from cases.matching.weights import PARTS, STORE_DIVISOR, NameWeights  # noqa: E402


def _figures_line(name: str, figures: evaluation.Figures) -> str:
    return (
        f"  {name:<20} threshold {figures.threshold:>3}   precision {figures.precision:.3f}   "
        f"recall {figures.recall:.3f}   (found {figures.true_positives}, "
        f"wrongly {figures.false_positives}, missed {figures.false_negatives})"
    )


def _weights_memory(weights: NameWeights) -> tuple[int, int]:
    """Bytes held by ``weights`` as built, and by the largest table a case base can give."""

    def measured(build) -> int:  # noqa: ANN001
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        built = build()
        size = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        del built
        return size

    def copy() -> NameWeights:
        return NameWeights(
            # New objects, so the copy is measured in full rather than sharing the original's.
            counts={
                p: {s.encode().decode(): int(str(n)) for s, n in c.items()}
                for p, c in weights.counts.items()
            },
            totals=dict(weights.totals),
        )

    def worst() -> NameWeights:
        # Every part at the cap: STORE_DIVISOR skeletons of realistic length (8 letters).
        return NameWeights(
            counts={p: {f"{p[:2]}{i:06d}": 1000 + i for i in range(STORE_DIVISOR)} for p in PARTS},
            totals=dict.fromkeys(PARTS, STORE_DIVISOR * 1000),
        )

    return measured(copy), measured(worst)


def quality() -> bool:
    pairs = evaluation.load_pairs()
    scored = evaluation.score_pairs(pairs)
    labels = Counter("same" if p.same else "different" for p in pairs)
    print(
        f"Evaluation set: {len(pairs)} pairs ({labels['same']} same person, "
        f"{labels['different']} different), {evaluation.EVALUATION_SET.name}"
    )
    print("Name weights learned from the set's own records, as the app learns them from cases.")

    print("\nBands")
    strong = evaluation.strong(scored)
    either = evaluation.strong_or_possible(scored)
    print(_figures_line("strong", strong))
    print(_figures_line("strong or possible", either))
    goal = f"recall >= {evaluation.GOAL_RECALL} at precision >= {evaluation.GOAL_PRECISION}"
    print(f"  goal for strong or possible: {goal}: {'met' if either.meets_goal else 'MISSED'}")

    print("\nBy category (pairs landing in each band)")
    print(f"  {'category':<36} {'label':<9} {'pairs':>5} {'strong':>7} {'possible':>9} {'none':>6}")
    by_category: dict[tuple[str, str], list[int]] = defaultdict(list)
    for s in scored:
        label = "same" if s.pair.same else "different"
        by_category[(s.pair.category, label)].append(s.result.score)
    for (category, label), scores in sorted(by_category.items(), key=lambda i: (i[0][1], i[0][0])):
        n_strong = sum(v >= STRONG for v in scores)
        n_possible = sum(POSSIBLE <= v < STRONG for v in scores)
        print(
            f"  {category:<36} {label:<9} {len(scores):>5} {n_strong:>7} {n_possible:>9} "
            f"{len(scores) - n_strong - n_possible:>6}"
        )

    print("\nThreshold sweep (a pair counts as found when its score reaches the threshold)")
    print(f"  {'threshold':>9} {'precision':>10} {'recall':>8}   goal")
    for threshold in range(30, 96, 3):
        f = evaluation.figures(scored, threshold)
        marks = " <- POSSIBLE" if threshold == POSSIBLE else ""
        marks += " <- STRONG" if threshold == STRONG else ""
        met = "met" if f.meets_goal else ""
        print(f"  {threshold:>9} {f.precision:>10.3f} {f.recall:>8.3f}   {met:<4}{marks}")

    weights = evaluation.case_base_weights(r for p in pairs for r in (p.a, p.b))
    held, worst = _weights_memory(weights)
    print("\nName weights in memory (per worker process)")
    print(f"  this set: {weights.entries} skeletons kept, {held / 1024:.0f} KiB")
    print(
        f"  any case base: at most {STORE_DIVISOR} skeletons per part x {len(PARTS)} parts, "
        f"{worst / 1024:.0f} KiB"
    )
    return either.meets_goal


# --- latency: candidates and scoring for one inquiry against a large case base ---------------

# How families write about a seeded man; each kind is an equal share of the inquiries.
QUERY_KINDS = ("arabic, casual", "latin", "cyrillic", "part missing", "part misspelt", "no case")
LATENCY_GOAL_MS = 100.0
_CASUAL = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ة": "ه", "ى": "ي"})
_LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"


def _latin(rng: random.Random, part: str | None) -> str | None:
    return rng.choice(names.latin_spellings(part)) if part else None


def _cyrillic(rng: random.Random, part: str | None) -> str | None:
    # Only the commonest names have a Cyrillic form in the demo data; others stay Latin.
    return names.CYRILLIC.get(part) or _latin(rng, part) if part else None


def _misspelt(rng: random.Random, part: str) -> str:
    """One letter replaced by another: a slip of the finger, or a name misheard."""
    i = rng.randrange(len(part))
    return part[:i] + rng.choice(_LETTERS) + part[i + 1 :]


def _inquiry_about(rng: random.Random, case, kind: str):  # noqa: ANN001, ANN202
    """An inquiry (not saved) as a family would write it about ``case``, in the style ``kind``;
    for "no case", about a man nobody registered, with names as common as anyone's."""
    from cases.inquiries.models import Inquiry

    parts = {
        "given_name": case.given_name,
        "father_name": case.father_name,
        "grandfather_name": case.grandfather_name,
        "laqab": case.laqab,
    }
    mother = case.mother_name
    if kind == "arabic, casual":
        parts = {k: v.translate(_CASUAL) if v else v for k, v in parts.items()}
    elif kind == "latin":
        parts = {k: _latin(rng, v) for k, v in parts.items() if k != "laqab"}
    elif kind == "cyrillic":
        parts = {k: _cyrillic(rng, v) for k, v in parts.items() if k != "laqab"}
    elif kind == "part missing":
        parts[rng.choice(("father_name", "grandfather_name"))] = None
        if mother and rng.random() < 0.5:
            mother = mother.split()[0]
    elif kind == "part misspelt":
        key = rng.choice(("given_name", "father_name", "grandfather_name"))
        parts[key] = _misspelt(rng, parts[key]) if parts[key] else None
    else:
        parts = {
            "given_name": rng.choice(names.YOUNG_MEN)[0],
            "father_name": rng.choice(names.ELDER_MEN)[0],
            "grandfather_name": rng.choice(names.ELDER_MEN)[0],
        }
        mother = f"{rng.choice(names.MOTHERS)[0]} {rng.choice(names.ELDER_MEN)[0]}"
    year = case.birth_year_key
    return Inquiry(
        created_at=datetime(2026, 10, 1),
        given_name=parts.get("given_name") or case.given_name,
        father_name=parts.get("father_name"),
        grandfather_name=parts.get("grandfather_name"),
        laqab=parts.get("laqab"),
        mother_name=mother,
        age=2026 - year if year and rng.random() < 0.5 else None,
        birth_year=year if year and rng.random() < 0.3 else None,
        governorate_pcode=case.governorate_pcode,
        district_pcode=case.district_pcode if rng.random() < 0.7 else None,
    )


def _inquiries(rng: random.Random, size: int, count: int) -> list:
    """``count`` (case id or None, inquiry) about seeded cases picked at random."""
    from cases.casework.models import Case, ClosureReason

    # A case closed as a duplicate is never suggested (its twin is): ask about the others.
    sample = rng.sample(range(1, size + 1), count * 2)
    cases = {
        c.id: c
        for c in db.session.scalars(
            select(Case).where(
                Case.id.in_(sample),
                or_(Case.closure_reason.is_(None), Case.closure_reason != ClosureReason.DUPLICATE),
            )
        )
    }
    chosen = [i for i in sample if i in cases][:count]
    made = []
    for n, case_id in enumerate(chosen):
        kind = QUERY_KINDS[n % len(QUERY_KINDS)]
        inquiry = _inquiry_about(rng, cases[case_id], kind)
        made.append((None if kind == "no case" else case_id, kind, inquiry))
    return made


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _latency_at(size: int, count: int) -> float:
    """Print the figures at one size; return the p95 of find_matches in ms."""
    from cases.auth.models import User
    from cases.matching import weights as name_weights
    from cases.matching.candidates import candidate_case_ids, find_matches
    from cases.matching.records import PersonRecord

    actor = db.session.scalar(select(User).filter_by(username="bench-sup"))
    inquiries = _inquiries(random.Random(size), size, count)
    records = [(case_id, kind, PersonRecord.from_inquiry(q)) for case_id, kind, q in inquiries]
    name_weights.forget()
    start = time.perf_counter()
    weights = name_weights.current_weights()
    learnt_ms = (time.perf_counter() - start) * 1000
    for _, _, record in records[:10]:  # warm the worker, as a served app would be
        find_matches(actor, record)
    db.session.expunge_all()
    gc.freeze()  # as app.py does after start-up
    blocking, matching = [], []
    found: Counter = Counter()
    asked: Counter = Counter()
    for case_id, kind, record in records:
        start = time.perf_counter()
        candidate_case_ids(record)
        blocking.append((time.perf_counter() - start) * 1000)
        db.session.expunge_all()  # every request starts with an empty session
        start = time.perf_counter()
        matches = find_matches(actor, record)
        matching.append((time.perf_counter() - start) * 1000)
        db.session.expunge_all()
        if case_id is not None:
            asked[kind] += 1
            found[kind] += any(m.case.id == case_id for m in matches)
    gc.unfreeze()
    print(f"  candidates only (SQL)        {summary(blocking)}")
    print(f"  find_matches (SQL + scoring) {summary(matching)}   {len(records)} inquiries")
    suggested = ", ".join(f"{kind} {found[kind]}/{asked[kind]}" for kind in asked)
    print(f"  the man among the matches    {suggested}")
    held, _ = _weights_memory(weights)
    started, served = _worker_memory()
    print(
        f"  worker memory                RSS {started:.0f} MB after start-up, {served:.0f} MB "
        f"after 50 inquiries; name weights {weights.entries} skeletons, {held / 1024:.0f} KiB, "
        f"counted in {learnt_ms:.0f} ms"
    )
    return p(matching, 0.95)


def _worker_memory() -> tuple[float, float]:
    """RSS (MB) of a fresh process on the current database, as a worker: after start-up, and
    after matching 50 inquiries (name weights counted, queries and scoring warmed)."""
    from flask import current_app

    config = {
        "SQLALCHEMY_DATABASE_URI": current_app.config["SQLALCHEMY_DATABASE_URI"],
        "SQLALCHEMY_ENGINE_OPTIONS": current_app.config["SQLALCHEMY_ENGINE_OPTIONS"],
        "MATCH_WEIGHTS_SECONDS": 3600,
    }
    command = [sys.executable, __file__, "--worker-memory", json.dumps(config)]
    out = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603
    started, served = out.stdout.split()[-2:]
    return float(started), float(served)


def _worker(config: str) -> None:
    """The child of _worker_memory: print its RSS after start-up and after matching."""
    from cases import create_app
    from cases.auth.models import User
    from cases.casework.models import Case
    from cases.matching.candidates import find_matches
    from cases.matching.records import PersonRecord

    app = create_app(json.loads(config))
    with app.app_context():
        started = _rss_mb()
        actor = db.session.scalar(select(User).filter_by(username="bench-sup"))
        size = db.session.scalar(select(func.max(Case.id)))
        for _, _, inquiry in _inquiries(random.Random(1), size, 50):
            find_matches(actor, PersonRecord.from_inquiry(inquiry))
            db.session.expunge_all()
        print(f"{started:.1f} {_rss_mb():.1f}")


def latency(backends: list[str], sizes: list[int], count: int) -> bool:
    """p50/p95 of candidates + scoring for one inquiry, per database and size."""
    print(
        f"\nLatency: find_matches for one inquiry (candidates, then scoring), server time; "
        f"goal p95 <= {LATENCY_GOAL_MS:.0f} ms"
    )
    worst = 0.0
    for backend in backends:
        app = staffed_app(backend, "matching", caseworkers=8)
        # As in production: the weights are counted once per worker, then hourly.
        app.config["MATCH_WEIGHTS_SECONDS"] = 3600
        try:
            for size in grow(app, backend, sizes):
                with app.app_context():
                    worst = max(worst, _latency_at(size, count))
        finally:
            drop_bench_app(app, backend, "matching")
    return worst <= LATENCY_GOAL_MS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("quality", "latency"))
    parser.add_argument("--sizes", default="100000,1000000", help="latency: case base sizes")
    parser.add_argument("--backends", default="sqlite,postgresql", help="latency: databases")
    parser.add_argument("--inquiries", type=int, default=300, help="latency: per size")
    parser.add_argument("--worker-memory", help=argparse.SUPPRESS)  # see _worker_memory
    args = parser.parse_args()
    if args.worker_memory:
        _worker(args.worker_memory)
        return
    ok = True
    if args.only in (None, "quality"):
        ok = quality() and ok
    if args.only in (None, "latency"):
        sizes = [int(s) for s in args.sizes.split(",")]
        ok = latency(args.backends.split(","), sizes, args.inquiries) and ok
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
