"""Spreadsheet import, the rules: keep the file encrypted, check it, import all valid rows or
none, record it once.

The steps are upload (the file is read once to be sure it is a spreadsheet, then kept
encrypted in its ImportBatch), mapping and dry run (``check``: every row checked, duplicates
flagged, nothing written but the report), and the decision: ``import_valid_rows`` writes every
valid row in one transaction, or ``discard`` drops the file. The import takes the rows the dry
run checked (kept encrypted in the batch, see stored.py) when they still stand for a fresh
check (same day, same mapping), else it reads and checks the file again; either way it looks
for duplicates against the database again, since cases may have been recorded meanwhile.
"""

from __future__ import annotations

import gc
import json
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from .. import crypto
from ..audit import services as audit
from ..auth.models import Role, User
from ..clock import utcnow
from ..extensions import db
from . import duplicates, reading, stored
from .fields import BY_KEY, IGNORE, guess_mapping
from .models import BatchState, ImportBatch
from .report import MAX_STORED_PROBLEMS, Report
from .rows import CheckedRow, check_row, mapped_columns
from .writer import Hashes, Rows, new_references, reserve_case_ids

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_ROWS = 200_000
STALE_AFTER = timedelta(days=1)
SAMPLES = 3
FILE_NAME_LENGTH = 200


class ImportRuleError(Exception):
    """The import cannot go on; ``str(error)`` is the message for the user."""


def max_bytes() -> int:
    return int(current_app.config.get("IMPORT_MAX_BYTES") or DEFAULT_MAX_BYTES)


def max_rows() -> int:
    return int(current_app.config.get("IMPORT_MAX_ROWS") or DEFAULT_MAX_ROWS)


def _require_supervisor(actor: User) -> None:
    if actor.role != Role.SUPERVISOR:
        raise ImportRuleError(_l("Only a supervisor can import spreadsheets."))


def _require_open(batch: ImportBatch) -> None:
    if not batch.is_open or batch.content is None:
        raise ImportRuleError(_l("This import is finished; upload the file again to start over."))


def clean_file_name(name: str | None) -> str:
    """The browser's file name without folders or control characters, for display only."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[:FILE_NAME_LENGTH] or "spreadsheet"


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector while hundreds of thousands of rows are alive.

    Every few hundred new objects the collector walks the live ones; with a whole file's rows
    in memory that walk is most of the work (measured: JSON loading 10x, XML parsing 2.5x,
    checking 1.4x slower with it on). Reference counting still frees everything; cycles
    left meanwhile are collected once it is back on.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# --- step 1: upload --------------------------------------------------------------------------


def upload(actor: User, data: bytes, file_name: str | None) -> ImportBatch:
    """Check that ``data`` is a spreadsheet with a header and rows, and keep it encrypted."""
    _require_supervisor(actor)
    if len(data) > max_bytes():
        raise ImportRuleError(
            _l("The file is too large. It can be at most %(size)s MB.", size=max_bytes() // 2**20)
        )
    try:
        sheet = reading.open_sheet(data)
        has_rows = next(sheet.rows, None) is not None
    except reading.SpreadsheetError as error:
        raise ImportRuleError(str(error)) from error
    if not has_rows:
        raise ImportRuleError(_l("The file has a header but no rows below it."))
    batch = ImportBatch(
        state=BatchState.UPLOADED,
        created_by_id=actor.id,
        file_name=clean_file_name(file_name),
        file_kind=sheet.kind,
        file_size=len(data),
        sheet_name=sheet.sheet_name,
        content=crypto.encrypt_bytes(data),
        mapping=json.dumps({"columns": guess_mapping(sheet.header), "owner_id": actor.id}),
    )
    db.session.add(batch)
    db.session.flush()
    audit.record("spreadsheet_upload", "import_batch", batch.id, actor)
    db.session.commit()
    return batch


# --- step 2: mapping -------------------------------------------------------------------------


@dataclass
class Preview:
    """A sheet's columns with a few sample values, for the mapping step."""

    header: list[str]
    samples: list[list[str]]  # per column
    sheet_names: list[str]
    sheet_name: str | None
    header_row: int


def open_file(batch: ImportBatch, sheet: str | None = None) -> reading.Sheet:
    _require_open(batch)
    data = crypto.decrypt_bytes(batch.content)
    try:
        return reading.open_sheet(data, sheet or batch.sheet_name)
    except reading.SpreadsheetError as error:
        raise ImportRuleError(str(error)) from error


def preview(batch: ImportBatch) -> Preview:
    from .values import text_of

    sheet = open_file(batch)
    samples: list[list[str]] = [[] for _ in sheet.header]
    try:
        for count, (_number, cells) in enumerate(sheet.rows):
            for index, value in enumerate(cells[: len(samples)]):
                text = text_of(value)
                if text and len(samples[index]) < SAMPLES:
                    samples[index].append(text[:60])
            if count >= 200 or all(len(s) >= SAMPLES for s in samples):
                break
    except reading.SpreadsheetError:
        pass  # the check names the row that cannot be read
    return Preview(sheet.header, samples, sheet.sheet_names, sheet.sheet_name, sheet.header_row)


def mapping_of(batch: ImportBatch) -> dict:
    try:
        return json.loads(batch.mapping or "{}")
    except ValueError:
        return {}


def validate_mapping(columns: list[str], width: int) -> None:
    """Every field known, single fields once, and something to name the person."""
    if len(columns) != width:
        raise ImportRuleError(_l("The columns of the file have changed; choose them again."))
    seen: set[str] = set()
    for key in columns:
        if key == IGNORE:
            continue
        target = BY_KEY.get(key)
        if target is None:
            raise ImportRuleError(_l("Choose a field from the list for every column."))
        if key in seen and not target.many:
            raise ImportRuleError(
                _l(
                    "Two columns are set to “%(field)s”. Choose it for one column only.",
                    field=target.label,
                )
            )
        seen.add(key)
    if "given_name" not in seen and "full_name" not in seen:
        raise ImportRuleError(
            _l("Choose the column with the given name or the one with the full name.")
        )


def owner_choices() -> list[User]:
    """Who can own the imported cases: active caseworkers and supervisors."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.active.is_(True), User.role.in_([Role.CASEWORKER, Role.SUPERVISOR]))
            .order_by(User.display_name, User.id)
        )
    )


def _owner(owner_id: int | None) -> User:
    owner = db.session.get(User, owner_id) if owner_id else None
    if owner is None or not owner.active or not owner.works_cases:
        raise ImportRuleError(_l("A case can only go to an active caseworker or supervisor."))
    return owner


# --- step 3: dry run -------------------------------------------------------------------------


@dataclass
class _Checked:
    valid: list[CheckedRow]
    report: Report
    hashes: Hashes
    keys: list[duplicates.RowKeys]


def _check_all(batch: ImportBatch, columns: list[str], today: date) -> _Checked:
    sheet = open_file(batch)
    validate_mapping(columns, len(sheet.header))
    by_field = mapped_columns(columns)
    report = Report(header=sheet.header)
    valid: list[CheckedRow] = []
    limit = max_rows()
    try:
        for number, cells in sheet.rows:
            report.rows += 1
            if report.rows > limit:
                raise ImportRuleError(
                    _l(
                        "The file has more than %(num)s rows. Split it into smaller files.",
                        num=limit,
                    )
                )
            checked = check_row(number, cells, by_field, today)
            if checked.details is not None:
                valid.append(checked)
                continue
            report.with_problems += 1
            for problem in checked.problems:
                if len(report.problems) < MAX_STORED_PROBLEMS:
                    report.problems.append([number, problem.column, problem.code, problem.params])
    except reading.SpreadsheetError as error:
        raise ImportRuleError(str(error)) from error
    report.valid = len(valid)
    hashes = Hashes()
    keys = [duplicates.row_keys(checked, hashes) for checked in valid]
    _flag_duplicates(keys, report)
    return _Checked(valid, report, hashes, keys)


def _flag_duplicates(keys: list[duplicates.RowKeys], report: Report) -> None:
    """Put the likely duplicates of the valid rows, in the file and among the cases recorded
    now, on ``report``."""
    flags = duplicates.within_file(keys) + duplicates.against_cases(keys)
    flags.sort(key=lambda f: (f.row, f.other_row is None))
    report.flags = [[f.row, f.reasons, f.other_row, f.case_id, f.reference] for f in flags]


def _checked_again(batch: ImportBatch, columns: list[str], today: date) -> _Checked:
    """The dry run's rows when they still hold (duplicates looked for again, since cases may
    have been recorded meanwhile), else a full check of the file."""
    report = load_report(batch)
    kept = stored.unpack(batch.checked_rows, columns, today) if report else None
    if report is None or kept is None or len(kept.valid) != report.valid:
        return _check_all(batch, columns, today)
    _flag_duplicates(kept.keys, report)
    return _Checked(kept.valid, report, kept.hashes, kept.keys)


def _store_report(batch: ImportBatch, report: Report) -> None:
    packed = zlib.compress(json.dumps(report.to_json(), ensure_ascii=False).encode(), 6)
    batch.report = crypto.encrypt_bytes(packed)
    batch.row_count = report.rows
    batch.valid_count = report.valid
    batch.problem_count = report.with_problems
    batch.duplicate_count = report.duplicate_rows


def load_report(batch: ImportBatch) -> Report | None:
    if batch.report is None:
        return None
    try:
        return Report.from_json(json.loads(zlib.decompress(crypto.decrypt_bytes(batch.report))))
    except (crypto.CryptoError, zlib.error, ValueError):
        return None


def check(actor: User, batch: ImportBatch, columns: list[str], owner_id: int | None) -> Report:
    """The dry run: check every row with the chosen mapping and save the report (no cases)."""
    _require_supervisor(actor)
    _require_open(batch)
    _owner(owner_id)
    today = date.today()
    with _no_cycle_collection():
        checked = _check_all(batch, columns, today)
        batch.mapping = json.dumps({"columns": columns, "owner_id": owner_id})
        batch.checked_at = utcnow()
        _store_report(batch, checked.report)
        batch.checked_rows = stored.pack(
            stored.Kept(checked.valid, checked.keys, checked.hashes), columns, today
        )
    db.session.commit()
    return checked.report


def choose_sheet(actor: User, batch: ImportBatch, sheet_name: str) -> None:
    """Read another sheet of the workbook: the mapping is guessed again from its header."""
    _require_supervisor(actor)
    sheet = open_file(batch, sheet_name)
    if sheet_name not in sheet.sheet_names:
        raise ImportRuleError(_l("This workbook has no sheet of that name."))
    batch.sheet_name = sheet.sheet_name
    batch.mapping = json.dumps(
        {"columns": guess_mapping(sheet.header), "owner_id": mapping_of(batch).get("owner_id")}
    )
    batch.report = None
    batch.checked_rows = None
    batch.checked_at = None
    db.session.commit()


# --- step 4: the decision --------------------------------------------------------------------


def import_valid_rows(actor: User, batch: ImportBatch, expected: int | None = None) -> int:
    """Create a case for every valid row, all in one transaction, and delete the file.

    ``expected`` is the number of valid rows the supervisor saw in the dry run: if the rows
    now check differently, nothing is imported and the check is to be looked at again.
    Returns how many cases were created.
    """
    _require_supervisor(actor)
    _require_open(batch)
    if batch.checked_at is None:
        raise ImportRuleError(_l("Check the file before importing it."))
    mapping = mapping_of(batch)
    owner = _owner(mapping.get("owner_id"))
    # Take the batch first: on SQLite this write takes the database's write lock, which also
    # keeps the case ids reserved below from being taken; on PostgreSQL the row lock stops a
    # second click from importing twice.
    taken = db.session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch.id, ImportBatch.state == BatchState.UPLOADED)
        .values(decided_by_id=actor.id)
    ).rowcount
    if taken != 1:
        db.session.rollback()
        raise ImportRuleError(_l("This import is finished; upload the file again to start over."))
    with _no_cycle_collection():
        checked = _checked_again(batch, mapping.get("columns") or [], date.today())
        if expected is not None and checked.report.valid != expected:
            db.session.rollback()
            raise ImportRuleError(
                _l("The file now checks differently from the report you saw. Look at it again.")
            )
        try:
            count = _write(actor, owner, batch, checked.valid, checked.hashes)
        except Exception:
            db.session.rollback()
            raise
    now = utcnow()
    batch.state = BatchState.IMPORTED
    batch.content = None
    batch.checked_rows = None
    batch.owner_id = owner.id
    batch.decided_by_id = actor.id
    batch.decided_at = now
    batch.imported_count = count
    _store_report(batch, checked.report)
    audit.record("spreadsheet_import", "import_batch", batch.id, actor, item_count=count)
    db.session.commit()
    return count


def _write(
    actor: User, owner: User, batch: ImportBatch, valid: list[CheckedRow], hashes: Hashes
) -> int:
    ids = reserve_case_ids(len(valid))
    references = new_references(len(valid))
    rows = Rows()
    now = utcnow()
    for case_id, reference, checked in zip(ids, references, valid, strict=True):
        rows.add_case(
            case_id,
            reference,
            checked.details,
            checked.recorded_on,
            actor_id=actor.id,
            owner_id=owner.id,
            batch_id=batch.id,
            row_number=checked.number,
            now=now,
            hashes=hashes,
        )
    rows.write()
    return len(valid)


def discard(actor: User, batch: ImportBatch) -> None:
    """ "Import nothing": the file is deleted and the batch kept as a record of that."""
    _require_supervisor(actor)
    _require_open(batch)
    batch.state = BatchState.DISCARDED
    # The report quotes values of rows never imported (phone numbers, places): it goes too.
    batch.content = None
    batch.checked_rows = None
    batch.report = None
    batch.decided_by_id = actor.id
    batch.decided_at = utcnow()
    audit.record("spreadsheet_discard", "import_batch", batch.id, actor)
    db.session.commit()


def purge_stale_batches(now=None) -> int:  # noqa: ANN001
    """Delete the files of imports left half-way for more than a day; returns how many.

    For the retention job to call: the batch row stays (as discarded), the file goes.
    """
    cutoff = (now or utcnow()) - STALE_AFTER
    result = db.session.execute(
        update(ImportBatch)
        .where(ImportBatch.state == BatchState.UPLOADED, ImportBatch.created_at < cutoff)
        .values(
            state=BatchState.DISCARDED,
            content=None,
            checked_rows=None,
            report=None,
            decided_at=now or utcnow(),
        )
    )
    db.session.commit()
    return result.rowcount or 0


def recent_batches(limit: int = 50) -> Iterator[ImportBatch]:
    return iter(
        db.session.scalars(
            select(ImportBatch)
            .order_by(ImportBatch.created_at.desc(), ImportBatch.id.desc())
            .limit(limit)
        )
    )
