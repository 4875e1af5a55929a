"""`flask demo ...`: demo accounts and synthetic cases. Never for a real deployment."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import click
import pyotp
from flask import Flask, current_app
from flask.cli import AppGroup

from ..auth import services, totp
from ..auth.models import Role, User
from ..extensions import db

demo_cli = AppGroup("demo", help="Demo accounts and synthetic data.")

DEMO_ACCOUNTS = (
    ("caseworker", Role.CASEWORKER, "Demo caseworker — زينب (تجريبي)"),
    ("caseworker2", Role.CASEWORKER, "Demo caseworker — علي (تجريبي)"),
    ("supervisor", Role.SUPERVISOR, "Demo supervisor — مريم (تجريبي)"),
    ("supervisor2", Role.SUPERVISOR, "Demo supervisor — حسن (تجريبي)"),
    ("admin", Role.ADMIN, "Demo admin (تجريبي)"),
)


def credentials_file() -> Path:
    return Path(current_app.instance_path) / "demo-credentials.txt"


@demo_cli.command("init")
@click.option("--cases", default=300, show_default=True, help="Synthetic cases to create.")
@click.option("--seed", default=7, show_default=True)
def init(cases: int, seed: int) -> None:
    """Create demo accounts (random passwords) and synthetic cases, once."""
    if not current_app.config.get("DEMO"):
        raise click.ClickException(
            "DEMO is not set in instance/config.py: refusing to add demo accounts."
        )
    path = credentials_file()
    if db.session.scalar(db.select(User.id).limit(1)) is None:
        lines = []
        for username, role, name in DEMO_ACCOUNTS:
            password = "-".join(secrets.token_hex(3) for _ in range(4))
            user = services.create_user(username, role, password, name)
            line = f"{role.value:<11} {username:<12} {password}"
            if totp.required_for(user):
                line += f"   two-factor key {_enrol(user, password)}"
            lines.append(line)
        lines.append(
            "Supervisors and admins need a code: add the key to an authenticator app, "
            "or run `.venv/bin/flask demo code USERNAME`."
        )
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        path.chmod(0o600)
        from .seed import seed_cases

        seed_cases(cases, seed)
    click.echo("")
    click.echo("Athar DEMO instance (synthetic data) — http://127.0.0.1:5000")
    click.echo("Log in as any of these (role, username, password):")
    click.echo(path.read_text(encoding="utf-8") if path.exists() else "  (see instance/)")


def _enrol(user: User, password: str) -> str:
    """Two-factor authentication for a demo account; returns the key, for the credentials file.

    Enrolled with a code from a minute ago, so the first login's code is not taken as a replay.
    """
    secret = totp.new_secret()
    earlier = time.time() - 60
    totp.enable(user, secret, password, pyotp.TOTP(secret).at(earlier), now=earlier)
    return totp.grouped(secret)


@demo_cli.command("code")
@click.argument("username")
def code(username: str) -> None:
    """Print the current two-factor code of a DEMO account (instead of an authenticator app)."""
    if not current_app.config.get("DEMO"):
        raise click.ClickException("Only on a DEMO instance.")
    user = db.session.scalar(db.select(User).filter_by(username=username.strip().lower()))
    if user is None or not user.totp_secret:
        raise click.ClickException(f"{username}: no such account with two-factor authentication.")
    click.echo(pyotp.TOTP(user.totp_secret).now())


@demo_cli.command("seed")
@click.option("--cases", "count", default=1000, show_default=True, help="How many cases.")
@click.option("--seed", default=1, show_default=True, help="Same seed, same cases.")
def seed(count: int, seed: int) -> None:
    """Add N realistic synthetic cases (deterministic for a seed)."""
    from .seed import seed_cases

    seed_cases(count, seed, progress=True)


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_cli)
