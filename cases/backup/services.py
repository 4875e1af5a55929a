"""Encrypted backups of the database and the attachments folder, and their restore.

A backup file is a plain tar archive (GNU format) of two age files (age-encryption.org/v1):

- ``key.age``: a fresh X25519 secret key made for this backup alone, encrypted with the
  passphrase (age's scrypt recipient);
- ``data.tar.gz.age``: a gzip'd tar of ``manifest.json``, the database
  (``database.sqlite`` or ``database.pgdump``) and ``attachments/<name>``, encrypted to that key.

Why two files: pyrage (the age library used here) encrypts with a passphrase only from and to
bytes in memory, but streams to X25519 recipients. So the bulk of the data streams to a
throwaway key pair, and only the small secret key is passphrase-encrypted. With the stock tools
a backup opens as ``tar -xf F; age -d key.age > key.txt; age -d -i key.txt data.tar.gz.age``.

What a backup never holds: DATA_KEYS, LOOKUP_KEY, SECRET_KEY. Phone and document numbers and
the attachments stay encrypted under DATA_KEYS inside it, so restoring needs the passphrase and
the separately kept keys. The manifest holds short fingerprints of those keys (HMACs, which
reveal nothing of them) so a restore can warn when the running instance has other keys.

SQLite is copied with SQLite's online backup API, PostgreSQL with ``pg_dump --format=custom``
inside an exported snapshot (the manifest's row counts come from the same snapshot).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import re
import shutil
import sqlite3

# pg_dump and pg_restore run with an argument list, never through a shell.
import subprocess  # nosec B404
import tarfile
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import pyrage
from flask import current_app
from sqlalchemy import Connection, column, create_engine, func, inspect, select, table, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool
from zxcvbn import zxcvbn

from .. import crypto
from ..attachments import services as attachments
from ..audit import services as audit
from ..extensions import db

FORMAT = "athar-backup"
FORMAT_VERSION = 1
KEY_MEMBER = "key.age"
DATA_MEMBER = "data.tar.gz.age"
MANIFEST = "manifest.json"
DATABASE_MEMBERS = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}
ATTACHMENTS_PREFIX = "attachments/"
# The name of the variable, not a passphrase.
PASSPHRASE_ENV = "ATHAR_BACKUP_PASSPHRASE"  # noqa: S105  # nosec B105
MIN_PASSPHRASE_LENGTH = 15
MAX_PASSPHRASE_LENGTH = 1024
MAX_KEY_BYTES = 64 * 1024  # the passphrase-encrypted key is a few hundred bytes
MAX_MANIFEST_BYTES = 1024 * 1024
CHUNK = 1024 * 1024
# Level 1: most of what gzip can gain (the SQLite file, base64 of the encrypted attachments)
# at a fraction of the time of the default level 6.
GZIP_LEVEL = 1
FINGERPRINT_LABEL = b"athar backup key fingerprint"


class BackupError(Exception):
    """A backup could not be made, read or restored; ``str(error)`` says why, for an operator."""


@dataclass(frozen=True)
class Created:
    path: Path
    size: int
    seconds: float
    manifest: dict
    attachment_files: int


@dataclass
class Contents:
    """What a backup held, after it was decrypted in full and checked."""

    manifest: dict
    database: Path | None = None
    attachments: Path | None = None
    attachment_files: int = 0
    attachment_bytes: int = 0
    database_bytes: int = 0
    has_database: bool = False


@dataclass(frozen=True)
class Restored:
    manifest: dict
    counts_after: dict[str, int]
    attachment_files: int
    seconds: float
    warnings: list[str] = field(default_factory=list)

    @property
    def mismatches(self) -> dict[str, tuple[int | None, int | None]]:
        """Tables whose row count differs from the manifest's: {table: (expected, found)}."""
        expected = self.manifest.get("counts", {})
        names = set(expected) | set(self.counts_after)
        return {
            name: (expected.get(name), self.counts_after.get(name))
            for name in sorted(names)
            if expected.get(name) != self.counts_after.get(name)
        }


# --- passphrase -----------------------------------------------------------------------------


def check_passphrase_strength(passphrase: str) -> None:
    """Refuse a passphrase an offline guesser could find: raise BackupError saying why."""
    if not passphrase.strip():
        raise BackupError("The passphrase is empty.")
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise BackupError(
            f"The passphrase is too short: use at least {MIN_PASSPHRASE_LENGTH} characters, "
            "for example four or five random words."
        )
    if len(passphrase) > MAX_PASSPHRASE_LENGTH:
        raise BackupError(f"The passphrase is longer than {MAX_PASSPHRASE_LENGTH} characters.")
    verdict = zxcvbn(passphrase, max_length=MAX_PASSPHRASE_LENGTH)
    if verdict["score"] < 4:
        hint = verdict["feedback"].get("warning") or "it is too easy to guess"
        raise BackupError(
            f"The passphrase is too weak ({hint.rstrip('.')}). Use four or five random words."
        )


# --- facts about this instance --------------------------------------------------------------


def backend() -> str:
    """'sqlite' or 'postgresql': the configured database."""
    name = db.engine.dialect.name
    if name not in DATABASE_MEMBERS:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {name}.")
    return name


def postgres_schema() -> str | None:
    """The schema named by a search_path in SQLALCHEMY_ENGINE_OPTIONS, if any.

    The test suite and the benches run each app in its own schema of a shared database; a
    backup of such an app holds that schema only.
    """
    options = (current_app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}).get("connect_args", {})
    match = re.search(r"search_path\s*=\s*([^\s]+)", str(options.get("options") or ""))
    if not match:
        return None
    first = match.group(1).split(",")[0].strip().strip('"')
    return first if first and first != "$user" else None


def key_fingerprints() -> dict:
    """Short, non-secret fingerprints of DATA_KEYS and LOOKUP_KEY (HMAC-SHA256, 8 hex)."""

    def fingerprint(key: str) -> str:
        return hmac.new(key.encode(), FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:8]

    return {
        "data_keys": [fingerprint(key) for key in crypto.data_keys(current_app)],
        "lookup_key": fingerprint(str(current_app.config["LOOKUP_KEY"])),
    }


def key_warnings(manifest: dict) -> list[str]:
    """What will not decrypt or match after restoring a backup made under ``manifest``'s keys."""
    theirs = manifest.get("key_fingerprints") or {}
    ours = key_fingerprints()
    warnings = []
    missing = [fp for fp in theirs.get("data_keys", []) if fp not in ours["data_keys"]]
    if missing:
        warnings.append(
            f"{len(missing)} of the backup's {len(theirs.get('data_keys', []))} data key(s) "
            "are not in this instance's DATA_KEYS: phone and document numbers, two-factor "
            "secrets and attachments encrypted under them will not decrypt. Configure the "
            "keys the backup was made with (fingerprints: " + ", ".join(missing) + ")."
        )
    if theirs.get("lookup_key") and theirs["lookup_key"] != ours["lookup_key"]:
        warnings.append(
            "LOOKUP_KEY differs from the backup's: searching by phone or document number will "
            "find nothing until it is the key the backup was made with."
        )
    return warnings


def app_version() -> str:
    try:
        return metadata.version("athar")
    except metadata.PackageNotFoundError:
        return "unknown"


def count_rows(connection: Connection) -> dict[str, int]:
    """Rows in each of the app's tables that exist in the database behind ``connection``."""
    present = set(inspect(connection).get_table_names())
    return {
        t.name: connection.scalar(select(func.count()).select_from(t))
        for t in db.metadata.sorted_tables
        if t.name in present
    }


def alembic_revision(connection: Connection) -> str | None:
    """The migration the database is at (None for a schema made without migrations)."""
    if "alembic_version" not in inspect(connection).get_table_names():
        return None
    versions = table("alembic_version", column("version_num"))
    return connection.scalar(select(versions.c.version_num).limit(1))


# --- creating -------------------------------------------------------------------------------


def default_output() -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path(current_app.instance_path) / "backups" / f"athar-{stamp}.tar"


def create(passphrase: str, output: Path | None = None) -> Created:
    """Write an encrypted backup of the database and the attachments to ``output``.

    The app may go on writing meanwhile. The file appears under its name only once complete
    (written under a temporary name, then renamed), readable by its owner alone.
    """
    check_passphrase_strength(passphrase)
    started = time.monotonic()
    kind = backend()
    output = Path(output) if output else default_output()
    if output.exists():
        raise BackupError(f"{output} already exists: choose another --output.")
    output.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # The plain copy waits in the instance folder, beside the live database: never in the
    # backup's destination, which may be synced off the machine.
    instance = Path(current_app.instance_path)
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".athar-backup-", dir=instance))
    try:
        dump = work / DATABASE_MEMBERS[kind]
        facts = _dump_sqlite(dump) if kind == "sqlite" else _dump_postgres(dump)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "app_version": app_version(),
            "backend": kind,
            "schema": postgres_schema() if kind == "postgresql" else None,
            "key_fingerprints": key_fingerprints(),
            **facts,
        }
        included: list[str] = []
        temporary = output.with_name(f".{output.name}.partial-{os.getpid()}")
        try:
            _write_archive(temporary, passphrase, _payload(manifest, dump, included))
            os.replace(temporary, output)
        finally:
            temporary.unlink(missing_ok=True)
        _sync_directory(output.parent)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    audit.record("backup_create", item_count=manifest["counts"].get("cases"), commit=True)
    elapsed = time.monotonic() - started
    return Created(output, output.stat().st_size, elapsed, manifest, len(included))


def _dump_sqlite(target: Path) -> dict:
    """A consistent copy of the live SQLite database; the manifest's facts read from it."""
    path = db.engine.url.database
    if not path or path == ":memory:" or not Path(path).exists():
        raise BackupError("The SQLite database is in memory or missing: nothing to back up.")
    source = sqlite3.connect(path, timeout=30)
    copy = sqlite3.connect(target)
    try:
        # One step: the copy is one snapshot, and WAL lets the app write meanwhile.
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        source.close()
        copy.close()
    os.chmod(target, 0o600)
    engine = create_engine(f"sqlite:///{target}", poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return {
                "alembic_revision": alembic_revision(connection),
                "counts": count_rows(connection),
            }
    finally:
        engine.dispose()


def _dump_postgres(target: Path) -> dict:
    """pg_dump in a snapshot the manifest's counts are read in too."""
    schema = postgres_schema()
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            connection.execute(text("SET TRANSACTION READ ONLY"))
            snapshot = connection.scalar(text("SELECT pg_export_snapshot()"))
            facts = {
                "alembic_revision": alembic_revision(connection),
                "counts": count_rows(connection),
            }
            command = [
                _pg_tool("pg_dump", connection),
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={target}",
            ]
            if schema:
                command.append(f"--schema={schema}")
            _run(command, connect=True)
    os.chmod(target, 0o600)
    return facts


def _payload(manifest: dict, dump: Path, included: list[str]) -> Iterator[bytes]:
    """The gzip'd inner tar, in pieces: manifest, database, then each attachment.

    The database is copied before the attachments: files uploaded meanwhile are extra (and
    swept as orphans later), which is better than rows whose file is missing.
    """
    packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # 31: gzip framing
    for piece in _tar_stream(manifest, dump, included):
        compressed = packer.compress(piece)
        if compressed:
            yield compressed
    yield packer.flush()


def _tar_stream(manifest: dict, dump: Path, included: list[str]) -> Iterator[bytes]:
    """Tar blocks for the manifest, the database and each attachment; ``included`` collects
    the attachments' names."""
    body = json.dumps(manifest, indent=2, sort_keys=True).encode()
    yield _tar_header(MANIFEST, len(body))
    yield body + _padding(len(body))
    with dump.open("rb") as handle:
        yield from _tar_file(DATABASE_MEMBERS[manifest["backend"]], handle)
    folder = attachments.folder_path()
    names = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    for name in names:
        if not attachments.STORED_NAME.fullmatch(name):
            continue
        try:
            handle = (folder / name).open("rb")
        except FileNotFoundError:
            continue  # removed since the listing: its row says so too
        with handle:
            yield from _tar_file(ATTACHMENTS_PREFIX + name, handle)
        included.append(name)
    yield b"\0" * (2 * tarfile.BLOCKSIZE)


def _tar_file(name: str, handle: IO[bytes]) -> Iterator[bytes]:
    size = os.fstat(handle.fileno()).st_size
    yield _tar_header(name, size)
    left = size
    while left:
        piece = handle.read(min(CHUNK, left))
        if not piece:
            raise BackupError(f"{name} shrank while it was being backed up.")
        left -= len(piece)
        yield piece
    yield _padding(size)


def _tar_header(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = int(time.time())
    # GNU format: one 512-byte header whatever the size (base-256 above 8 GiB).
    return info.tobuf(tarfile.GNU_FORMAT, "utf-8", "strict")


def _padding(size: int) -> bytes:
    return b"\0" * (-size % tarfile.BLOCKSIZE)


class _ChunkReader(io.RawIOBase):
    """A readable file over an iterator of byte strings, for pyrage to pull from."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:  # noqa: ANN401 - a writable buffer
        while not self._buffer:
            try:
                self._buffer = memoryview(next(self._chunks))
            except StopIteration:
                return 0
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


class _CheckedWriter:
    """Passes writes on and keeps the first error: pyrage's final flush swallows errors."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self.error: BaseException | None = None

    def write(self, data: bytes) -> int:
        try:
            return self._handle.write(data)
        except BaseException as error:
            self.error = self.error or error
            raise

    def flush(self) -> None:
        self._handle.flush()


def _write_archive(path: Path, passphrase: str, payload: Iterator[bytes]) -> None:
    """The outer tar: key.age, then data.tar.gz.age streamed, its header written last."""
    identity = pyrage.x25519.Identity.generate()
    wrapped_key = pyrage.passphrase.encrypt(str(identity).encode(), passphrase)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(_tar_header(KEY_MEMBER, len(wrapped_key)))
        handle.write(wrapped_key + _padding(len(wrapped_key)))
        header_at = handle.tell()
        handle.write(b"\0" * tarfile.BLOCKSIZE)  # the data member's header, once its size is known
        start = handle.tell()
        writer = _CheckedWriter(handle)
        try:
            pyrage.encrypt_io(_ChunkReader(payload), writer, [identity.to_public()])
        except pyrage.EncryptError as error:
            raise BackupError(f"Encryption failed: {error}") from error
        if writer.error is not None:
            raise BackupError(f"Writing {path.parent} failed: {writer.error}") from writer.error
        size = handle.tell() - start
        handle.write(_padding(size) + b"\0" * (2 * tarfile.BLOCKSIZE))
        handle.seek(header_at)
        handle.write(_tar_header(DATA_MEMBER, size))
        handle.flush()
        os.fsync(handle.fileno())


def _sync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- reading --------------------------------------------------------------------------------


def read(
    path: Path,
    passphrase: str,
    staging: Path | None,
    check: Callable[[dict], None] = lambda manifest: None,
) -> Contents:
    """Decrypt the backup at ``path`` in full; raise BackupError if anything is amiss.

    With ``staging``, the database lands in ``staging/database.*`` and the attachments in
    ``staging/attachments/``; without, the content is only checked and counted. ``check`` sees
    the manifest as soon as it is read and may refuse it by raising BackupError. Nothing is
    trusted before the whole file has decrypted: age authenticates every 64 KiB and the end.
    """
    with _open_archive(path) as outer:
        members = {m.name: m for m in outer.getmembers()}
        if set(members) != {KEY_MEMBER, DATA_MEMBER} or not all(
            m.isfile() for m in members.values()
        ):
            raise BackupError(f"{path} is not an Athar backup (unexpected contents).")
        if members[KEY_MEMBER].size > MAX_KEY_BYTES:
            raise BackupError(f"{path} is not an Athar backup (its key is too large).")
        end = max(m.offset_data + m.size for m in members.values())
        if end > path.stat().st_size:
            raise BackupError(f"{path} is truncated: the file ends before its data does.")
        identity = _unwrap_key(outer.extractfile(members[KEY_MEMBER]).read(), passphrase)
        return _decrypt_payload(outer.extractfile(members[DATA_MEMBER]), identity, staging, check)


@contextmanager
def _open_archive(path: Path) -> Iterator[tarfile.TarFile]:
    """The outer tar, its member list read (which is where a truncated file shows first)."""
    try:
        outer = tarfile.open(path, "r:")  # noqa: SIM115 - closed below
    except (OSError, tarfile.TarError) as error:
        raise BackupError(f"{path} is not an Athar backup, or it is damaged ({error}).") from error
    try:
        try:
            outer.getmembers()
        except (OSError, tarfile.TarError) as error:
            raise BackupError(
                f"{path} is damaged or truncated: its table of contents is unreadable ({error})."
            ) from error
        yield outer
    finally:
        outer.close()


def _unwrap_key(wrapped: bytes, passphrase: str) -> pyrage.x25519.Identity:
    try:
        secret = pyrage.passphrase.decrypt(wrapped, passphrase)
    except pyrage.DecryptError as error:
        raise BackupError("Wrong passphrase, or the backup's key is damaged.") from error
    try:
        return pyrage.x25519.Identity.from_str(secret.decode())
    except (pyrage.IdentityError, UnicodeDecodeError) as error:
        raise BackupError("The backup's key is damaged.") from error


def _decrypt_payload(
    source: IO[bytes],
    identity: pyrage.x25519.Identity,
    staging: Path | None,
    check: Callable[[dict], None],
) -> Contents:
    """Decrypt into a pipe while a second thread unpacks the tar coming out of it."""
    read_end, write_end = os.pipe()
    reader = os.fdopen(read_end, "rb")
    writer = os.fdopen(write_end, "wb", buffering=0)
    outcome: dict[str, Any] = {}

    def unpack() -> None:
        try:
            outcome["contents"] = _unpack(reader, staging, check)
            # Read to the end so the decryption gets to check the file's last chunk.
            while reader.read(CHUNK):
                pass
        except BaseException as error:  # noqa: BLE001 - handed to the main thread
            outcome["error"] = error
        finally:
            reader.close()  # a writer still writing now gets a broken pipe, not a hang

    worker = threading.Thread(target=unpack, name="backup-unpack", daemon=True)
    worker.start()
    decrypt_error: Exception | None = None
    try:
        pyrage.decrypt_io(source, writer, [identity])
    except (pyrage.DecryptError, OSError) as error:
        decrypt_error = error
    finally:
        writer.close()
        worker.join()
    refused = outcome.get("error")
    # A refusal by the unpacking side (wrong backend, odd content) closes the pipe: the
    # decryption then fails on a broken pipe, which is not the story to tell.
    if isinstance(refused, BackupError) and (
        decrypt_error is None or isinstance(decrypt_error, BrokenPipeError)
    ):
        raise refused
    if decrypt_error is not None:
        raise BackupError(
            f"The backup is damaged or truncated: it does not decrypt ({decrypt_error})."
        ) from decrypt_error
    if "error" in outcome:
        raise BackupError(f"The backup's content is damaged ({outcome['error']}).") from outcome[
            "error"
        ]
    return outcome["contents"]


def _unpack(stream: IO[bytes], staging: Path | None, check: Callable[[dict], None]) -> Contents:
    contents: Contents | None = None
    with tarfile.open(fileobj=stream, mode="r|gz") as archive:
        for member in archive:
            if not member.isfile():
                raise BackupError(f"Unexpected entry {member.name!r} in the backup.")
            handle = archive.extractfile(member)
            if contents is None:
                contents = _first(member, handle, check)
                continue
            _take(member, handle, contents, staging)
    if contents is None:
        raise BackupError("The backup is empty.")
    if not contents.has_database:
        database = DATABASE_MEMBERS[contents.manifest["backend"]]
        raise BackupError(f"The backup holds no {database}.")
    return contents


def _first(member: tarfile.TarInfo, handle: IO[bytes], check: Callable[[dict], None]) -> Contents:
    if member.name != MANIFEST or member.size > MAX_MANIFEST_BYTES:
        raise BackupError("The backup does not start with its manifest.")
    try:
        manifest = json.loads(handle.read())
    except ValueError as error:
        raise BackupError("The backup's manifest is not valid JSON.") from error
    check_manifest(manifest)
    check(manifest)
    return Contents(manifest)


def _take(
    member: tarfile.TarInfo, handle: IO[bytes], contents: Contents, staging: Path | None
) -> None:
    name = member.name
    database = DATABASE_MEMBERS[contents.manifest["backend"]]
    if name == database and not contents.has_database:
        contents.has_database = True
        contents.database_bytes = member.size
        if staging is not None:
            contents.database = staging / database
            _save(handle, contents.database)
        return
    stored = name.removeprefix(ATTACHMENTS_PREFIX)
    if name.startswith(ATTACHMENTS_PREFIX) and attachments.STORED_NAME.fullmatch(stored):
        contents.attachment_files += 1
        contents.attachment_bytes += member.size
        if staging is not None:
            contents.attachments = staging / "attachments"
            contents.attachments.mkdir(mode=0o700, exist_ok=True)
            _save(handle, contents.attachments / stored)
        return
    raise BackupError(f"Unexpected entry {name!r} in the backup.")


def _save(handle: IO[bytes], target: Path) -> None:
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        shutil.copyfileobj(handle, out, CHUNK)


def check_manifest(manifest: object) -> None:
    """Refuse a manifest this version cannot restore."""
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("This is not an Athar backup (its manifest is not ours).")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"This backup has format version {manifest.get('format_version')}; this version "
            f"of Athar reads version {FORMAT_VERSION} only."
        )
    if manifest.get("backend") not in DATABASE_MEMBERS:
        raise BackupError("The backup's manifest names no known database.")
    if not isinstance(manifest.get("counts"), dict):
        raise BackupError("The backup's manifest has no row counts.")


def target_check() -> Callable[[dict], None]:
    """A check that refuses a backup the configured database cannot take.

    The facts are read now: the check itself runs in the unpacking thread, outside the app.
    """
    ours, schema = backend(), postgres_schema()

    def check(manifest: dict) -> None:
        if manifest["backend"] != ours:
            raise BackupError(
                f"This backup is of a {_label(manifest['backend'])} database but this "
                f"instance uses {_label(ours)}: nothing was changed. Restore it into an "
                f"instance configured for {_label(manifest['backend'])}."
            )
        if ours == "postgresql" and (manifest.get("schema") or None) != schema:
            raise BackupError(
                f"This backup is of the PostgreSQL schema {manifest.get('schema') or '(all)'} "
                f"but this instance uses {schema or '(all)'}: nothing was changed."
            )

    return check


def _label(kind: str) -> str:
    return {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(kind, kind)


def verify(path: Path, passphrase: str) -> Contents:
    """Decrypt and check the whole backup without writing anything."""
    return read(path, passphrase, staging=None)


# --- restoring ------------------------------------------------------------------------------


def restore(
    path: Path, passphrase: str, confirm: Callable[[dict, list[str]], bool]
) -> Restored | None:
    """Replace the database and the attachments with the backup's; None if not confirmed.

    The backup is decrypted and checked in full first; ``confirm`` then sees its manifest and
    the key warnings. The attachments folder is swapped, then the database replaced in one
    transaction; if the database step fails, the old attachments folder is put back.
    """
    started = time.monotonic()
    folder = attachments.folder_path()
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".athar-restore-", dir=folder.parent))
    try:
        contents = read(path, passphrase, staging, check=target_check())
        warnings = key_warnings(contents.manifest)
        if not confirm(contents.manifest, warnings):
            return None
        incoming = contents.attachments or staging / "attachments"
        incoming.mkdir(mode=0o700, exist_ok=True)
        previous = staging / "previous-attachments"
        if folder.exists():
            os.replace(folder, previous)
        os.replace(incoming, folder)
        try:
            if contents.manifest["backend"] == "sqlite":
                _restore_sqlite(contents.database)
            else:
                _restore_postgres(contents.database)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            if previous.exists():
                os.replace(previous, folder)
            raise
        with db.engine.connect() as connection:
            counts = count_rows(connection)
        # After the restore, so the restored trail records that it was rewound.
        audit.record("backup_restore", item_count=counts.get("cases"), commit=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Restored(
        contents.manifest, counts, contents.attachment_files, time.monotonic() - started, warnings
    )


def _restore_sqlite(copy: Path) -> None:
    """Copy the backup into the live database with SQLite's backup API, in one transaction.

    Unlike renaming a file over the database, this keeps WAL and its shared-memory file
    consistent and is seen by every other connection; a failure leaves the old data.
    """
    db.session.remove()
    db.engine.dispose()
    path = db.engine.url.database
    source = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    target = sqlite3.connect(path, timeout=60)
    try:
        source.backup(target)
    except sqlite3.Error as error:
        raise BackupError(
            f"Restoring the SQLite database failed, nothing changed: {error}"
        ) from error
    finally:
        source.close()
        target.close()


def _restore_postgres(dump: Path) -> None:
    """pg_restore in one transaction: a failure leaves the old data."""
    db.session.remove()
    schema = postgres_schema()
    with db.engine.connect() as connection:
        pg_restore = _pg_tool("pg_restore", connection)
        if schema:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            connection.commit()
    db.engine.dispose()
    command = [pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction"]
    if schema:
        # The schema itself stays: dropping it would fail on any table the dump lacks.
        listing = _run([pg_restore, "--list", str(dump)])
        kept = [line for line in listing.splitlines() if not re.search(r"\bSCHEMA - ", line)]
        list_file = dump.with_suffix(".list")
        list_file.write_text("\n".join(kept) + "\n")
        command.append(f"--use-list={list_file}")
    command.append(str(dump))
    _run(command, connect=True)


def _pg_tool(name: str, connection: Connection) -> str:
    """A pg_dump or pg_restore at least as new as the server (an older one refuses)."""
    server = int(connection.scalar(text("SHOW server_version_num"))) // 10000
    configured = current_app.config.get("BACKUP_PG_BIN")
    candidates = (
        [Path(configured) / name]
        if configured
        else [Path(f"/usr/lib/postgresql/{server}/bin/{name}")]
        + ([Path(found)] if (found := shutil.which(name)) else [])
    )
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            version = _run([str(candidate), "--version"])
            found = re.search(r"(\d+)(?:\.\d+)?", version)
            if found and int(found.group(1)) >= server:
                return str(candidate)
    raise BackupError(
        f"No {name} for PostgreSQL {server} or newer was found (looked in "
        f"{', '.join(str(c) for c in candidates)}). Install postgresql-client-{server} or set "
        "BACKUP_PG_BIN to the folder holding it."
    )


def _run(command: list[str], *, connect: bool = False) -> str:
    """Run a PostgreSQL tool (``connect``: against the configured database); its output.

    Raises BackupError with the tool's own error when it fails.
    """
    # Only what libpq and the locale need: never the app's keys or the backup passphrase.
    env = {
        key: value
        for key, value in os.environ.items()
        if key.startswith(("PG", "LC_")) or key in ("PATH", "HOME", "LANG", "TZ")
    }
    if connect:
        url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
        if url.password:
            env["PGPASSWORD"] = str(url.password)  # not in the arguments, where ps shows them
        libpq = URL.create(
            "postgresql", url.username, None, url.host, url.port, url.database, url.query
        )
        command = [*command, f"--dbname={libpq.render_as_string(hide_password=False)}"]
    # A tool found by _pg_tool, an argument list, no shell.
    result = subprocess.run(  # noqa: S603  # nosec B603
        command, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        # PostgreSQL's DETAIL and CONTEXT lines can quote a row's values: leave them out.
        said = "\n".join(
            line
            for line in result.stderr.strip().splitlines()
            if not line.lstrip().startswith(("DETAIL:", "CONTEXT:"))
        )
        raise BackupError(
            f"{Path(command[0]).name} failed (exit {result.returncode}): {said[-2000:]}"
        )
    return result.stdout
