"""``flask api``: API clients from the command line (operators, CI).

The command line acts as the operator (``services.OPERATOR``), who may make a client for any
caseworker or supervisor: whoever runs it holds the database already. The audit trail records
these acts with no actor; on the web, only an account's holder makes its clients.
"""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from ..auth.models import User
from ..clock import utcnow
from ..extensions import db
from . import services
from .models import ApiClient, Scope

api_cli = AppGroup("api", help="API clients (tokens for partner tools).")


@api_cli.command("create-client")
@click.option("--user", "username", required=True, help="The caseworker or supervisor it acts as.")
@click.option(
    "--scopes", default="read", show_default=True, help="Comma-separated: read,write,pfif"
)
@click.option("--name", default=None, help="What the client is (default: the username).")
@click.option("--expires-days", type=click.IntRange(1, 3650), default=None)
def create_client(username: str, scopes: str, name: str | None, expires_days: int | None) -> None:
    """Create a client and print its token (shown this once)."""
    user = db.session.scalar(select(User).filter_by(username=username))
    if user is None:
        raise click.ClickException(f"No account named {username}.")
    wanted = [s.strip() for s in scopes.split(",") if s.strip()]
    unknown = sorted(set(wanted) - {s.value for s in Scope})
    if unknown:
        raise click.ClickException(f"Unknown scopes: {', '.join(unknown)}")
    expires = utcnow() + timedelta(days=expires_days) if expires_days else None
    try:
        _client, token = services.create_client(
            services.OPERATOR, user, name or username, wanted, expires
        )
    except services.ApiClientError as error:
        raise click.ClickException(str(error)) from error
    click.echo(token)


@api_cli.command("list")
def list_clients() -> None:
    """Every client: id, state, prefix, account, scopes, name."""
    for client in services.clients():
        click.echo(
            f"{client.id}\t{client.state()}\t{client.token_prefix}…\t{client.user.username}\t"
            f"{client.scopes}\t{client.name}"
        )


@api_cli.command("revoke")
@click.argument("client_id", type=int)
def revoke(client_id: int) -> None:
    """Stop a client's token at once."""
    client = db.session.get(ApiClient, client_id)
    if client is None:
        raise click.ClickException(f"No client {client_id}.")
    try:
        services.revoke_client(services.OPERATOR, client)
    except services.ApiClientError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Client {client_id} revoked.")


def init_app(app: Flask) -> None:
    app.cli.add_command(api_cli)
