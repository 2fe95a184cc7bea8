"""Names with '-' in a derived value's expression (`final-counts.meas["01"]`, `est.x-field`), read whole.

Python's parser reads `final-counts` as a subtraction, and qrun's own examples name jobs that way. Before parsing,
each such name is swapped for a placeholder identifier, and after it the tree gets the name back, so every later step
(checking, writing out, computing, messages) sees the user's name."""

from __future__ import annotations

import ast
import re
from collections.abc import Collection

# A run of name characters joined by '-', not inside a longer name or a number; a quoted outcome is skipped whole
# ('0-1' is no name). Names with '.' are not read: '.' is the expression's own separator.
_TOKEN = r"""'[^']*'|"[^"]*"|(?<![A-Za-z0-9_])[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)+"""  # compiled where first used
_PLACEHOLDER = "__qrun_name_{}"


def read_whole(text: str, known: Collection[str], operands: Collection[str]) -> tuple[str, dict[str, str]]:
    """The text with each name containing '-' swapped for a placeholder, and the placeholders' names.

    Before a '.', a job's or a derived value's name (`known`) is read whole, the longest that fits (`a-b` is the job
    `a-b` where there is one, and `a - b` with spaces is always a difference). After a '.', an observable's name runs
    on until a '-' is followed by a digit or by something that could be subtracted (`operands`: a job, a derived
    value or a function): `est.x-field` is the observable `x-field`, `est.zz-1` and `est.zz-other.zz` differences."""
    names: dict[str, str] = {}
    out: list[str] = []
    end = 0
    search = re.compile(_TOKEN).search
    match = search(text)
    while match is not None:
        token, at = match.group(), match.start()
        parts = token.split("-")
        if token[0] in "'\"":
            taken = 0
        elif text[:at].rstrip().endswith("."):
            taken = 1
            while taken < len(parts) and not (parts[taken][0].isdigit() or _leads(parts[taken:], operands)):
                taken += 1
        else:
            taken = next((n for n in range(len(parts), 1, -1) if "-".join(parts[:n]) in known), 1)
        if taken > 1:
            name = "-".join(parts[:taken])
            placeholder = _PLACEHOLDER.format(len(names))
            names[placeholder] = name
            out += [text[end:at], placeholder]
            end = at + len(name)
        # what follows the name (or the first part) is read again: `a-b-c` may be the job `a-b` less the job `b-c`
        following = at + (len(token) if taken == 0 else len("-".join(parts[: max(taken, 1)])))
        match = search(text, following)
    return "".join(out) + text[end:], names


def _leads(parts: list[str], operands: Collection[str]) -> bool:
    """Whether the parts begin with something a '-' before them could subtract: a name of `operands`."""
    return any("-".join(parts[:n]) in operands for n in range(1, len(parts) + 1))


def restore(tree: ast.expr, names: dict[str, str]) -> None:
    """Each placeholder in the parsed tree back to the name it stands for."""
    if not names:
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in names:
            node.id = names[node.id]
        elif isinstance(node, ast.Attribute) and node.attr in names:
            node.attr = names[node.attr]
