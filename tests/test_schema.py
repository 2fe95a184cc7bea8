"""The JSON Schema and the plain-words translation of its violations."""

import copy
import datetime

import pytest
from conftest import SMALL_SPEC

from qrun.spec import formhints
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
    spec = copy.deepcopy(SMALL_SPEC)
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
        # orjson refuses a date (passed through to no default) and an integer past 64 bits: neither passes for plain
        (
            {"a": [datetime.date(2026, 12, 4)]},
            [
                (
                    ("a", 0),
                    "a date (from a YAML tag or an unquoted date) is not a spec value; quote it if a string is meant",
                    False,
                )
            ],
        ),
        ({"a": [2**70, "\ud800"]}, []),
    ],
)
def test_value_findings_on_the_fast_path_and_off_it(data, findings):
    from qrun.spec.schema import value_findings

    assert value_findings(data) == findings


@pytest.mark.parametrize(
    "where, value, message",
    [
        (("jobs", 0, "shots"), 100.0, "100.0 is not an integer; write 100"),
        (("circuits", "c", "random", "num_qubits"), 2.0, "2.0 is not an integer; write 2"),
        (("options", "seed"), 7.0, "7.0 is not an integer; write 7"),
    ],
)
def test_a_whole_float_where_the_schema_wants_an_integer_is_refused(where, value, message):
    spec = {
        "version": 1,
        "name": "x",
        "backend": "aer",
        "options": {"seed": 1},
        "circuits": {"c": {"random": {"num_qubits": 2, "depth": 2}}},
        "jobs": [{"name": "j", "primitive": "sampler", "circuit": "c", "shots": 100}],
    }
    holder = spec
    for key in where[:-1]:
        holder = holder[key]
    holder[where[-1]] = value
    assert [(path, text) for path, text, _ in schema_findings(spec)] == [(where, message)]


def test_whole_floats_among_numbers_are_judged_without_python_jsonschema():
    """A parameter value of 0.0 or a coefficient of 1.0 is a number like any other: jsonschema-rs's verdict stands,
    and python-jsonschema (about 0.1 s to import) is not imported for it."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from qrun.spec.schema import schema_findings\n"
        "spec = {'version': 1, 'name': 'x', 'backend': 'aer', 'circuits': {'c': {'random': {'num_qubits': 2, "
        "'depth': 2}}}, 'observables': {'z': [['ZZ', 1.0]]}, 'jobs': [{'name': 'j', 'primitive': 'estimator', "
        "'circuit': 'c', 'observables': ['z'], 'parameter_values': [[0.0, 1.0]], 'precision': 1.0}]}\n"
        "print(schema_findings(spec), 'jsonschema' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "[] False", done.stderr


def _many(count: int) -> dict:
    return {
        "version": 1,
        "name": "x",
        "backend": "aer",
        "circuits": {"c": {"qasm": "x"}},
        "jobs": [{"name": f"j{k}", "primitive": "sampler", "circuit": "c", "shots": 10} for k in range(count)],
    }


def test_the_jobs_that_need_explaining_are_found_among_many_at_their_own_places():
    """Only the jobs jsonschema-rs finds wrong (or holding a whole-number float where an integer may go) are
    explained by python-jsonschema; their findings keep the jobs' places in the spec, and a problem outside the
    jobs is said with no job's."""
    spec = _many(300)
    spec["jobs"][7]["shots"] = -5
    spec["jobs"][250]["shots"] = 2.0
    spec["jobs"][299]["colour"] = "red"
    assert schema_findings(spec) == [
        (("jobs", 250, "shots"), "2.0 is not an integer; write 2", False),
        (("jobs", 299, "colour"), spec_key_message("colour"), True),
        (("jobs", 7, "shots"), "-5 is less than the minimum of 1", False),
    ]
    clean = _many(300)
    clean["limits"] = {"shots": 0}
    assert schema_findings(clean) == [(("limits", "shots"), "0 is less than the minimum of 1", False)]
    clean["jobs"] = []
    assert schema_findings(clean)[0] == (("jobs",), "needs at least 1 item", False)


def spec_key_message(key: str) -> str:
    """What python-jsonschema's translation says of an unknown job key, taken from a one-job spec."""
    one = _many(1)
    one["jobs"][0][key] = 1
    ((_, message, _),) = schema_findings(one)
    return message


FORMS = "{terms: ..., unit: ...}, {file: ..., unit: ...} or {python: ..., args: ...}"
EVERY_FORM = (
    'expected a Pauli label ("IY", or by qubit "Z0 Z3"), a list of [label, coefficient] pairs, a sum like '
    '"0.5*XI - ZZ", or {terms: one of those, unit: Ha}'
)


@pytest.mark.parametrize(
    ("value", "where", "message"),
    [
        (5, (), EVERY_FORM),
        ("", (), EVERY_FORM),
        ({"label": "ZZ"}, ("label",), f"unknown key 'label' in an observable: {FORMS}"),
        ({"term": "ZZ"}, ("term",), "unknown key 'term'; did you mean 'terms'?"),
        ({}, (), f"an observable's mapping needs terms, file or python: {FORMS}"),
        ({"unit": "Ha"}, (), f"an observable's mapping needs terms, file or python: {FORMS}"),
        (
            {"terms": "ZZ", "file": "h.csv"},
            ("file",),
            "an observable takes one of terms, file and python, not both terms and file",
        ),
        ({"terms": "ZZ", "args": {}}, ("args",), "'args' goes with python, not with terms"),
        ({"terms": "ZZ", "unit": 5}, ("unit",), "5 is not a unit: use a name of at most 20 characters, like Ha"),
        ({"python": 5}, ("python",), "expected package.module:function"),
        ({"python": "m:f", "args": [1]}, ("args",), "expected a mapping of the function's keyword arguments"),
        ({"file": ""}, ("file",), "expected the name of a .csv or .txt file of terms"),
        (
            {"terms": []},
            ("terms",),
            'expected a Pauli label, a list of [label, coefficient] pairs, or a sum like "0.5*XI - ZZ"',
        ),
        ({"terms": [["ZQ", 1]]}, ("terms", 0, 0), "'ZQ' is not a Pauli label: use the letters I, X, Y and Z"),
        ([["ZZ", 1], ["XX"]], (1,), "expected a [label, coefficient] pair, like [ZZ, 0.5]"),
        (
            ["Z0 Z1", "Z1 Z2"],  # a list of labels meant as their sum: shown as one, in its own labels
            (0,),
            'expected a [label, coefficient] pair, like [ZZ, 0.5]; a sum of labels is one string: "Z0 Z1 + Z1 Z2"',
        ),
        (
            [["ZI", 1], "IZ"],
            (1,),
            'expected a [label, coefficient] pair, like [ZZ, 0.5]; a sum of labels is one string: "ZZ + XX"',
        ),
        ([["Z0 Z9", 1], ["X1", "one"]], (1, 1), "the coefficient: 'one' is not a number"),
        (
            [["ZZ", "1e-3"]],
            (0, 1),
            "the coefficient: '1e-3' is read as text, not a number (YAML 1.1 wants a decimal point and a signed "
            "exponent): write 1.0e-3",
        ),
    ],
)
def test_an_observable_of_no_form_is_told_what_is_wrong_inside_it(value, where, message):
    """The schema only knows that an observable fits none of its forms; the message names the key, the term or the
    coefficient that does not fit, at its own place."""
    spec = {**copy.deepcopy(SMALL_SPEC), "observables": {"h": value}}
    [(path, said, _)] = schema_findings(spec)
    assert (path, said) == (("observables", "h", *where), message)


def test_a_list_written_as_one_value_is_shown_as_a_list():
    spec = copy.deepcopy(SMALL_SPEC)
    spec["jobs"][0].update(primitive="estimator", observables="h")
    spec["observables"] = {"h": "ZZ"}
    assert schema_findings(spec) == [(("jobs", 0, "observables"), "'h' is not of type 'array'; a list: [h]", False)]


def test_a_value_under_a_key_of_another_name_points_to_the_key_that_takes_it():
    """`kind: ladder` (or `type: sampler`): the word is one the job's `primitive` takes, which is what it meant."""
    spec = copy.deepcopy(SMALL_SPEC)
    spec["jobs"][0] = {"name": "j", "kind": "ladder", "circuit": "c"}
    assert schema_findings(spec) == [
        (("jobs", 0), "missing required key 'primitive'", False),
        (("jobs", 0, "kind"), "unknown key 'kind'; did you mean 'primitive: ladder'?", True),
    ]
    spec["jobs"][0] = {"name": "j", "primitive": "sampler", "circuit": "c", "flavor": "x"}  # no key takes it
    [(where, said, _)] = schema_findings(spec)
    assert (where, said.split(";")[0]) == (("jobs", 0, "flavor"), "unknown key 'flavor'")


@pytest.mark.parametrize(
    ("where", "key", "value", "message"),
    [
        (
            ("jobs", 0),
            "seed",
            3,
            "unknown key 'seed': it is an option; write it under the job's options ({seed: 3}), or the spec's options "
            "for every job",  # not "did you mean 'sweep'?"
        ),
        (
            ("jobs", 0),
            "twirling",
            {"enable_gates": True},
            "unknown key 'twirling': it is an option; write it under the job's options, or the spec's options for "
            "every job",
        ),
        ((), "seed", 3, "unknown key 'seed': it is an option; write it under options:"),
        (
            (),
            "shots",
            100,
            "unknown key 'shots': it is a job's key; write it in a job, or default_shots under options for every job",
        ),
        ((), "estimate", "1m", "unknown key 'estimate': it is a job's key; write it in a job"),
        (
            ("options",),
            "shots",
            100,
            "unknown key 'shots'; did you mean 'default_shots'? (a job's own shots is written in the job)",
        ),
        (
            ("options",),
            "exact",
            "statevector",
            "unknown key 'exact': it is a job's key, not an option; write it in a job (exact: statevector)",
        ),
        (
            ("jobs", 0, "options"),
            "shots",
            10,
            "unknown key 'shots': it is a job's key, not an option; write it in the job itself (shots: 10)",
        ),
    ],
)
def test_a_key_written_a_level_off_is_told_where_it_belongs(where, key, value, message):
    """An option written in a job (or at the top), a job's key written among options (or at the top): the key is
    right and its place is not, which a close spelling (`seed` and `sweep`) or the list of allowed keys would not say."""
    spec = copy.deepcopy(SMALL_SPEC)
    node = spec
    for part in where:
        node = node.setdefault(part, {}) if isinstance(part, str) else node[part]
    node[key] = value
    assert schema_findings(spec) == [((*where, key), message, True)]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("resilience_level", "high", "'high' is not one of 0, 1, 2"),
        ("optimization_level", "max", "'max' is not one of 0, 1, 2, 3"),
        ("seed", "abc", "'abc' is not of type 'integer'"),  # no small range: jsonschema's words stand
    ],
)
def test_a_word_where_a_level_goes_is_shown_the_levels(key, value, message):
    """`resilience_level: high` drew "'high' is not of type 'integer'": a level is one of a few numbers, named."""
    spec = copy.deepcopy(SMALL_SPEC)
    spec.setdefault("options", {})[key] = value
    assert schema_findings(spec) == [(("options", key), message, False)]


def test_the_pauli_label_the_messages_check_is_the_schemas():
    assert formhints.PAULI_LABEL.pattern == schema()["$defs"]["pauli_label"]["pattern"][1:-1]


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        (
            ("circuits", "c", "layout"),
            [0, 1, 0],
            "qubit 0 is named twice: each of the circuit's qubits needs one of its own",
        ),
        (("options", "job_tags"), ["a", "b", "b"], "'b' is named twice"),
    ],
)
def test_a_list_that_repeats_an_item_names_the_item(where, value, message):
    spec = copy.deepcopy(SMALL_SPEC)
    holder = spec
    for key in where[:-1]:
        holder = holder.setdefault(key, {})
    holder[where[-1]] = value
    assert schema_findings(spec) == [(where, message, False)]


def test_a_repeat_is_found_in_a_long_list_and_among_mappings():
    assert formhints.repeated([*range(200_000), 7]) == 7
    assert formhints.repeated([{"a": 1}, {"a": 2}, {"a": 1}]) == {"a": 1}
    assert formhints.repeated([1, 2, 3]) is None


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        (
            ("jobs", 0, "exact"),
            "Statevector",
            "'Statevector' is not one of statevector, stabilizer or a number; did you mean 'statevector'?",
        ),
        (("jobs", 0, "exact"), "ideal", "'ideal' is not one of statevector, stabilizer or a number"),
        (
            ("options", "twirling", "num_randomizations"),
            "aut",
            "'aut' is not auto or an integer; did you mean 'auto'?",
        ),
    ],
)
def test_a_word_where_a_few_words_or_a_number_go_is_told_both(where, value, message):
    """jsonschema's best match for `exact: statevectr` was "is not of type 'number'": the words were not named."""
    spec = copy.deepcopy(SMALL_SPEC)
    holder = spec
    for key in where[:-1]:
        holder = holder[key] if isinstance(key, int) else holder.setdefault(key, {})
    holder[where[-1]] = value
    assert schema_findings(spec) == [(where, message, False)]
