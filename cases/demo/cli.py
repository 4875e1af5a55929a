"""`flask demo ...`: demo accounts and synthetic cases. Never for a real deployment."""

from __future__ import annotations

import secrets
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from ..auth import services
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
            services.create_user(username, role, password, name)
            lines.append(f"{role.value:<11} {username:<12} {password}")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        path.chmod(0o600)
        from .seed import seed_cases

        seed_cases(cases, seed)
    click.echo("")
    click.echo("Athar DEMO instance (synthetic data) — http://127.0.0.1:5000")
    click.echo("Log in as any of these (role, username, password):")
    click.echo(path.read_text(encoding="utf-8") if path.exists() else "  (see instance/)")


@demo_cli.command("seed")
@click.option("--cases", "count", default=1000, show_default=True, help="How many cases.")
@click.option("--seed", default=1, show_default=True, help="Same seed, same cases.")
def seed(count: int, seed: int) -> None:
    """Add N realistic synthetic cases (deterministic for a seed)."""
    from .seed import seed_cases

    seed_cases(count, seed, progress=True)


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_cli)
