"""Backups are written to a fresh folder per test; attachments live in one too."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import select

from cases.attachments import services as attachments
from cases.extensions import db

PASSPHRASE = "ample walrus tundra violet sixty"


@pytest.fixture(autouse=True)
def backup_app(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    app.config["ATTACHMENT_FOLDER"] = str(tmp_path / "attachments")
    monkeypatch.setenv("ATHAR_BACKUP_PASSPHRASE", PASSPHRASE)
    instance = app.instance_path
    app.instance_path = str(tmp_path / "instance")
    yield app
    app.instance_path = instance


def photo(colour: tuple[int, int, int] = (200, 30, 30)) -> attachments.CleanFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(buffer, "PNG")
    buffer.seek(0)
    return attachments.clean_upload(buffer, "photo.png")


def everything() -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order (encrypted columns decrypted)."""
    db.session.expire_all()
    return {
        table.name: [
            tuple(row)
            for row in db.session.execute(select(table).order_by(*table.primary_key.columns))
        ]
        for table in db.metadata.sorted_tables
    }


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.is_dir() else {}
