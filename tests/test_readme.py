"""The README's and docs' examples are true as printed: every ```console block is run, as doctests are.

A block holds `$ COMMAND` lines, each followed by its expected output: stdout when the command succeeds, stderr
when it fails (that is where qrun writes errors). `...` matches any text, within a line or (alone on a line) any
number of lines. Commands run in a scratch folder holding copies of experiments/ and docs/, in the order written,
so a later block can read what an earlier one wrote.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

BLOCK = re.compile(r"```console\n(.*?)```", re.S)


PAGES = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
]  # the README's examples first: docs may use its runs


def examples() -> list[tuple[str, list[str]]]:
    out = []
    blocks = [block for page in PAGES for block in BLOCK.findall(page.read_text(encoding="utf-8"))]
    for block in blocks:
        command, expected = None, []
        for line in block.splitlines():
            if line.startswith("$ "):
                if command:
                    out.append((command, expected))
                command, expected = line[2:], []
            else:
                expected.append(line)
        if command:
            out.append((command, expected))
    return out


def matches(expected: list[str], actual: list[str]) -> bool:
    """Line by line; `...` within a line matches any text, a line of just `...` any run of lines."""
    pattern = "\n".join(
        ".*?" if line == "..." else ".*".join(re.escape(p) for p in line.split("...")) for line in expected
    )
    return re.fullmatch(pattern, "\n".join(actual), re.S) is not None


def _scratch(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "experiments", tmp_path / "experiments")
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    return tmp_path


def test_the_readme_has_checked_examples():
    assert len(examples()) >= 5


def test_every_example_prints_what_it_shows_run_in_order(tmp_path):
    """One test, not one per example: a later example reads what an earlier one wrote, and pytest-xdist gave the
    examples of one module to both workers (`qrun list` found no runs in its worker's folder); each failing example
    is reported with its command."""
    scratch = _scratch(tmp_path)
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "COLUMNS": "200",
    }
    failures = []
    for command, expected in examples():
        done = subprocess.run(command, shell=True, cwd=scratch, capture_output=True, text=True, env=env, timeout=300)
        actual = (done.stdout if done.returncode == 0 else done.stderr).rstrip("\n").splitlines()
        if not matches(expected, [line.rstrip() for line in actual]):
            failures.append(
                f"$ {command}\n--- expected\n"
                + "\n".join(expected)
                + f"\n--- actual (exit {done.returncode})\n"
                + "\n".join(actual)
                + "\n--- stderr\n"
                + done.stderr[-2000:]
            )
    assert not failures, "\n\n".join(failures)
