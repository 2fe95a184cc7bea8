"""Atomic writes and path confinement."""

import json
import os

import numpy as np
import orjson
import pytest

from qrun.errors import ResultsError
from qrun.store import fsio


def test_atomic_write_leaves_no_temp_file_and_replaces_whole(tmp_path):
    target = tmp_path / "a" / "x.json"
    fsio.write_json(target, {"v": np.float64(0.5), "a": np.arange(3)})
    fsio.write_json(target, {"v": 1})
    assert json.loads(target.read_text()) == {"v": 1}
    assert os.listdir(target.parent) == ["x.json"]


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "x.json"
    fsio.write_json(target, {"v": 1})
    with pytest.raises(TypeError):
        fsio.write_json(target, {"v": object()})
    assert json.loads(target.read_text()) == {"v": 1}
    assert os.listdir(tmp_path) == ["x.json"]


@pytest.mark.parametrize("parts", [("..", "evil"), ("/etc",), ("a", "..", "..", "b")])
def test_paths_stay_inside_the_results_root(tmp_path, parts):
    with pytest.raises(ResultsError):
        fsio.inside(tmp_path / "root", *parts)


def test_json_values_given_as_text_are_written_as_they_are_after_the_others(tmp_path):
    from orjson import Fragment

    from qrun.store.fsio import write_json

    write_json(
        tmp_path / "a.json", {"job": "e", "values": [1, 2]}, raw={"primitive_result": Fragment('{"x":[1.5,null]}')}
    )
    text = (tmp_path / "a.json").read_text()
    assert json.loads(text) == {"job": "e", "values": [1, 2], "primitive_result": {"x": [1.5, None]}}
    assert text.endswith('  "primitive_result": {"x":[1.5,null]}\n}\n')
    write_json(tmp_path / "b.json", {}, raw={"r": Fragment("[]")})
    assert (tmp_path / "b.json").read_text() == '{\n  "r": []\n}\n'


def test_a_list_encoded_part_by_part_is_written_in_its_keys_place_as_the_whole_list_would_be(tmp_path):
    # a short sweep's points, encoded a chunk at a time (json_items) and written as the one list they make
    points = [{"θ": 0.1 * i, "value": np.float64(i) / 3, "stderr": float("nan") if i == 7 else 0.01} for i in range(12)]
    parts = [fsio.json_items(points[:5]), fsio.json_items([]), fsio.json_items(points[5:])]
    data = {"job": "s", "points": [], "seconds": 1.5}
    fsio.write_json(tmp_path / "parts.json", data, raw={"points": [orjson.Fragment(p) for p in parts if p]})
    fsio.write_json(tmp_path / "whole.json", {**data, "points": points})
    assert (tmp_path / "parts.json").read_bytes().replace(b" ", b"").replace(b"\n", b"") == orjson.dumps(
        {**data, "points": points}, option=orjson.OPT_SERIALIZE_NUMPY
    )
    assert list(json.loads((tmp_path / "parts.json").read_text())) == ["job", "points", "seconds"]
    # past READABLE_BYTES, on one line: the very bytes of the list written whole
    many = points * 2_000
    parts = [fsio.json_items(many[i : i + 500]) for i in range(0, len(many), 500)]
    fsio.write_json(tmp_path / "parts.json", data, raw={"points": [orjson.Fragment(p) for p in parts]})
    fsio.write_json(tmp_path / "whole.json", {**data, "points": many})
    assert (tmp_path / "parts.json").read_bytes() == (tmp_path / "whole.json").read_bytes()
    assert (tmp_path / "parts.json").read_bytes().count(b"\n") == 1


def test_json_files_are_strict_json_with_numpy_values_and_int_keys(tmp_path):
    # json would write NaN and Infinity, which jq, JavaScript and most readers refuse; qrun writes null.
    fsio.write_json(tmp_path / "a.json", {"v": np.array([0.5, np.nan]), 3: np.int64(2), "i": float("inf")})
    text = (tmp_path / "a.json").read_text()
    assert json.loads(text) == {"v": [0.5, None], "3": 2, "i": None}
    assert text.startswith('{\n  "v": [\n    0.5,\n    null\n  ],\n')


def test_json_is_indented_while_small_enough_to_read_and_one_line_past_that(tmp_path):
    small = {"a": [1, 2], "b": "x"}
    fsio.write_json(tmp_path / "small.json", small)
    assert (tmp_path / "small.json").read_text() == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": "x"\n}\n'
    # a 10,000-job run's metadata.json: 8.5 MB indented, 6 MB on one line
    large = {"jobs": [{"index": i, "name": f"j{i}", "status": "done"} for i in range(8_000)]}
    assert len(json.dumps(large, separators=(",", ":"))) > fsio.READABLE_BYTES
    fsio.write_json(tmp_path / "large.json", large)
    text = (tmp_path / "large.json").read_text()
    assert text.count("\n") == 1 and text.endswith("}\n")
    assert json.loads(text) == large
    # values given as text count toward the size, and follow data's keys on the one line
    fsio.write_json(tmp_path / "raw.json", {"job": "e"}, raw={"primitive_result": orjson.Fragment(json.dumps(large))})
    text = (tmp_path / "raw.json").read_text()
    assert text.count("\n") == 1 and json.loads(text) == {"job": "e", "primitive_result": large}
    fsio.write_json(tmp_path / "only.json", {}, raw={"r": orjson.Fragment(json.dumps(large))})
    assert json.loads((tmp_path / "only.json").read_text()) == {"r": large}
