"""`flask user ...`: manage staff accounts from the command line."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from ..extensions import db
from . import services
from .models import Role, User

user_cli = AppGroup("user", help="Manage staff accounts.")


@user_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--name", "display_name", default="", help="Name shown to colleagues.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (one line)."
)
def create(username: str, role: str, display_name: str, password_stdin: bool) -> None:
    """Create a staff account."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = services.create_user(username, Role(role), password, display_name)
    except services.AccountError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Created {user.username} ({user.role}).")


@user_cli.command("list")
def list_users() -> None:
    """List staff accounts."""
    for user in db.session.scalars(db.select(User).order_by(User.username)):
        state = "active" if user.active else "disabled"
        click.echo(f"{user.username}\t{user.role}\t{state}\t{user.display_name}")


@user_cli.command("disable")
@click.argument("username")
def disable(username: str) -> None:
    """Disable an account and end its sessions."""
    user = db.session.scalar(db.select(User).filter_by(username=username.strip().lower()))
    if user is None:
        raise click.ClickException(f"No user named {username}.")
    services.set_active(user, False)
    click.echo(f"Disabled {user.username}; their sessions have ended.")


def init_app(app: Flask) -> None:
    app.cli.add_command(user_cli)
