"""`flask backup create|verify|restore`: encrypted backups (docs/backup.md).

The passphrase comes from the ATHAR_BACKUP_PASSPHRASE environment variable (for cron) or a
hidden prompt, never from the command line, where `ps` and shell history would show it.
Output is operator-facing: counts, sizes and times, never a value from the data.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import click
from flask.cli import AppGroup

from . import services
from .services import PASSPHRASE_ENV, BackupError


@click.group("backup", cls=AppGroup)
def backup_cli() -> None:
    """Encrypted backups of the database and the attachments."""
    # A stop from systemd or a shutdown (SIGTERM) ends like an error: the temporary folders
    # holding a plain copy of the database are removed on the way out.
    signal.signal(signal.SIGTERM, _exit)


def _exit(_signum: int, _frame: object) -> None:
    raise SystemExit(143)


# The tables whose counts a summary shows; every table is compared after a restore.
SUMMARY_TABLES = ("cases", "case_notes", "inquiries", "attachments", "users", "audit_events")


def _passphrase(confirm: bool) -> str:
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env is not None:
        return from_env
    return click.prompt(
        "Backup passphrase", hide_input=True, confirmation_prompt=confirm, show_default=False
    )


def _mb(size: int) -> str:
    return f"{size / 2**20:,.1f} MB"


def _describe(manifest: dict) -> None:
    counts = manifest["counts"]
    click.echo(
        f"Backup of {manifest['created_at']}: {manifest['backend']}"
        + (f" (schema {manifest['schema']})" if manifest.get("schema") else "")
        + f", migration {manifest.get('alembic_revision') or '(none)'}, "
        f"Athar {manifest.get('app_version')}"
    )
    click.echo(
        "  " + ", ".join(f"{name} {counts[name]:,}" for name in SUMMARY_TABLES if name in counts)
    )


@backup_cli.command("create")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the backup [default: <instance>/backups/athar-<UTC time>.tar].",
)
def create(output: Path | None) -> None:
    """Back up the database and the attachments, encrypted with a passphrase.

    The app may keep running. The encryption keys (DATA_KEYS, LOOKUP_KEY) and SECRET_KEY are
    not in the backup: keep them separately, a restore needs them and the passphrase.
    """
    passphrase = _passphrase(confirm=True)
    try:
        created = services.create(passphrase, output)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"Wrote {created.path} ({_mb(created.size)}, {created.attachment_files:,} attachment "
        f"files) in {created.seconds:.1f} s."
    )
    _describe(created.manifest)


@backup_cli.command("verify")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify(path: Path) -> None:
    """Decrypt a backup in full and check it; changes nothing."""
    try:
        contents = services.verify(path, _passphrase(confirm=False))
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    _describe(contents.manifest)
    click.echo(
        f"OK: database {_mb(contents.database_bytes)}, {contents.attachment_files:,} attachment "
        f"files ({_mb(contents.attachment_bytes)}); the whole file decrypts and is intact."
    )
    for warning in services.key_warnings(contents.manifest):
        click.echo(f"Warning: {warning}", err=True)


@backup_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the current data without asking.")
def restore(path: Path, yes: bool) -> None:
    """Replace ALL current data and attachments with a backup's.

    The backup is decrypted and checked in full before anything changes; a wrong passphrase, a
    damaged file or a backup of another kind of database changes nothing.
    """
    passphrase = _passphrase(confirm=False)

    def confirm(manifest: dict, warnings: list[str]) -> bool:
        _describe(manifest)
        for warning in warnings:
            click.echo(f"Warning: {warning}", err=True)
        return yes or click.confirm(
            "Replace ALL current data and attachments with this backup?", default=False
        )

    try:
        restored = services.restore(path, passphrase, confirm)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    if restored is None:
        raise click.ClickException("Restore cancelled: nothing was changed.")
    expected = restored.manifest["counts"]
    click.echo(
        f"Restored in {restored.seconds:.1f} s: {restored.attachment_files:,} attachment files."
    )
    click.echo(f"  {'table':<22} {'in backup':>12} {'now':>12}")
    for name in sorted(set(expected) | set(restored.counts_after)):
        mark = "" if name not in restored.mismatches else "  MISMATCH"
        click.echo(
            f"  {name:<22} {expected.get(name, '-'):>12} {restored.counts_after.get(name, '-'):>12}"
            + mark
        )
    if restored.mismatches:
        raise click.ClickException("Row counts differ from the backup's: see MISMATCH above.")
    click.echo("If this release has newer migrations than the backup, run `flask db upgrade` now.")
