"""`flask audit verify`: check that no audit event was altered or deleted."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from . import services

audit_cli = AppGroup("audit", help="Check the audit trail.")


@audit_cli.command("verify")
def verify() -> None:
    """Recompute every event's hash and link; exit 1 if any row was altered or deleted."""
    report = services.verify()
    if report.ok:
        # The last hash, noted somewhere else, also shows later whether the newest rows went.
        click.echo(f"OK: {report.count} events, chain intact, last hash {report.last_hash}.")
        return
    if report.altered:
        ids = ", ".join(str(i) for i in report.altered)
        click.echo(f"ALTERED: events whose content no longer matches their hash: {ids}", err=True)
    if report.broken_links:
        ids = ", ".join(str(i) for i in report.broken_links)
        click.echo(
            f"BROKEN LINK: events not linked to the row before them (deleted or inserted rows "
            f"before them): {ids}",
            err=True,
        )
    click.echo(f"FAILED: {report.count} events checked.", err=True)
    raise SystemExit(1)
