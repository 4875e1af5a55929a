"""`flask pfif import`, `flask pfif export` and `flask pfif purge-expired`."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select

from ..auth.models import User
from ..extensions import db
from . import pfif
from .services import PfifError, PfifSummary, export_pfif, import_pfif, purge_expired

pfif_cli = AppGroup("pfif", help="Exchange persons and notes as PFIF 1.4 XML.")

# Plain words for the summary's reason codes.
REASONS = {
    "new": "new record",
    "newer": "newer version from the source",
    "kept_staff_edits": "record updated; the case or inquiry was left as staff edited it",
    "unchanged": "already imported, unchanged",
    "older": "not newer than the version already held",
    "expired": "expired (past its expiry date, or purged)",
    "own_record": "our own record: only this repository edits it",
    "no_person": "note about a person that is neither in the file nor imported before",
    "erased": "the person's data was erased here",
    "not_visible": "about a case this account may not work on",
    "invalid": "invalid record",
}


@pfif_cli.command("version")
def version() -> None:
    """Print the PFIF version written."""
    click.echo("1.4")


def _user(username: str, option: str) -> User:
    user = db.session.scalar(select(User).filter_by(username=username))
    if user is None:
        raise click.ClickException(f"No account named {username!r} ({option}).")
    return user


@pfif_cli.command("import")
@click.argument("file", type=click.File("rb"))
@click.option(
    "--into",
    type=click.Choice(["inquiries", "cases"]),
    default="inquiries",
    show_default=True,
    help="Persons become inquiries in the intake queue, or cases.",
)
@click.option("--as", "as_user", required=True, help="Username of the caseworker importing.")
@click.option("--owner", help="Username owning the new cases (with --into cases).")
@click.option("--domain", help="Domain for CSV record ids written without one.")
def import_command(
    file: click.utils.LazyFile, into: str, as_user: str, owner: str | None, domain: str | None
) -> None:
    """Import a PFIF XML (1.1 to 1.4) or Person Finder CSV FILE ('-' reads standard input)."""
    actor = _user(as_user, "--as")
    owner_user = _user(owner, "--owner") if owner else None
    data = file.read(pfif.MAX_BYTES + 1)
    try:
        summary = import_pfif(actor, data, into, owner=owner_user, domain=domain, own_records=True)
    except PfifError as error:
        raise click.ClickException(f"File refused, nothing imported: {_english(error)}") from error
    _print_summary(summary)


def _english(error: Exception) -> str:
    # The operator's terminal reads English, like the other commands.
    with force_locale("en"):
        return str(error)


def _print_summary(summary: PfifSummary) -> None:
    counts = summary.counts()
    click.echo(
        f"created {counts['created']}, updated {counts['updated']}, skipped {counts['skipped']}"
    )
    if summary.restored_columns:
        click.echo(
            "note: the CSV header lacked "
            + ", ".join(summary.restored_columns)
            + "; rows were read in Person Finder's template order"
        )
    for outcome in summary.outcomes:
        if outcome.action == "created":
            continue
        words = REASONS.get(outcome.reason, outcome.reason)
        if outcome.detail:
            words += f" ({outcome.detail})"
        target = f" -> {outcome.target}" if outcome.target else ""
        record = outcome.record_id or "(no id)"
        click.echo(f"{outcome.action} {outcome.kind} {record}{target}: {words}")


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = pfif.parse_time(value)
    if parsed is None:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as error:
            raise click.BadParameter(
                "use a UTC time such as 2025-01-31T00:00:00Z", param_hint="--since"
            ) from error
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


@pfif_cli.command("export")
@click.option("--since", help="Only records entered or changed since this UTC time.")
@click.option(
    "--include-contacts",
    is_flag=True,
    help="Also export family contacts, phones and e-mails (share only under an agreement).",
)
@click.option("-o", "--output", type=click.File("wb"), default="-", help="File (default stdout).")
def export_command(since: str | None, include_contacts: bool, output: click.utils.LazyFile) -> None:
    """Export the cases families agreed to share, and the partner records held, as PFIF 1.4."""
    if include_contacts:
        click.echo(
            "Warning: the export contains contact details of families and partners.", err=True
        )
    try:
        data = export_pfif(None, _since(since), include_contacts)
    except PfifError as error:
        raise click.ClickException(_english(error)) from error
    output.write(data)
    if output is not sys.stdout.buffer:
        output.flush()


@pfif_cli.command("purge-expired")
def purge_expired_command() -> None:
    """Erase stored partner records past their expiry date (a tombstone keeps them out)."""
    result = purge_expired()
    click.echo(f"records purged {result.records}, inquiries erased {result.inquiries}")
