"""`flask pfif export` and `flask pfif import` (being built: issue 7)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

pfif_cli = AppGroup("pfif", help="Exchange persons and notes as PFIF 1.4 XML.")


@pfif_cli.command("version")
def version() -> None:
    """Print the PFIF version written."""
    click.echo("1.4")
