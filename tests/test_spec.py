import pytest

from qrun.errors import SpecError
from qrun.spec import format_path, parse_yaml


def test_marks_give_line_and_column_of_values_and_keys():
    data, marks, key_marks = parse_yaml("s.yaml", "a: 1\njobs:\n  - name: x\n    shots: -5\n")
    assert data == {"a": 1, "jobs": [{"name": "x", "shots": -5}]}
    assert marks[("jobs", 0, "shots")] == (4, 12)
    assert key_marks[("jobs", 0, "shots")] == (4, 5)
    assert marks[("jobs", 0)] == (3, 5)


def test_safe_load_semantics_refuse_python_tags():
    with pytest.raises(SpecError) as e:
        parse_yaml("s.yaml", "a: !!python/object/apply:os.system ['true']\n")
    assert str(e.value).startswith("s.yaml:1:4: invalid YAML: could not determine a constructor for the tag")


def test_anchors_and_merge_keys_work_as_in_safe_load():
    data, _, _ = parse_yaml("s.yaml", "base: &b {x: 1}\nother: {<<: *b, y: 2}\n")
    assert data == {"base": {"x": 1}, "other": {"x": 1, "y": 2}}


def test_duplicate_keys_are_errors_not_silently_overwritten():
    with pytest.raises(SpecError) as e:
        parse_yaml("s.yaml", "a: 1\nb:\n  c: 1\n  c: 2\n")
    assert str(e.value) == "s.yaml:4:3: b.c: duplicate key (first given on line 3)"


@pytest.mark.parametrize("path, text", [
    (("jobs", 2, "shots"), "jobs[2].shots"), (("max_time",), "max_time"), ((), ""),
    (("circuits", "my.circ", "qasm"), "circuits['my.circ'].qasm"),
])
def test_format_path(path, text):
    assert format_path(path) == text
