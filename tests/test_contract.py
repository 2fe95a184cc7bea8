"""The first spec page (kept beside the repository on the team's machines) is a contract: its example keeps working."""

from pathlib import Path

import pytest

CONTRACT = Path(__file__).parent / "contract" / "spec_page_example.yaml"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "spec-format.md"


def test_the_kept_copy_is_the_pages_example(tmp_path):
    if not SHARED.exists():
        pytest.skip("the team's shared spec page is not beside this clone; the kept copy is tested below")
    page = SHARED.read_text().split("```yaml\n", 1)[1].split("```", 1)[0]
    ours = CONTRACT.read_text().split("\n", 1)[1]
    assert ours == page.split("\n", 1)[1]


def test_the_pages_example_fails_only_where_the_page_contradicts_itself(qrun):
    # The page gives `rand` (a random circuit: no parameters) a parameter row; its own rules reject that.
    result = qrun("validate", "--deep", CONTRACT)
    assert result.code == 2
    assert result.err.splitlines()[:-1] == [
        f"{CONTRACT}:31:23: jobs[0].parameter_values: circuit 'rand' has no parameters; remove parameter_values"
    ]


@pytest.mark.slow  # a whole run of the page's example, 4 s: the fast suite keeps within its 3 minutes
def test_the_pages_example_runs_once_that_line_goes(qrun, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        CONTRACT.read_text()
        .replace("    parameter_values: [[0.1, 0.2]]   # optional; one row per parameter set (broadcast)\n", "")
        .replace("maxiter: 100", "maxiter: 3")
    )
    (tmp_path / "circuits").mkdir()
    (tmp_path / "circuits" / "ghz.qasm").write_text((CONTRACT.parent / "circuits" / "ghz.qasm").read_text())
    result = qrun(spec, "--out", tmp_path / "results", "--quiet")
    assert result.code == 0, result.err
