import time

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


@pytest.mark.parametrize(
    "path, text",
    [
        (("jobs", 2, "shots"), "jobs[2].shots"),
        (("max_time",), "max_time"),
        ((), ""),
        (("circuits", "my.circ", "qasm"), "circuits['my.circ'].qasm"),
    ],
)
def test_format_path(path, text):
    assert format_path(path) == text


# ---------------------------------------------------------------- templates

TEMPLATE = """vars:
  shots: 10
  label: defaults
version: 1
name: t-{{ label }}
count: {{ shots }}
"""


def _render(qrun, spec, *args):
    return qrun("render", spec, *args)


def test_render_precedence_defaults_then_vars_file_then_set(qrun, write_spec, tmp_path):
    spec = write_spec(TEMPLATE)
    assert "name: t-defaults\ncount: 10\n" in _render(qrun, spec).out
    vars_file = tmp_path / "v.yaml"
    vars_file.write_text("label: fromfile\nshots: 20\n")
    assert "name: t-fromfile\ncount: 20\n" in _render(qrun, spec, "--vars", vars_file).out
    both = _render(qrun, spec, "--vars", vars_file, "--set", "shots=30")
    assert "name: t-fromfile\ncount: 30\n" in both.out


def test_set_values_are_typed_as_yaml_scalars():
    from qrun.spec import parse_assignment

    assert parse_assignment("a=0.5") == ("a", 0.5)
    # YAML 1.1 needs a dot for a number; the command line reads 1e-05 as Hydra does (quoted, it stays text)
    assert parse_assignment("a=1e-05") == ("a", 1e-05)
    assert parse_assignment('a="1e-05"') == ("a", "1e-05")
    assert parse_assignment("a=true") == ("a", True)
    assert parse_assignment("a=fake_manila") == ("a", "fake_manila")
    assert parse_assignment("a=[1, 2]") == ("a", "[1, 2]")


def test_rendered_numbers_read_back_as_numbers(qrun, write_spec):
    spec = write_spec("vars: {p: 1.0e-05}\nx: {{ p }}\ny: {{ none_value }}\n")
    out = _render(qrun, spec, "--set", "none_value=null").out
    # shown as it would run: vars: holds the values used, the one given here too
    assert out.endswith("\nvars:\n  p: 1.0e-05\n  none_value: null\nx: 1.0e-05\ny: null\n")
    again = _render(qrun, spec, "--set", "p=2e-05", "--set", "none_value=null").out
    assert again.endswith("\nvars:\n  p: 2.0e-05\n  none_value: null\nx: 2.0e-05\ny: null\n")


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "version: 1\n\nname: {{ nmae }}\n",
            "spec.yaml:3: template: 'nmae' is undefined: set nmae=VALUE after the spec, or give it in vars:",
        ),
        ("version: 1\nname: {{ 1 +\n", "spec.yaml:2: template: unexpected 'end of template'"),
        (
            "version: 1\nname: {% for x in y %}\n",
            "spec.yaml:2: template: Unexpected end of template. Jinja was looking for the following tags: 'endfor' or 'else'. The innermost block that needs to be closed is 'for'.",
        ),
        (
            "a: 1\nname: \"{{ ''.__class__.__mro__ }}\"\n",
            "spec.yaml:2: template: refused by the sandbox: access to attribute '__class__' of 'str' object is unsafe.",
        ),
        (
            "a: {{ range(10**9) | list | length }}\n",
            "spec.yaml:1: template: OverflowError: Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).",
        ),
        (
            "vars:\n  a: {{ b }}\nname: x\n",
            "spec.yaml:1:1: vars: the vars: block holds defaults and cannot use template syntax",
        ),
        (  # what the template made of the line is quoted: the file shows only {{ ... }}
            "vars: {xs: '[1, 2]'}\nversion: 1\nname: x\nvalues: [[{{ xs | join(',') }}]]\n",
            "spec.yaml:4:12: invalid YAML: expected the node content, but found ',' (while parsing a flow node); "
            "line 4 as rendered: values: [[[,1,,, ,2,]]]",
        ),
        (  # a line the template left as written is not quoted again
            "version: 1\nname: {{ 'x' }}\nbad: [1, 2\n",
            "spec.yaml:4:1: invalid YAML: expected ',' or ']', but got '<stream end>' (while parsing a flow sequence)",
        ),
        (  # after a loop that made more lines than it has: the template's own line, and the template's end
            "version: 1\njobs:\n{% for i in range(3) %}\n  - {name: j{{ i }}}\n{% endfor %}\nbad: [1, 2\nmore: 1\n",
            "spec.yaml:7:5: invalid YAML: expected ',' or ']', but got ':' (while parsing a flow sequence)",
        ),
        (
            "version: 1\njobs:\n{% for i in range(3) %}\n  - {name: j{{ i }}}\n{% endfor %}\nbad: [1, 2\n",
            "spec.yaml:7:1: invalid YAML: expected ',' or ']', but got '<stream end>' (while parsing a flow sequence)",
        ),
    ],
)
def test_template_errors_are_located_never_a_traceback(qrun, write_spec, text, message, monkeypatch):
    spec = write_spec(text)
    monkeypatch.chdir(spec.parent)
    result = _render(qrun, "spec.yaml")
    assert (result.code, result.err) == (2, message + "\n")


def test_a_set_variable_the_template_does_not_use_is_a_usage_error(qrun, write_spec, monkeypatch):
    spec = write_spec(TEMPLATE)
    monkeypatch.chdir(spec.parent)
    result = _render(qrun, "spec.yaml", "--set", "shot=5")
    assert (result.code, result.err) == (
        2,
        "qrun: spec.yaml: the template does not use variable shot (it uses: label, shots); shot: did you mean shots?\n",
    )


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (  # Python's range() asks Jinja2's StrictUndefined for an integer, which it has no way to refuse by name
            (),
            "spec.yaml:3: template: 'count', 'n' are undefined: set each as NAME=VALUE after the spec, or give them in "
            "vars:",
        ),
        (
            ("n=2",),
            "spec.yaml:3: template: 'count' is undefined: set count=VALUE after the spec, or give it in vars:",
        ),
        (
            ("count=abc",),
            "spec.yaml:3: template: TypeError: 'str' object cannot be interpreted as an integer (count='abc' is text, "
            "given from outside)",
        ),
        (
            ("count=2", "n=abc"),
            "spec.yaml:4: template: TypeError: can't multiply sequence by non-int of type 'str' (n='abc' is text, "
            "given from outside)",
        ),
    ],
)
def test_a_variable_a_template_cannot_use_is_named(qrun, write_spec, monkeypatch, given, message):
    spec = write_spec("version: 1\nnames:\n{% for i in range(count) %}\n  - {{ 'Z' * n }}\n{% endfor %}\n")
    monkeypatch.chdir(spec.parent)
    result = _render(qrun, "spec.yaml", *given)
    assert (result.code, result.err) == (2, message + "\n")


def test_a_spec_without_template_syntax_is_used_verbatim(qrun):
    from conftest import EXPERIMENTS

    assert _render(qrun, EXPERIMENTS / "bell.yaml").out == (EXPERIMENTS / "bell.yaml").read_text()


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb: [1, 2.5, true, null, ~, 'x', 0x1f, 1e3, .inf]\nc: {d: e}\n",
        "base: &b {x: 1, y: [1, 2]}\nuse: {<<: *b, y: 3}\nmore: [*b, *b]\n",
        "a: &x {<<: {k: 1}, k: 2}\nb: *x\nc: [*x, {<<: [*x, {j: 0}]}]\n",
        "1: one\ntrue: yes\nnull: nothing\n2.5: f\n",
        "when: 2001-12-14t21:59:43.10-05:00\nday: 2002-12-14\nblob: !!binary aGVsbG8=\n",
        "s: !!set {a, b}\no: !!omap [{a: 1}, {b: 2}]\np: !!pairs [{a: 1}, {a: 2}]\n",
        "- [a, [b, [c]]]\n- {k: {k: {k: v}}}\n- ''\n- !!str 12\n- !!float 3\n",
        "multi: |\n  line one\n  line two\nfolded: >\n  a\n  b\n",
        "",
        "just a scalar\n",
    ],
)
def test_parsed_values_are_exactly_what_yaml_safe_load_makes(text):
    import yaml

    from qrun.spec import parse_yaml

    data, _, _ = parse_yaml("t.yaml", text)
    assert data == yaml.safe_load(text)
    assert type(data) is type(yaml.safe_load(text))


def test_marks_locate_values_and_keys_in_nested_and_merged_mappings():
    from qrun.spec import parse_yaml

    _, marks, key_marks = parse_yaml("t.yaml", "base: &b {x: 1}\njobs:\n  - name: a\n    shots: [1, 2]\nm: {<<: *b}\n")
    assert marks[("jobs", 0, "shots", 1)] == (4, 16)
    assert key_marks[("jobs", 0, "shots")] == (4, 5)
    assert marks[("m",)] == (5, 4) and key_marks[("m", "<<")] == (5, 5)


PLAIN_SCALARS = (
    "a: 1\nb: -3\nc: +5\nd: 0x1f\ne: 0o17\nf: 1_000\ng: 1.5\nh: .5\ni: 1e3\nj: 1.5e+3\nk: .inf\nl: -.Inf\nm: .nan\n"
    "n: yes\no: No\np: on\nq: True\nr: ~\ns: null\nt:\nu: 2026-11-23\nv: 2026-11-23 10:00:00Z\nw: '1'\nx: \"2\"\n"
    "y: |\n  two\n  lines\nz: >\n  folded\n  text\n1: int key\n2.5: float key\nnull: null key\nu8: 'é ☃'\n"
    "flow: {a: [1, [2, {b: c}]], 'q': \"r\"}\nblock:\n  - - 1\n    - 2\n  - k: v\n    l: [x, y]\n  -\n  - ''\n"
    "colon: 'a: b'\nsexagesimal: 1:30\nbool_str: 'true'\nempty_flow: {}\nempty_seq: []\n"
)


def test_the_plain_reading_gives_exactly_what_the_full_parse_gives():
    # repr: NaN is not equal to itself, and 1 == 1.0 == True would hide a wrong type
    from qrun.spec import plain_yaml

    fast = plain_yaml(PLAIN_SCALARS)
    assert fast is not None
    assert repr(fast) == repr(parse_yaml("s.yaml", PLAIN_SCALARS)[0])
    assert fast["i"] == "1e3" and fast["u8"] == "é ☃" and fast[1] == "int key" and fast[None] == "null key"


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",  # anchors and aliases (the full parse counts what they expand to)
        "base: {x: 1}\nm: {<<: {y: 2}}\n",  # a merge key
        "a: !!set {x}\n",  # explicit tags
        "a: !!str 1\n",
        "a: 1\na: 2\n",  # a duplicate key, and one written two ways
        "1: a\n'1': b\n",
        "? [a, b]\n: c\n",  # a collection as a key
        "a: 1\n---\nb: 2\n",  # two documents
        "a: [" * 65 + "]" * 65 + "\n",  # deeper than MAX_DEPTH
        "a: [1, 2\n",  # a syntax error
        "",
        "# only a comment\n",
    ],
)
def test_anything_but_plain_yaml_goes_to_the_full_parse(text):
    from qrun.spec import plain_yaml

    assert plain_yaml(text) is None


def test_a_plain_spec_places_its_errors_although_its_marks_are_made_only_then(tmp_path):
    from qrun import spec

    path = tmp_path / "s.yaml"
    path.write_text("name: s\njobs:\n  - name: x\n    shots: -5\n")
    loaded = spec.load(path)
    assert loaded.given_marks is None  # read by the plain path: no marks made yet
    assert loaded.problem(("jobs", 0, "shots"), "bad").line == 4
    assert loaded.locate(("jobs", 0, "shots"), at_key=True) == (4, 5)


@pytest.mark.parametrize("loader", ["CSafeLoader", "SafeLoader"])
@pytest.mark.parametrize("depth", [65, 999, 1000, 50_000])
def test_deep_nesting_is_one_located_error_whichever_yaml_library_parses(depth, loader, monkeypatch):
    # PyYAML 6.0.4's libyaml stops at 1000 levels with its own scanner error, before any event; the pure-Python
    # parser has no limit. Both must give qrun's own message at the 65th level, and neither may recurse.
    import yaml

    if not hasattr(yaml, loader):
        pytest.skip(f"this PyYAML has no {loader}")
    monkeypatch.setattr(yaml, "CSafeLoader", getattr(yaml, loader))
    text = "name: x\nv: " + "[" * depth + "]" * depth + "\n"
    with pytest.raises(SpecError) as e:
        parse_yaml("s.yaml", text)
    assert str(e.value) == "s.yaml:2:67: nested more than 64 levels deep"  # the top mapping is level 1


def test_a_yaml_error_is_worded_by_the_pure_python_parser_without_recursing():
    with pytest.raises(SpecError) as e:
        parse_yaml("s.yaml", "a: [" + "[" * 60 + "b, - c\n")
    assert str(e.value).startswith("s.yaml:1:")
    with pytest.raises(SpecError) as e:
        parse_yaml("s.yaml", "a: *nowhere\n")
    assert str(e.value) == "s.yaml:1:4: invalid YAML: found undefined alias 'nowhere'"


@pytest.mark.slow  # 3 s by design; tests/hostile.py has the same bound in the fast suite, through validate
def test_a_template_that_no_loop_counter_bounds_is_stopped_by_the_wall_clock():
    body = "{{ lipsum(1000000) | length }}"  # one filter call: no loop step to count (hostile.py has string loops)
    from qrun import spec

    started = time.monotonic()
    with pytest.raises(SpecError) as e:
        spec.render("s.yaml", f"name: '{body}'\n", {})
    assert str(e.value) == "s.yaml: template: takes more than 3 s to render"
    assert time.monotonic() - started < spec.MAX_RENDER_SECONDS + 2


@pytest.mark.parametrize(
    "text", ["a: {{ x }}", "{% if a %}", "b: 1 {# note #}", "jobs: [{name: a}, {name: b}]", "{ {", "x: {", "", "{{"]
)
def test_a_spec_is_a_template_when_it_opens_jinja2_markup_and_not_for_yaml_flow_mappings(text):
    from qrun.spec.template import is_template

    assert is_template(text) is ("{{" in text or "{%" in text or "{#" in text)
    assert is_template(text) is (text in ("a: {{ x }}", "{% if a %}", "b: 1 {# note #}", "{{"))


def test_a_problem_in_a_templates_rendered_text_is_placed_on_the_templates_line(qrun, write_spec, monkeypatch):
    """Placed in the rendered text, the first two were at lines 8 and 10 and the last at 14 of a 10-line file: a loop
    made the lines. A line the template wrote is its own; one a loop wrote is the loop's, with its rendered line."""
    spec = write_spec(
        "version: 1\nname: t\nbackend: aer\n"
        "circuits:\n  c: {random: {num_qubits: 2, depth: 2, seed: 1, measure: true}}\n"
        "jobs:\n{% for i in range(3) %}\n  - {name: j{{ i }}, primitive: sampler, circuit: c, shots: {{ i - 1 }}}\n"
        "{% endfor %}\n  - {name: last, primitive: sampler, circuit: c, shot: 5}\n"
    )
    monkeypatch.chdir(spec.parent)
    assert qrun("validate", "spec.yaml").err.splitlines() == [
        "spec.yaml:7: jobs[0].shots: -1 is less than the minimum of 1 (line 8 of the rendered text)",
        "spec.yaml:7: jobs[1].shots: 0 is less than the minimum of 1 (line 10 of the rendered text)",
        "spec.yaml:10:50: jobs[3].shot: unknown key 'shot'; did you mean 'shots'?",
        "qrun: 1 of 1 spec invalid",
    ]


def test_a_mistake_a_templates_loop_repeats_is_said_once_with_the_paths_it_is_at(qrun, write_spec, monkeypatch):
    """Six jobs from one loop line, each with shots -1 and an unknown key: twelve lines before, as many as the loop
    has items; now each mistake once, then the other paths it is at."""
    spec = write_spec(
        "version: 1\nname: t\nbackend: aer\n"
        "circuits:\n  c: {random: {num_qubits: 2, depth: 2, seed: 1, measure: true}}\n"
        "jobs:\n{% for i in range(6) %}\n  - {name: j{{ i }}, primitive: sampler, circuit: c, shots: -1, shot: 5}\n"
        "{% endfor %}\n  - {name: last, primitive: sampler, circuit: c, shots: 0}\n"
    )
    monkeypatch.chdir(spec.parent)
    expected = [
        "spec.yaml:7: jobs[0].shot: unknown key 'shot'; did you mean 'shots'? (line 8 of the rendered text)",
        "spec.yaml:7: the same for jobs[1].shot, jobs[2].shot, jobs[3].shot and 2 more",
        "spec.yaml:7: jobs[0].shots: -1 is less than the minimum of 1 (line 8 of the rendered text)",
        "spec.yaml:7: the same for jobs[1].shots, jobs[2].shots, jobs[3].shots and 2 more",
        "spec.yaml:10:57: jobs[6].shots: 0 is less than the minimum of 1",
    ]
    checked, ran = qrun("validate", "spec.yaml"), qrun("spec.yaml", "--out", "r")
    assert (checked.code, ran.code) == (2, 2)
    assert checked.err.splitlines() == [*expected, "qrun: 1 of 1 spec invalid"]
    assert ran.err.splitlines() == expected


def test_a_loops_mistake_that_quotes_each_items_value_is_said_once_with_each_value(qrun, write_spec, monkeypatch):
    """`shots: {{ -i - 1 }}` over six items: each message quotes its own value (-1, -2, ...), so no two read alike,
    and the loop's one mistake was six lines. It is said once, each other path with its own value."""
    spec = write_spec(
        "version: 1\nname: t\nbackend: aer\n"
        "circuits:\n  c: {random: {num_qubits: 2, depth: 2, seed: 1, measure: true}}\n"
        "jobs:\n{% for i in range(6) %}\n  - {name: j{{ i }}, primitive: sampler, circuit: c, shots: {{ -i - 1 }}}\n"
        "{% endfor %}\n"
    )
    monkeypatch.chdir(spec.parent)
    assert qrun("validate", "spec.yaml").err.splitlines() == [
        "spec.yaml:7: jobs[0].shots: -1 is less than the minimum of 1 (line 8 of the rendered text)",
        "spec.yaml:7: the same for jobs[1].shots (-2), jobs[2].shots (-3), jobs[3].shots (-4) and 2 more",
        "qrun: 1 of 1 spec invalid",
    ]


def test_a_reports_limit_counts_a_repeated_mistake_as_one_entry_and_says_how_many_it_showed():
    from qrun.errors import Problem, SpecError

    loop = [Problem("f", 3, 0, f"jobs[{k}].shots", "bad") for k in range(10)]
    pair = [Problem("f", 5, 0, f"jobs[{k}].name", "taken") for k in (10, 11)]  # two alike stay two lines
    lines = [Problem("f", 10 + k, 5, f"jobs[{12 + k}].name", "worse") for k in range(3)]
    assert SpecError(loop + pair + lines).report(limit=4).splitlines() == [
        "f:3: jobs[0].shots: bad",
        "f:3: the same for jobs[1].shots, jobs[2].shots, jobs[3].shots and 6 more",
        "f:5: jobs[10].name: taken",
        "f:5: jobs[11].name: taken",
        "f:10:5: jobs[12].name: worse",
        "... and 2 more problems (15 in all; the first 13 are shown)",
    ]
    # fewer alike than that keep their places: by position, then path
    apart = [
        Problem("f", 3, 0, "jobs[0].a", "x"),
        Problem("f", 3, 0, "jobs[0].b", "y"),
        Problem("f", 3, 0, "jobs[1].a", "x"),
    ]
    assert SpecError(apart).report().splitlines() == ["f:3: jobs[0].a: x", "f:3: jobs[0].b: y", "f:3: jobs[1].a: x"]


def test_problems_on_one_line_are_in_the_order_of_their_indices():
    from qrun.errors import Problem, SpecError

    found = SpecError([Problem("f", 3, 0, f"jobs[{k}].shots", "bad") for k in (10, 2, 1)])
    assert [p.path for p in found.problems] == ["jobs[1].shots", "jobs[2].shots", "jobs[10].shots"]


def test_a_templates_range_is_looped_over_again_measured_and_indexed_as_jinja2s_own():
    """qrun's bounded range() was a generator: a second loop over `{% set ds = range(...) %}` rendered nothing (a
    T1 template's jobs: none, after its circuits), and `|length` failed."""
    from qrun import spec

    text = (
        "{% set ds = range(0, 30, 10) %}"
        "a: [{% for d in ds %}{{ d }}, {% endfor %}]\n"
        "b: [{% for d in ds %}{{ d }}, {% endfor %}]\n"
        "c: {{ ds | length }} {{ ds[1] }} {{ ds | reverse | list }} {{ 20 in ds }} {{ ds[::2] | list }}\n"
    )
    assert (
        spec.render("s.yaml", text, {})[0] == "a: [0, 10, 20, ]\nb: [0, 10, 20, ]\nc: 3 10 [20, 10, 0] true [0, 20]\n"
    )


def test_every_loop_over_a_kept_range_counts_toward_the_templates_steps(monkeypatch):
    from qrun import spec
    from qrun.spec import template

    monkeypatch.setattr(template, "MAX_TEMPLATE_STEPS", 50)
    text = "{% set ds = range(30) %}a: {% for d in ds %}{{ d }}{% endfor %}\nb: {% for d in ds %}{{ d }}{% endfor %}\n"
    with pytest.raises(SpecError) as e:
        spec.render("s.yaml", text, {})
    assert str(e.value) == "s.yaml:2: template: loops take more than 50 steps"  # in the second loop
