"""Counted nouns as qrun's messages write them: "1 job", "3 jobs", "1,000 sweep points"."""

from __future__ import annotations


def counted(n: int, noun: str) -> str:
    """`n` and the noun, singular for one ("1 job(s)" read as a form, not a sentence)."""
    return f"{n:,} {noun if n == 1 else noun + 's'}"
