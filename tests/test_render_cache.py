"""A template's render is kept by the hash of its source, variables and renderer (spec/rendercache.py): read back
without Jinja2, or rendered again."""

import datetime
import json
import subprocess
import sys

import pytest

from qrun.errors import SpecError, UsageError
from qrun.spec import rendercache, template
from qrun.spec.template import Scalar, render

SOURCE = "name: t\nn: {{ n }}\nlabel: {{ label }}\n"


def entries() -> list:
    return sorted(rendercache.folder().glob("*.json"))


def test_a_render_is_read_back_the_second_time_and_a_changed_entry_shows_through():
    variables = {"n": 3, "label": "x"}
    assert render("s.yaml", SOURCE, variables) == ("name: t\nn: 3\nlabel: x\n", {"n", "label"})
    (entry,) = entries()
    assert json.loads(entry.read_text()) == {"text": "name: t\nn: 3\nlabel: x\n", "used": ["label", "n"]}
    entry.write_text(json.dumps({"text": "name: from-the-cache\n", "used": ["label", "n"]}))
    assert render("s.yaml", SOURCE, variables) == ("name: from-the-cache\n", {"n", "label"})
    # another value, type or source is another entry
    assert render("s.yaml", SOURCE, {"n": 3.0, "label": "x"})[0] == "name: t\nn: 3.0\nlabel: x\n"
    assert render("s.yaml", SOURCE, {"n": 3, "label": Scalar("x: y")})[0] == 'name: t\nn: 3\nlabel: "x: y"\n'
    assert render("s.yaml", SOURCE, {"n": 3, "label": "x: y"})[0] == "name: t\nn: 3\nlabel: x: y\n"
    assert render("s.yaml", SOURCE + "# more\n", variables)[0] == "name: t\nn: 3\nlabel: x\n# more\n"
    assert len(entries()) == 5


def test_a_command_that_renders_a_stored_template_does_not_import_jinja2(tmp_path):
    spec = tmp_path / "t.yaml"
    spec.write_text("vars: {n: 2}\nname: t-{{ n }}\n")
    code = f"import sys\nfrom qrun.spec import load\nprint(load({str(spec)!r}).data['name'], 'jinja2' in sys.modules)\n"
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True) for _ in range(2)]
    assert [(r.returncode, r.stdout, r.stderr) for r in runs] == [(0, "t-2 True\n", ""), (0, "t-2 False\n", "")]


def test_renders_that_draw_random_values_or_fail_are_not_kept():
    for source in ("x: {{ [1, 2, 3] | random }}\n", "x: '{{ lipsum(1) }}'\n"):
        render("s.yaml", source, {})
    with pytest.raises(SpecError) as first:
        render("s.yaml", "x: {{ 1 / n }}\n", {"n": 0})
    with pytest.raises(SpecError) as second:
        render("s.yaml", "x: {{ 1 / n }}\n", {"n": 0})
    assert str(first.value) == str(second.value) == "s.yaml:1: template: ZeroDivisionError: division by zero"
    assert entries() == []


def test_variables_that_are_not_plain_data_are_rendered_every_time():
    for value in (datetime.date(2026, 12, 4), {1: "a"}, (1, 2), 2**70):
        assert rendercache.key(SOURCE, {"n": value, "label": "x"}, template.__file__) is None
    assert rendercache.key(SOURCE, {"n": [1, {"a": None}], "label": "x"}, template.__file__) is not None
    render("s.yaml", SOURCE, {"n": datetime.date(2026, 12, 4), "label": "x"})
    assert entries() == []


def test_a_variable_given_but_not_used_is_the_same_error_from_a_stored_render():
    render("s.yaml", SOURCE, {"n": 1, "label": "x"})
    for _ in range(2):  # rendered, then read back
        with pytest.raises(UsageError) as e:
            render("s.yaml", SOURCE, {"n": 1, "label": "x", "extra": Scalar("1")}, {"extra"})
        assert str(e.value) == "s.yaml: the template does not use variable extra (it uses: label, n)"


def test_another_renderer_or_a_damaged_entry_renders_again(tmp_path):
    variables = {"n": 1, "label": "x"}
    other = tmp_path / "renderer.py"
    other.write_text("a different renderer\n")
    assert rendercache.key(SOURCE, variables, template.__file__) != rendercache.key(SOURCE, variables, str(other))
    render("s.yaml", SOURCE, variables)
    (entry,) = entries()
    for damaged in ("{not json", '{"text": 1, "used": []}', '{"text": "a: 1", "used": [2]}', "[]"):
        entry.write_text(damaged)
        assert render("s.yaml", SOURCE, variables)[0] == "name: t\nn: 1\nlabel: x\n"
        assert json.loads(entry.read_text())["text"] == "name: t\nn: 1\nlabel: x\n"  # and kept again
