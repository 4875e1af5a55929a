"""`flask user ...`: manage staff accounts from the command line."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from ..extensions import db
from . import invitations, services
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


@user_cli.command("invite")
@click.argument("username")
@click.option(
    "--base-url",
    default="http://127.0.0.1:5000",
    show_default=True,
    help="Address of Athar as the person will open it.",
)
def invite(username: str, base_url: str) -> None:
    """Print a one-time link with which USERNAME sets a new password.

    The current password stops working, every session of the account ends and earlier links
    that were not used stop working. The link is printed once and never stored.
    """
    if not base_url.startswith(("http://", "https://")):
        raise click.BadParameter("must start with http:// or https://", param_hint="--base-url")
    user = _find(username)
    if not user.active:
        raise click.ClickException(f"{user.username} is disabled: a link would not work.")
    token = invitations.reset_by_invitation(None, user)
    path = current_app.url_map.bind("localhost").build("auth.accept_invitation", {"token": token})
    hours = current_app.config["INVITATION_HOURS"]
    click.echo(f"Invitation for {user.username}, valid once for {hours} hours:")
    click.echo(base_url.rstrip("/") + path)


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
    user = _find(username)
    services.set_active(user, False)
    click.echo(f"Disabled {user.username}; their sessions have ended.")


def _find(username: str) -> User:
    user = db.session.scalar(db.select(User).filter_by(username=username.strip().lower()))
    if user is None:
        raise click.ClickException(f"No user named {username}.")
    return user


def init_app(app: Flask) -> None:
    app.cli.add_command(user_cli)
