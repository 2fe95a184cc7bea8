"""The JSON Schema and the plain-words translation of its violations."""

import pytest

from qrun.spec.schema import article, schema, schema_findings


def test_the_schema_is_the_packaged_file_and_names_every_top_level_key():
    assert set(schema()["properties"]) >= {
        "version",
        "name",
        "backend",
        "max_time",
        "options",
        "circuits",
        "jobs",
        "limits",
    }


def test_a_valid_spec_has_no_findings_and_a_wrong_type_is_said_plainly():
    spec = {
        "version": 1,
        "name": "x",
        "backend": "aer",
        "max_time": "1m",
        "circuits": {"c": {"qasm": "x"}},
        "jobs": [{"name": "j", "primitive": "sampler", "circuit": "c"}],
    }
    assert schema_findings(spec) == []
    spec["jobs"][0]["shots"] = -5
    assert schema_findings(spec) == [(("jobs", 0, "shots"), "-5 is less than the minimum of 1", False)]
    spec["jobs"][0]["shots"] = 10
    spec["limits"] = {"shots": 0}
    assert schema_findings(spec) == [(("limits", "shots"), "0 is less than the minimum of 1", False)]


def test_article():
    assert (article("estimator"), article("sampler"), article("minimize")) == ("an", "a", "a")


@pytest.mark.parametrize(
    ("data", "findings"),
    [
        ({"a": [1, 2.5, True, None, "x", {"b": {}}]}, []),
        ({"a": {1: "x"}}, [(("a",), "key 1 is not a string; quote it", False)]),
        (
            {"a": {True: "x", None: "y"}},
            [
                (("a",), "key True is not a string; quote it", False),
                (("a",), "key None is not a string; quote it", False),
            ],
        ),
        ({"a": [float("inf")]}, [(("a", 0), "inf is not a finite number", False)]),
        ({"a": float("nan")}, [(("a",), "nan is not a finite number", False)]),
    ],
)
def test_value_findings_on_the_fast_path_and_off_it(data, findings):
    from qrun.spec.schema import value_findings

    assert value_findings(data) == findings
