"""A spec's parsed values are kept by its text's hash (spec/parsecache.py): read back exactly, or parsed again."""

import json
import os
import subprocess
import sys

import pytest
import yaml

from qrun.spec import parsecache
from qrun.spec.marks import plain_yaml


def full(text: str) -> object:
    return yaml.load(text, Loader=yaml.CSafeLoader)  # safe_load's values, by libyaml (the test's own spec is big)


def big_spec(extra: str = "") -> str:
    """A spec of about 100 KiB: every kind of plain scalar, and as many jobs as that takes."""
    head = (
        "version: 1\nname: big\nbackend: aer\nmax_time: 2h 30m\n"
        "options: {seed: 7, default_precision: 0.1, flag: true, nothing: null, tiny: 1.0e-9, neg: -0.0, a_string: 1e400}\n"
        "circuits:\n  c: {library: real_amplitudes, args: {num_qubits: 2, reps: 1}}\n"
        "observables:\n  z: ZI\n" + extra + "jobs:\n"
    )
    line = (
        "  - {{name: j{k}, primitive: estimator, circuit: c, observables: [z], "
        "parameter_values: [[0.1, 2, -3, 4.0e-2]]}}\n"
    )
    text = head + "".join(line.format(k=k) for k in range(1100))
    return text


def test_a_big_spec_is_read_from_the_cache_the_second_time_with_the_values_yaml_gives():
    text = big_spec()
    first = plain_yaml(text)
    assert first == full(text)
    (entry,) = parsecache.folder().glob("*.json")
    assert plain_yaml(text) == first
    # the entry is what the second read returned: a changed entry is read as it stands (the folder is the user's)
    stored = json.loads(entry.read_text())
    stored["name"] = "from-the-cache"
    entry.write_text(json.dumps(stored))
    assert plain_yaml(text)["name"] == "from-the-cache"
    assert plain_yaml(text + "# another text\n")["name"] == "big"  # another text: another entry


def test_values_json_cannot_give_back_are_not_stored_and_still_parse_right():
    kinds = (
        "{when: 2026-12-03}",
        "{1: one}",
        "{true: yes}",
        "{x: .nan}",
        "{x: -.inf}",
        "{x: 123456789012345678901234}",
    )
    for extra in (f"vars: {k}\n" for k in kinds):
        text = big_spec(extra)
        values = plain_yaml(text)
        expected = full(text)
        assert json.dumps(values["vars"], default=str) == json.dumps(expected["vars"], default=str)
        assert list(parsecache.folder().glob("*.json")) == []


def test_a_small_spec_is_kept_too_and_read_back_without_pyyaml(tmp_path):
    """PyYAML's import costs more than a small spec's parse: a spec read before is read back without executing it
    (qrun imports it on first use, spec/source.py)."""
    from conftest import EXPERIMENTS

    code = (
        "import sys\n"
        "from qrun.spec import load\n"
        f"spec = load({str(EXPERIMENTS / 'bell.yaml')!r})\n"
        "print(spec.data['name'], 'yaml.reader' in sys.modules)\n"
    )
    env = {**os.environ, "QRUN_CACHE_DIR": str(tmp_path)}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env) for _ in range(2)]
    assert [(r.returncode, r.stdout, r.stderr) for r in runs] == [(0, "bell True\n", ""), (0, "bell False\n", "")]
    assert plain_yaml("version: 1\nname: small\n") == {"version": 1, "name": "small"}
    assert len(list(parsecache.folder().glob("*.json"))) == 1


@pytest.mark.parametrize("damage", ["not json", "directory", "fifo"])
def test_an_unreadable_entry_is_a_miss_and_the_text_is_parsed_again(damage):
    text = big_spec()
    expected = plain_yaml(text)
    (entry,) = parsecache.folder().glob("*.json")
    entry.unlink()
    if damage == "not json":
        entry.write_text('{"version": 1, "name": ')
    elif damage == "directory":
        entry.mkdir()
    else:
        import os

        os.mkfifo(entry)  # a read of a FIFO would block: it is no regular file, so no cache entry
    assert plain_yaml(text) == expected


def test_an_unwritable_cache_folder_only_costs_the_parse(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("QRUN_CACHE_DIR", str(blocker))  # the cache's folder would be under a file
    text = big_spec()
    assert plain_yaml(text) == full(text)


def test_the_least_recently_used_entries_go_past_keep(monkeypatch):
    monkeypatch.setattr(parsecache, "KEEP", 2)
    texts = [big_spec(f"description: text {k}\n") for k in range(3)]
    for text in texts:
        plain_yaml(text)
    assert len(list(parsecache.folder().glob("*.json"))) == 2
    assert plain_yaml(texts[0])["description"] == "text 0"  # evicted, so parsed again (and kept again)
    assert len(list(parsecache.folder().glob("*.json"))) == 2
