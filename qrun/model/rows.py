"""A long table's rows as the views show them by default: its first and last rows, and how many are left out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TypeVar

Row = TypeVar("Row")

# Rows of a long table shown by default: its start, and its end (where a plan's running total ends). Nobody reads
# 10,000 rows, and rich lays out every row it is given, which at 10,000 jobs was most of `qrun plan`'s time.
HEAD, TAIL = 15, 10


def elided(rows: Sequence[Row], all_rows: bool = False) -> tuple[list[Row], int]:
    """`rows`, or, where there are more than HEAD + TAIL + 1 of them and not all_rows, their first HEAD and last TAIL;
    and how many were left out, which belong after the first HEAD (0: none)."""
    if all_rows or len(rows) <= HEAD + TAIL + 1:
        return list(rows), 0
    return [*rows[:HEAD], *rows[-TAIL:]], len(rows) - HEAD - TAIL


def tally(states: Iterable[str]) -> str:
    """How many of each state, in the order they first come: "9,990 done, 10 failed"."""
    return ", ".join(f"{n:,} {state}" for state, n in Counter(states).items())
