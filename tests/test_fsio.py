"""Atomic writes and path confinement."""

import json
import os

import numpy as np
import pytest

from qrun import fsio
from qrun.errors import ResultsError


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
