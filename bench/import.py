"""Spreadsheet import speed: 100,000 rows checked and imported, per file format and backend.

Generates N realistic rows (Arabic quadruple names with laqab, mother's name, Latin spelling,
sex, date of birth, governorate and district in Arabic or English, Iraqi mobiles, travel
details, a passport number and a family contact) as XLSX and CSV in a temporary folder, then
for each backend and format, on a fresh database: upload (read and encrypt), dry run (parse,
check, duplicate search, and the checked rows kept encrypted) and import (the kept rows
unpacked, duplicates looked for again in the database, then written). Goal: the import, what
the supervisor waits for after clicking "Import", within 60 s. Wall and CPU seconds (of this
process: PostgreSQL's own work is not in it) are printed, as the machine may be busy.

    .venv/bin/python bench/import.py [--rows 100000] [--backends sqlite,postgresql]
                                     [--formats csv,xlsx]
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import tempfile
import time
from pathlib import Path

from _common import drop_bench_app, staffed_app

from cases import places
from cases.auth.models import User
from cases.demo import names
from cases.extensions import db

GOAL_SECONDS = 60
HEADER = [
    "الاسم الرباعي", "اسم الأم", "الاسم بالانكليزي", "الجنس", "تاريخ الولادة", "المحافظة",
    "القضاء", "رقم الهاتف", "تاريخ السفر", "البلد", "شركة السفر", "آخر اتصال", "ملاحظات",
    "رقم الجواز", "اسم المبلغ", "صلة القرابة", "هاتف المبلغ",
]  # fmt: skip


def generate(count: int, seed: int = 7) -> list[list]:
    rng = random.Random(seed)
    young = [n for n, _ in names.YOUNG_MEN]
    elder = [n for n, _ in names.ELDER_MEN]
    laqabs = [n for n, _ in names.LAQABS]
    mothers = [n for n, _ in names.MOTHERS]
    districts = places.districts()
    rows = []
    for _ in range(count):
        given, father, grand = rng.choice(young), rng.choice(elder), rng.choice(elder)
        district = rng.choice(districts)
        full = [given, father, grand] + ([rng.choice(elder)] if rng.random() < 0.5 else [])
        if rng.random() < 0.75:
            full.append(rng.choice(laqabs))
        latin = " ".join(names.latin_spellings(p)[0] for p in (given, father, grand))
        rows.append(
            [
                " ".join(full),
                f"{rng.choice(mothers)} {rng.choice(elder)} {rng.choice(elder)}",
                latin if rng.random() < 0.6 else "",
                rng.choice(("ذكر", "ذكر", "male", "M")),
                f"{rng.randrange(1, 29):02d}/{rng.randrange(1, 13):02d}/"
                f"{rng.randrange(1980, 2006)}",
                places.governorate(district.parent).name_ar,
                district.name_ar if rng.random() < 0.6 else district.name_en,
                f"07{rng.randrange(70, 80)}{rng.randrange(10**7):07d}"
                if rng.random() < 0.7
                else "",
                f"2023-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                rng.choice(("روسيا", "Russia", "بيلاروسيا", "")),
                rng.choice(("شركة النور للسفر", "مكتب الفرات", "")),
                f"{rng.randrange(1, 29)}/{rng.randrange(1, 13)}/2024",
                rng.choice(("سافر للعمل ولم يتصل منذ شهر", "", "عقد عمل في روسيا")),
                f"A{rng.randrange(10**7):07d}" if rng.random() < 0.5 else "",
                "أم " + given,
                "الأم",
                f"07{rng.randrange(70, 80)}{rng.randrange(10**7):07d}",
            ]
        )
    return rows


def to_csv(rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for row in rows:
        sheet.append([cell or None for cell in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(backend: str, fmt: str, data: bytes, count: int) -> None:
    from cases.imports import services

    name = f"import_{fmt}"
    app = staffed_app(backend, name, caseworkers=1)
    app.config["IMPORT_MAX_BYTES"] = max(len(data) + 1, app.config["IMPORT_MAX_BYTES"])
    app.config["IMPORT_MAX_ROWS"] = max(count, app.config["IMPORT_MAX_ROWS"])
    try:
        with app.test_request_context():
            supervisor = db.session.scalar(db.select(User).filter_by(username="bench-sup"))
            start = time.perf_counter()
            batch = services.upload(supervisor, data, f"bench.{fmt}")
            uploaded = time.perf_counter() - start
            columns = services.mapping_of(batch)["columns"]
            start, cpu = time.perf_counter(), time.process_time()
            report = services.check(supervisor, batch, columns, supervisor.id)
            checked = time.perf_counter() - start
            checked_cpu = time.process_time() - cpu
            start, cpu = time.perf_counter(), time.process_time()
            imported = services.import_valid_rows(supervisor, batch, report.valid)
            whole = time.perf_counter() - start
            whole_cpu = time.process_time() - cpu
        verdict = "meets" if whole <= GOAL_SECONDS else "MISSES"
        print(
            f"  {backend:<10} {fmt:<4} {len(data) / 2**20:5.1f} MB  upload {uploaded:5.1f} s  "
            f"dry run {checked:5.1f} s (cpu {checked_cpu:5.1f})  import {whole:5.1f} s "
            f"(cpu {whole_cpu:5.1f})  sum {checked + whole:5.1f} s  ({imported:,} cases, "
            f"{report.with_problems} with problems, {report.duplicate_rows:,} flagged)  "
            f"{verdict} the {GOAL_SECONDS} s goal"
        )
    finally:
        drop_bench_app(app, backend, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--formats", default="csv,xlsx")
    args = parser.parse_args()
    rows = generate(args.rows)
    files = {}
    with tempfile.TemporaryDirectory() as folder:
        for fmt in args.formats.split(","):
            data = to_csv(rows) if fmt == "csv" else to_xlsx(rows)
            Path(folder, f"bench.{fmt}").write_bytes(data)
            files[fmt] = Path(folder, f"bench.{fmt}").read_bytes()
    print(f"{args.rows:,} rows")
    for backend in args.backends.split(","):
        for fmt, data in files.items():
            run(backend, fmt, data, args.rows)


if __name__ == "__main__":
    main()
