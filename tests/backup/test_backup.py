"""`flask backup create|verify|restore`, on SQLite and (with TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from cases.attachments import services as attachments
from cases.attachments.models import Attachment
from cases.audit.models import AuditEvent
from cases.audit.services import verify as verify_chain
from cases.backup import services
from cases.casework import services as casework
from cases.casework.models import Case, FamilyContact
from cases.crypto import new_key
from cases.extensions import db
from tests.factories import make_case

from .conftest import PASSPHRASE, everything, files, photo


def _folder(app) -> Path:  # noqa: ANN001
    return Path(app.config["ATTACHMENT_FOLDER"])


def _create(runner, path: Path):  # noqa: ANN001, ANN202
    result = runner.invoke(args=["backup", "create", "--output", str(path)])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def filled(caseworker):  # noqa: ANN001, ANN201
    """Two cases with notes, family phones and a photo."""
    case = make_case(caseworker)
    casework.add_note(caseworker, case, "اتصلت العائلة اليوم")
    casework.add_note(caseworker, case, "Second note")
    clean = photo()
    attachment = attachments.add_to_case(caseworker, case, clean, "صورة الهوية")
    other = make_case(caseworker, given_name="علي")
    return case, other, attachment, clean.content


def test_restore_brings_back_exactly_what_was_backed_up(
    app, runner, caseworker, filled, tmp_path
) -> None:
    case, other, attachment, content = filled
    attachment_id = attachment.id
    before, before_files = everything(), files(_folder(app))
    assert len(before_files) == 1
    backup = tmp_path / "b.tar"
    created = _create(runner, backup)
    assert "1 attachment files" in created.output
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    last = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    assert (last.action, last.item_count) == ("backup_create", 2)

    # After the backup: a note added, the photo removed (its file deleted), a case deleted.
    casework.add_note(caseworker, case, "after the backup")
    attachments.remove(caseworker, case, attachment)
    db.session.delete(db.session.get(Case, other.id))
    db.session.commit()
    assert everything() != before and files(_folder(app)) == {}

    result = runner.invoke(args=["backup", "restore", str(backup), "--yes"])
    assert result.exit_code == 0, result.output
    assert "MISMATCH" not in result.output
    after = everything()
    # The trail as it was when the backup was taken, then the restore itself, on the chain.
    restored_trail = after.pop("audit_events")
    assert restored_trail[:-1] == before.pop("audit_events")
    assert restored_trail[-1][4] == "backup_restore"
    assert after == before
    assert verify_chain().ok
    assert files(_folder(app)) == before_files
    assert attachments.read_content(db.session.get(Attachment, attachment_id)) == content
    phones = db.session.scalars(select(FamilyContact.phone_e164)).all()
    assert phones == ["+9647701234567", "+9647701234567"]
    assert stat.S_IMODE(_folder(app).stat().st_mode) == 0o700


def test_verify_reads_the_whole_backup_and_changes_nothing(app, runner, filled, tmp_path) -> None:
    backup = tmp_path / "b.tar"
    _create(runner, backup)
    before = everything()
    result = runner.invoke(args=["backup", "verify", str(backup)])
    assert result.exit_code == 0, result.output
    assert "cases 2, case_notes 2" in result.output
    assert "1 attachment files" in result.output and result.output.count("OK:") == 1
    assert everything() == before


def _broken(backup: Path, how: str) -> None:
    data = bytearray(backup.read_bytes())
    if how == "truncated":
        backup.write_bytes(data[: len(data) // 2])
    elif how == "cut at the end":
        backup.write_bytes(data[:-2500])
    else:  # one byte changed in the middle of the encrypted data
        data[len(data) // 2] ^= 0x01
        backup.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["truncated", "cut at the end", "tampered"])
def test_a_damaged_backup_is_refused_and_changes_nothing(
    app, runner, caseworker, filled, tmp_path, how
) -> None:
    backup = tmp_path / "b.tar"
    _create(runner, backup)
    casework.add_note(caseworker, filled[0], "after the backup")
    before, before_files = everything(), files(_folder(app))
    _broken(backup, how)
    for command in (["verify", str(backup)], ["restore", str(backup), "--yes"]):
        result = runner.invoke(args=["backup", *command])
        assert result.exit_code == 1, result.output
        assert "damaged" in result.output or "truncated" in result.output
    assert everything() == before and files(_folder(app)) == before_files


def test_a_wrong_passphrase_is_refused_and_changes_nothing(
    app, runner, caseworker, filled, tmp_path, monkeypatch
) -> None:
    backup = tmp_path / "b.tar"
    _create(runner, backup)
    casework.add_note(caseworker, filled[0], "after the backup")
    before, before_files = everything(), files(_folder(app))
    monkeypatch.setenv("ATHAR_BACKUP_PASSPHRASE", "sixty violet tundra walrus ample")
    result = runner.invoke(args=["backup", "restore", str(backup), "--yes"])
    assert result.exit_code == 1
    assert "Wrong passphrase" in result.output
    assert everything() == before and files(_folder(app)) == before_files


def test_a_backup_of_the_other_database_kind_is_refused(app, runner, filled, tmp_path) -> None:
    ours = db.engine.dialect.name
    other = "postgresql" if ours == "sqlite" else "sqlite"
    manifest = {
        "format": services.FORMAT,
        "format_version": services.FORMAT_VERSION,
        "created_at": "2026-01-01T00:00:00+00:00",
        "backend": other,
        "schema": None,
        "counts": {"cases": 0},
    }
    dump = tmp_path / "dump"
    dump.write_bytes(b"not restored")
    backup = tmp_path / "other.tar"
    services._write_archive(backup, PASSPHRASE, services._payload(manifest, dump, []))
    before, before_files = everything(), files(_folder(app))

    result = runner.invoke(args=["backup", "restore", str(backup), "--yes"])
    assert result.exit_code == 1
    labels = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    assert (
        f"This backup is of a {labels[other]} database but this instance uses {labels[ours]}: "
        "nothing was changed." in result.output
    )
    assert everything() == before and files(_folder(app)) == before_files


@pytest.mark.parametrize(
    ("passphrase", "reason"),
    [
        ("", "empty"),
        ("Tr0ub4dor&3", "too short"),
        ("password password password", "too weak"),
        ("aaaaaaaaaaaaaaaaaaaa", "too weak"),
    ],
)
def test_weak_passphrases_are_refused(
    app, runner, tmp_path, monkeypatch, passphrase, reason
) -> None:
    monkeypatch.setenv("ATHAR_BACKUP_PASSPHRASE", passphrase)
    result = runner.invoke(args=["backup", "create", "--output", str(tmp_path / "b.tar")])
    assert result.exit_code == 1
    assert reason in result.output
    assert list(tmp_path.glob("*b.tar*")) == []


def test_the_prompt_asks_twice_and_never_echoes(app, runner, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("ATHAR_BACKUP_PASSPHRASE")
    backup = tmp_path / "b.tar"
    different = runner.invoke(
        args=["backup", "create", "--output", str(backup)], input=f"{PASSPHRASE}\nother\n"
    )
    assert different.exit_code != 0 and not backup.exists()
    result = runner.invoke(
        args=["backup", "create", "--output", str(backup)], input=f"{PASSPHRASE}\n{PASSPHRASE}\n"
    )
    assert result.exit_code == 0, result.output
    assert PASSPHRASE not in result.output
    verified = runner.invoke(args=["backup", "verify", str(backup)], input=f"{PASSPHRASE}\n")
    assert verified.exit_code == 0, verified.output


def test_restore_asks_first_and_a_no_changes_nothing(
    app, runner, caseworker, filled, tmp_path
) -> None:
    backup = tmp_path / "b.tar"
    _create(runner, backup)
    casework.add_note(caseworker, filled[0], "after the backup")
    before = everything()
    result = runner.invoke(args=["backup", "restore", str(backup)], input="n\n")
    assert result.exit_code == 1
    assert "Replace ALL current data" in result.output
    assert "nothing was changed" in result.output
    assert everything() == before


def test_restore_warns_when_this_instance_has_other_keys(app, runner, filled, tmp_path) -> None:
    backup = tmp_path / "b.tar"
    _create(runner, backup)
    app.config["DATA_KEYS"] = [new_key()]
    app.config["LOOKUP_KEY"] = "another-lookup-key-of-at-least-32-characters"
    result = runner.invoke(args=["backup", "restore", str(backup)], input="n\n")
    assert "1 of the backup's 1 data key(s) are not in this instance's DATA_KEYS" in result.output
    assert "LOOKUP_KEY differs" in result.output


def test_the_default_file_is_private_and_holds_no_keys(app, runner, filled, tmp_path) -> None:
    result = runner.invoke(args=["backup", "create"])
    assert result.exit_code == 0, result.output
    folder = Path(app.instance_path) / "backups"
    [backup] = list(folder.iterdir())
    assert backup.name.startswith("athar-") and backup.name.endswith("Z.tar")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600

    staging = tmp_path / "staging"
    staging.mkdir()
    contents = services.read(backup, PASSPHRASE, staging)
    plain = json.dumps(contents.manifest).encode() + contents.database.read_bytes()
    for secret in (*app.config["DATA_KEYS"], app.config["LOOKUP_KEY"], app.config["SECRET_KEY"]):
        assert secret.encode() not in plain
    assert contents.manifest["counts"]["cases"] == 2
    assert contents.manifest["key_fingerprints"] == services.key_fingerprints()


def test_a_backup_that_fails_midway_leaves_no_file(
    app, runner, filled, tmp_path, monkeypatch
) -> None:
    def failing(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        yield b"x" * 100_000
        raise OSError("disk full")

    monkeypatch.setattr(services, "_tar_stream", failing)
    backup = tmp_path / "out" / "b.tar"
    result = runner.invoke(args=["backup", "create", "--output", str(backup)])
    assert result.exit_code == 1
    assert "disk full" in result.output
    assert list(backup.parent.iterdir()) == []


def test_postgres_tools_get_a_libpq_url_and_the_password_only_in_the_environment(
    app, monkeypatch
) -> None:
    seen = {}

    class Done:
        returncode, stdout, stderr = 0, "", ""

    def run(command, env, **kwargs):  # noqa: ANN001, ANN003, ANN202
        seen.update(command=command, env=env)
        return Done()

    monkeypatch.setattr(services.subprocess, "run", run)
    app.config["SQLALCHEMY_DATABASE_URI"] = (
        "postgresql+psycopg://athar:s3cret@db.internal:5433/prod"
    )
    services._run(["pg_dump", "--format=custom"], connect=True)
    assert seen["command"][-1] == "--dbname=postgresql://athar@db.internal:5433/prod"
    assert not any("s3cret" in part for part in seen["command"])
    assert seen["env"]["PGPASSWORD"] == "s3cret"


@pytest.mark.parametrize(
    ("options", "schema"),
    [
        ("-csearch_path=t_backup_gw0", "t_backup_gw0"),
        ("-c search_path=athar,public", "athar"),
        ("-c statement_timeout=5000", None),
        (None, None),
    ],
)
def test_the_schema_comes_from_the_search_path_option(app, options, schema) -> None:
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = (
        {"connect_args": {"options": options}} if options else {}
    )
    assert services.postgres_schema() == schema
