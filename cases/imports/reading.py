"""Reading an uploaded spreadsheet: the kind of file by its content, then its rows as text.

XLSX is read straight from its XML, streaming the sheet: openpyxl's read-only mode takes about
25 µs a cell, over 50 s for 100,000 rows of 20 columns, and a reader that keeps only what an
import needs is several times faster. The small parts (workbook, relationships, styles) go
through defusedxml. The two big ones (the sheet and its shared strings) are first run through
expat alone with defusedxml's guards (``_refuse_dtd``: any DOCTYPE, entity declaration or
external entity reference stops the parse at once), which runs at C speed because no element
handler is set; only a part proven to have no DTD is then parsed by ElementTree's C parser.
Without a DTD an XML document can declare no entity, so there is nothing to expand (billion
laughs, quadratic blow-up) and nothing external to fetch (XXE): the same guarantee as
defusedxml's ``forbid_dtd=True``, whose pure-Python parser costs about 13 s more per 100,000
rows. Cell values come
back as Python values: text, numbers, booleans, and datetimes for numbers formatted as dates.
Formulas are never evaluated: their last value saved by the spreadsheet is taken, or, without
one, the formula's own text. CSV is decoded as UTF-8 (with or without a BOM) when it is valid
UTF-8, else with the encoding charset-normalizer finds (Windows-1256 for Arabic Excel), and its
delimiter (comma, semicolon or tab) is chosen from the header line.
"""

from __future__ import annotations

import codecs
import csv
import io
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from xml.etree.ElementTree import iterparse as _c_iterparse
from xml.parsers import expat

from charset_normalizer import from_bytes
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import fromstring
from flask_babel import lazy_gettext as _l

# Cells longer than this are cut: the longest case field (circumstances) holds 20,000.
MAX_CELL = 32_767  # Excel's own limit
MAX_COLUMNS = 200
# A 20 MB XLSX can expand a long way; beyond this it is refused before it is read.
MAX_UNCOMPRESSED = 600 * 1024 * 1024
# The small parts read whole (workbook, its relationships, styles): a real one is kilobytes, a
# few megabytes at most; a bomb of empty elements would cost gigabytes of memory.
MAX_SMALL_PART = 8 * 1024 * 1024
DELIMITERS = (",", ";", "\t")
NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL_REF = re.compile(r"([A-Z]{1,3})([0-9]*)")
# Excel's built-in number formats that show dates or times.
_DATE_FORMAT_IDS = frozenset({14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 30, 36, 45, 46, 47, 50, 57})
_QUOTED = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')
_EPOCH_1900 = datetime(1899, 12, 30)
_EPOCH_1904 = datetime(1904, 1, 1)


class SpreadsheetError(Exception):
    """The file cannot be read as a spreadsheet; ``str(error)`` is the message for the user."""


@dataclass
class Sheet:
    """A spreadsheet's header and rows. ``rows`` yields (row number, cells) after the header:
    row numbers are the spreadsheet's own (the header is usually row 1), blank rows skipped."""

    kind: str  # "csv" or "xlsx"
    header: list[str]
    header_row: int
    rows: Iterator[tuple[int, list]]
    sheet_names: list[str]
    sheet_name: str | None = None
    encoding: str | None = None
    delimiter: str | None = None


def file_kind(data: bytes) -> str:
    """ "xlsx" or "csv" from the bytes themselves, or SpreadsheetError."""
    if not data.strip():
        raise SpreadsheetError(_l("The file is empty."))
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError, OSError) as error:
            raise SpreadsheetError(_l("This file is damaged and cannot be read.")) from error
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "content.xml" in names:
            raise SpreadsheetError(
                _l("OpenDocument spreadsheets cannot be read here. Save it as XLSX or CSV.")
            )
        raise SpreadsheetError(_l("This is not a spreadsheet. Choose an XLSX or CSV file."))
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise SpreadsheetError(
            _l("Old Excel files (.xls) cannot be read here. Save it as XLSX or CSV.")
        )
    if _looks_binary(data[:8192]):
        raise SpreadsheetError(_l("This is not a spreadsheet. Choose an XLSX or CSV file."))
    return "csv"


def _looks_binary(head: bytes) -> bool:
    if head.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b")):
        return True
    # UTF-16 text has NUL bytes too: it is text, decoded below.
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    return b"\x00" in head


def open_sheet(data: bytes, sheet: str | None = None) -> Sheet:
    """The header and a row iterator of the file (an XLSX's chosen sheet, else its first)."""
    kind = file_kind(data)
    if kind == "xlsx":
        return _open_xlsx(data, sheet)
    return _open_csv(data)


def _finish(kind: str, rows: Iterator[tuple[int, list]], **extra: object) -> Sheet:
    """Take the first non-blank row as the header."""
    for number, cells in rows:
        header = [_header_text(c) for c in cells]
        if len(header) > MAX_COLUMNS:
            raise SpreadsheetError(_l("The file has more than %(num)s columns.", num=MAX_COLUMNS))
        return Sheet(kind, header, number, rows, **extra)  # type: ignore[arg-type]
    raise SpreadsheetError(_l("The file has no rows."))


def _header_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())[:200]


# --- CSV -------------------------------------------------------------------------------------


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding name). Valid UTF-8 is UTF-8; anything else is what charset-normalizer
    finds most likely, Arabic Windows-1256 usually."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as error:
            raise SpreadsheetError(_l("This file is damaged and cannot be read.")) from error
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data, cp_isolation=["cp1256", "cp1252", "iso8859_6", "cp720"]).best()
    if best is None:
        best = from_bytes(data).best()
    if best is None:
        raise SpreadsheetError(
            _l("The text of this file cannot be read. Save it as CSV UTF-8 or as XLSX.")
        )
    return str(best), best.encoding


def _delimiter(first_line: str) -> str:
    """The delimiter the header line uses most, outside quotes; a comma when there is none."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in first_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _open_csv(data: bytes) -> Sheet:
    text, encoding = decode_text(data)
    text = text.replace("\x00", "")
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = _delimiter(first)
    csv.field_size_limit(MAX_CELL * 4)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)

    def rows() -> Iterator[tuple[int, list]]:
        try:
            for number, cells in enumerate(reader, start=1):
                if any(c.strip() for c in cells):
                    yield number, [c[:MAX_CELL] for c in cells]
        except csv.Error as error:
            raise SpreadsheetError(
                _l("The file could not be read after row %(row)s.", row=reader.line_num)
            ) from error

    return _finish(
        "csv", rows(), sheet_names=[], encoding=encoding, delimiter=delimiter, sheet_name=None
    )


# --- XLSX ------------------------------------------------------------------------------------


def _column_index(letters: str) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + (ord(ch) - 64)
    return index - 1


def _is_date_format(code: str) -> bool:
    bare = _QUOTED.sub("", code).lower()
    return any(ch in bare for ch in "dmy") or ("h" in bare and "s" in bare)


@dataclass
class _Workbook:
    archive: zipfile.ZipFile
    sheets: list[tuple[str, str]]  # (name, path in the archive)
    date1904: bool


def _parse_part(archive: zipfile.ZipFile, name: str):  # noqa: ANN202
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    # zipfile stops at the declared size, so the header's figure bounds what is unpacked.
    if info.file_size > MAX_SMALL_PART:
        raise SpreadsheetError(_l("This workbook is too large once unpacked."))
    return fromstring(archive.read(info), forbid_dtd=True)


def _workbook(data: bytes) -> _Workbook:
    archive = zipfile.ZipFile(io.BytesIO(data))
    if sum(info.file_size for info in archive.infolist()) > MAX_UNCOMPRESSED:
        raise SpreadsheetError(_l("This workbook is too large once unpacked."))
    book = _parse_part(archive, "xl/workbook.xml")
    rels = _parse_part(archive, "xl/_rels/workbook.xml.rels")
    targets = {}
    if rels is not None:
        for rel in rels.iter(f"{PKG_REL_NS}Relationship"):
            target = rel.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
            targets[rel.get("Id")] = posixpath.normpath(path)
    sheets = []
    for sheet in book.iter(f"{NS}sheet"):
        path = targets.get(sheet.get(f"{REL_NS}id"))
        if path:
            sheets.append((sheet.get("name") or "", path))
    pr = book.find(f"{NS}workbookPr")
    date1904 = pr is not None and pr.get("date1904") in ("1", "true")
    return _Workbook(archive, sheets, date1904)


def _refuse_dtd(archive: zipfile.ZipFile, name: str) -> None:
    """Raise unless the part ``name`` is well-formed XML without a DTD.

    The handlers are defusedxml's (DefusedExpatParser): a DOCTYPE, an entity declaration or an
    external entity reference raises, and pyexpat stops parsing as soon as a handler raises,
    so an internal subset is never read, let alone expanded. No other handler is set, so expat
    runs without calling back into Python.
    """

    def doctype(name, sysid, pubid, has_internal_subset):  # noqa: ANN001, ANN202
        raise DTDForbidden(name, sysid, pubid)

    def entity(name, is_parameter_entity, value, base, sysid, pubid, notation_name):  # noqa: ANN001, ANN202
        raise EntitiesForbidden(name, value, base, sysid, pubid, notation_name)

    def unparsed(name, base, sysid, pubid, notation_name):  # noqa: ANN001, ANN202
        raise EntitiesForbidden(name, None, base, sysid, pubid, notation_name)

    def external(context, base, sysid, pubid):  # noqa: ANN001, ANN202
        raise ExternalReferenceForbidden(context, base, sysid, pubid)

    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = unparsed
    parser.ExternalEntityRefHandler = external
    with archive.open(name) as handle:
        parser.ParseFile(handle)


def _iterparse(archive: zipfile.ZipFile, name: str) -> Iterator:
    """End events of the part ``name`` from ElementTree's C parser, once _refuse_dtd passed
    (at once, so a file with a DTD is refused at upload)."""
    _refuse_dtd(archive, name)

    def events() -> Iterator:
        with archive.open(name) as handle:
            # _refuse_dtd proved this part has no DTD, so there is nothing to expand or fetch.
            yield from _c_iterparse(handle, events=("end",))  # noqa: S314  # nosec B314

    return events()


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    strings: list[str] = []
    if "xl/sharedStrings.xml" not in archive.namelist():
        return strings
    events = _iterparse(archive, "xl/sharedStrings.xml")
    for _event, element in events:
        if element.tag == f"{NS}si":
            # Rich text runs join; phonetic guides (rPh) are not part of the text.
            text = "".join(
                t.text or ""
                for child in element
                if child.tag != f"{NS}rPh"
                for t in child.iter(f"{NS}t")
            )
            strings.append(text)
            element.clear()
    return strings


def _date_styles(archive: zipfile.ZipFile) -> set[int]:
    """Indexes of the cell styles that show numbers as dates."""
    styles = _parse_part(archive, "xl/styles.xml")
    if styles is None:
        return set()
    custom = {
        int(f.get("numFmtId", "0")): f.get("formatCode", "")
        for f in styles.iter(f"{NS}numFmt")
        if (f.get("numFmtId") or "").isdigit()
    }
    found = set()
    xfs = styles.find(f"{NS}cellXfs")
    for index, xf in enumerate(xfs if xfs is not None else ()):
        fmt = int(xf.get("numFmtId") or 0) if (xf.get("numFmtId") or "0").isdigit() else 0
        if fmt in _DATE_FORMAT_IDS or (fmt in custom and _is_date_format(custom[fmt])):
            found.add(index)
    return found


def _open_xlsx(data: bytes, wanted: str | None) -> Sheet:
    try:
        workbook = _workbook(data)
        if not workbook.sheets:
            raise SpreadsheetError(_l("This workbook has no sheets."))
        names = [name for name, _ in workbook.sheets]
        name, path = next(((n, p) for n, p in workbook.sheets if n == wanted), workbook.sheets[0])
        strings = _shared_strings(workbook.archive)
        date_styles = _date_styles(workbook.archive)
        events = _iterparse(workbook.archive, path)
    except SpreadsheetError:
        raise
    except Exception as error:  # zip, XML and DTD errors alike: the file is not usable
        raise SpreadsheetError(_l("This file is damaged and cannot be read.")) from error
    epoch = _EPOCH_1904 if workbook.date1904 else _EPOCH_1900
    rows = _xlsx_rows(events, strings, date_styles, epoch)
    return _finish("xlsx", rows, sheet_names=names, sheet_name=name)


def _xlsx_rows(
    events: Iterator, strings: list[str], date_styles: set[int], epoch: datetime
) -> Iterator[tuple[int, list]]:
    row_tag, cell_tag = f"{NS}row", f"{NS}c"
    value_tag, formula_tag, inline_tag, text_tag = f"{NS}v", f"{NS}f", f"{NS}is", f"{NS}t"
    previous = 0
    try:
        for _event, element in events:
            if element.tag != row_tag:
                continue
            number = int(element.get("r") or previous + 1)
            previous = number
            cells: list = []
            for cell in element.iter(cell_tag):
                ref = _CELL_REF.match(cell.get("r") or "")
                column = _column_index(ref.group(1)) if ref else len(cells)
                if column >= MAX_COLUMNS:
                    continue
                value = _cell_value(
                    cell,
                    strings,
                    date_styles,
                    epoch,
                    (value_tag, formula_tag, inline_tag, text_tag),
                )
                if value is None:
                    continue
                if column >= len(cells):
                    cells.extend([None] * (column - len(cells) + 1))
                cells[column] = value
            element.clear()
            if any(c is not None and (not isinstance(c, str) or c.strip()) for c in cells):
                yield number, cells
    except SpreadsheetError:
        raise
    except Exception as error:
        raise SpreadsheetError(
            _l("The file could not be read after row %(row)s.", row=previous)
        ) from error


def _cell_value(cell, strings, date_styles, epoch, tags):  # noqa: ANN001, ANN202
    value_tag, formula_tag, inline_tag, text_tag = tags
    kind = cell.get("t", "n")
    raw = cell.findtext(value_tag)
    if kind == "inlineStr":
        inline = cell.find(inline_tag)
        text = "".join(t.text or "" for t in inline.iter(text_tag)) if inline is not None else ""
        return text[:MAX_CELL]
    if raw is None:
        formula = cell.findtext(formula_tag)
        # A formula never calculated: its text, which is what was typed. Never evaluated.
        return ("=" + formula)[:MAX_CELL] if formula else None
    if kind == "s":
        index = int(raw)
        return strings[index][:MAX_CELL] if 0 <= index < len(strings) else None
    if kind in ("str", "e"):
        return raw[:MAX_CELL]
    if kind == "b":
        return raw == "1"
    if kind == "d":
        try:
            return datetime.fromisoformat(raw.rstrip("Z"))
        except ValueError:
            return raw
    try:
        number = float(raw)
    except ValueError:
        return raw[:MAX_CELL]
    style = cell.get("s")
    dated = style is not None and style.isdigit() and int(style) in date_styles
    if dated and 0 <= number < 2_958_466:  # up to 9999-12-31
        # Excel counts 1900 as a leap year: serials before 1 March 1900 are a day off.
        days = number if number >= 61 or epoch is _EPOCH_1904 else number + 1
        return epoch + timedelta(days=days)
    return int(number) if number.is_integer() and abs(number) < 2**53 else number
