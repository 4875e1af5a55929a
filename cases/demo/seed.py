"""Synthetic cases (placeholder until the generator lands)."""

from __future__ import annotations


def seed_cases(count: int, seed: int, progress: bool = False) -> int:
    return 0
