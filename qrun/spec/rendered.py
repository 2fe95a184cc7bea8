"""Where a line of a template's rendered text comes from in the template: a problem found in the rendered spec is
located in the file a user opens, not in text only `qrun render` shows."""

from __future__ import annotations

from dataclasses import replace

from ..errors import SpecError


class Lines:
    """The rendered text's lines matched to the template's (difflib's longest matching blocks): a line the template
    wrote as it is, or changed only within itself (`{{ x }}`), is its own template line; a line a block wrote (a
    `{% for %}` body, an `{% if %}`) is that block's first line, its column unknown."""

    def __init__(self, source: str, text: str) -> None:
        import difflib  # only a template's spec with a problem: not on the way to every run

        matcher = difflib.SequenceMatcher(None, source.splitlines(), text.splitlines(), autojunk=False)
        self.opcodes = matcher.get_opcodes()

    def place(self, line: int, col: int) -> tuple[int, int, bool]:
        """(line, column) in the template of a rendered (line, column), both 1-based, and whether it is that line's
        own place (False: the block's first line, column 0)."""
        at = line - 1
        for tag, i1, i2, j1, j2 in self.opcodes:
            if j1 <= at < j2:
                if tag == "equal" or i2 - i1 == j2 - j1:
                    return i1 + at - j1 + 1, col, True
                return max(i1 + (i2 > i1), 1), 0, False
        return line, col, True


def located(lines: Lines, line: int, col: int, message: str) -> tuple[int, int, str]:
    """A problem's place in the template, and its message, which names the rendered line where the template's line
    is a block's."""
    at, column, own = lines.place(line, col)
    return (at, column, message) if own else (at, column, f"{message} (line {line} of the rendered text)")


def as_rendered(error: SpecError, source: str, text: str) -> SpecError:
    """A template's YAML error, located in the template: where the rendered line is not the template's line as written,
    the error quotes it as rendered (near the column), since the file shows only the template."""
    problems = []
    lines = Lines(source, text)
    rendered_lines, written_lines = text.splitlines(), source.splitlines()
    for p in error.problems:
        rendered = rendered_lines[p.line - 1] if 0 < p.line <= len(rendered_lines) else None
        if p.line > len(rendered_lines):  # the text's end (an unclosed bracket): the template's end
            problems.append(replace(p, line=len(written_lines) + p.line - len(rendered_lines)))
            continue
        if p.path or rendered is None:
            problems.append(p)
            continue
        line, col, own = lines.place(p.line, p.col)
        if own and 0 < line <= len(written_lines) and written_lines[line - 1] == rendered:
            problems.append(replace(p, line=line, col=col))  # the template's line as written: nothing to quote
            continue
        start = max(0, p.col - 1 - 50)
        near = ("…" if start else "") + rendered[start : p.col - 1 + 30] + ("…" if len(rendered) > p.col + 29 else "")
        problems.append(
            replace(p, line=line, col=col, message=f"{p.message}; line {p.line} as rendered: {near.strip()}")
        )
    return SpecError(problems)
