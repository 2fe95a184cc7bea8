"""A spec the schema passed is kept as passed: judged again only when its values, the schema or jsonschema-rs change."""

import subprocess
import sys

from conftest import SMALL_SPEC

from qrun.planning.cache import cache_dir
from qrun.spec.schema import schema_findings

SPEC = {**SMALL_SPEC, "jobs": [{**SMALL_SPEC["jobs"][0], "shots": 10}]}


def verdicts():
    return sorted(p.name for p in (cache_dir() / "verdicts").glob("*.json"))


def test_a_pass_is_kept_and_read_back_without_the_validator():
    code = (
        "import sys\n"
        "from qrun.spec.schema import schema_findings\n"
        f"print(schema_findings({SPEC!r}), 'jsonschema_rs' in sys.modules)\n"
    )
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True) for _ in range(2)]
    assert [(r.returncode, r.stdout, r.stderr) for r in runs] == [(0, "[] True\n", ""), (0, "[] False\n", "")]
    (entry,) = verdicts()
    assert (cache_dir() / "verdicts" / entry).read_bytes() == b"true"


def test_a_failing_spec_is_judged_each_time_and_never_kept():
    bad = {**SPEC, "jobs": [{**SPEC["jobs"][0], "shots": -5}]}
    for _ in range(2):
        assert schema_findings(bad) == [(("jobs", 0, "shots"), "-5 is less than the minimum of 1", False)]
    assert verdicts() == []
    # a kept pass is of those values only: the failing spec beside it is still judged
    assert schema_findings(SPEC) == []
    assert len(verdicts()) == 1
    assert schema_findings(bad) == [(("jobs", 0, "shots"), "-5 is less than the minimum of 1", False)]


def test_a_whole_number_float_at_an_integer_is_judged_by_the_strict_validator_each_time():
    # jsonschema-rs calls 10.0 an integer; qrun does not, and a pass of it must never be kept
    floats = {**SPEC, "jobs": [{**SPEC["jobs"][0], "shots": 10.0}]}
    for _ in range(2):
        assert schema_findings(floats) == [(("jobs", 0, "shots"), "10.0 is not an integer; write 10", False)]
    assert verdicts() == []


def test_an_entry_that_does_not_say_pass_is_a_miss_and_is_written_again():
    assert schema_findings(SPEC) == []
    (entry,) = verdicts()
    path = cache_dir() / "verdicts" / entry
    for damage in (b"false", b"", b"tru"):
        path.write_bytes(damage)
        assert schema_findings(SPEC) == []
        assert path.read_bytes() == b"true"
