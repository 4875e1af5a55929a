"""`flask retention purge [--dry-run]`: remove personal data past its retention period."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..clock import utcnow
from . import services

retention_cli = AppGroup("retention", help="Retention periods and the purge of personal data.")


def _line(item: services.PurgeItem) -> str:
    return (
        f"{item.object_type:<8} {item.reference:<12} {item.status:<10} "
        f"{item.age_days:>6} days  {item.rule}"
    )


@retention_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="List what would go; change nothing.")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1, max=10_000),
    default=services.BATCH_SIZE,
    show_default=True,
    help="Records per transaction.",
)
def purge(dry_run: bool, batch_size: int) -> None:
    """Anonymise closed cases and erase inquiries past their retention period.

    Cases on legal hold are skipped. Each destruction is recorded (what kind of data, how
    much, never the data itself) and audited.
    """
    now = utcnow()
    if dry_run:
        due = services.due_for_purge(now)
        held = services.held_past_retention(now)
        click.echo(f"{'type':<8} {'reference':<12} {'status':<10} {'age':>11}  reason")
        for item in due:
            click.echo(_line(item))
        for item in held:
            click.echo(_line(item) + "  (legal hold: kept)")
        cases = sum(1 for i in due if i.object_type == "case")
        logins, links = services.purge_staff_records(now, dry_run=True)
        click.echo(f"Staff records: {logins} old login records and {links} spent invitation links.")
        click.echo(
            f"Dry run: would anonymise {cases} cases and erase {len(due) - cases} inquiries "
            f"(more inquiries may go with their cases); {len(held)} kept by legal hold. "
            "Nothing was changed."
        )
        return
    summary = services.purge(now, batch_size=batch_size)
    click.echo(
        f"Purged: {summary.cases} cases anonymised, {summary.inquiries} inquiries erased, "
        f"{len(summary.records)} destruction records written; {summary.held} kept by legal hold."
    )
    click.echo(
        f"Staff records: {summary.staff_sessions} old login records and "
        f"{summary.invitations} spent invitation links deleted."
    )
    # Partner records past their expiry date, and spreadsheets left half-way through an import.
    from ..exchange.services import purge_expired
    from ..imports.services import purge_stale_batches

    partner = purge_expired(now)
    click.echo(
        f"Partner (PFIF) records: {partner.records} expired records emptied, "
        f"{partner.inquiries} untriaged inquiries from them erased."
    )
    click.echo(f"Spreadsheet imports: {purge_stale_batches(now)} stale uploads deleted.")
