import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXPERIMENTS, ROOT

import qrun as qrun_pkg
from qrun.app import pipeline


def test_version(qrun):
    result = qrun("--version")
    assert (result.code, result.out) == (0, f"qrun, version {qrun_pkg.__version__}\n")


def test_help_lists_the_commands_and_the_exit_codes(qrun):
    result = qrun("--help")
    assert result.code == 0
    text = " ".join(result.out.split())
    for word in (
        "validate",
        "render",
        "schema",
        "run",
        "Exit codes: 0 ok, 1 a job, the run, the service or the "
        "environment failed, 2 bad spec or usage, 3 internal error (a bug in qrun), 130 interrupted.",
    ):
        assert word in text


def test_a_spec_error_shows_no_traceback_unless_debug(qrun):
    bad = ROOT / "tests" / "bad_specs" / "negative_shots.yaml"
    plain = qrun(bad)
    assert plain.code == 2 and "Traceback" not in plain.err
    debug = qrun(bad, "--debug")
    assert debug.code == 2
    assert "Traceback (most recent call last)" in debug.err
    assert debug.err.endswith(f"{bad}:14:12: jobs[0].shots: -5 is less than the minimum of 1\n")


def test_a_spec_path_that_names_no_file_offers_the_specs_beside_it(qrun, tmp_path, monkeypatch):
    """`qrun experiments/tfim` (Tab stopped at the name) said "no such file", and `qrun experiments/` click's "File
    'experiments/' is a directory": the specs it meant are named, for run, plan and render alike, and validate."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "experiments").mkdir()
    for name in ("tfim.yaml", "tfim.yaml.j2", "vqe.yaml", "notes.txt"):
        (tmp_path / "experiments" / name).write_text("")
    (tmp_path / "experiments" / "circuits").mkdir()
    both = "did you mean experiments/tfim.yaml or experiments/tfim.yaml.j2?"
    for args, said in [
        (["experiments/tfim"], f"qrun: experiments/tfim: no such file; {both}\n"),
        (["plan", "experiments/tifm.yaml"], f"qrun: experiments/tifm.yaml: no such file; {both}\n"),
        (
            ["render", "experiments/vqe.yml"],
            "qrun: experiments/vqe.yml: no such file; did you mean experiments/vqe.yaml?\n",
        ),
        (["experiments/ghz.yaml"], "qrun: experiments/ghz.yaml: no such file\n"),
        (
            ["validate", "experiments/vq.yaml"],
            "qrun: experiments/vq.yaml: no such file; did you mean experiments/vqe.yaml?\nqrun: 1 of 1 spec invalid\n",
        ),
        (
            ["experiments/"],
            "qrun: experiments/ is a folder: name one of its specs (experiments/tfim.yaml, experiments/tfim.yaml.j2, "
            "experiments/vqe.yaml); qrun validate experiments/ checks them all\n",
        ),
        (
            ["plan", "experiments/circuits"],
            "qrun: experiments/circuits: a folder with no specs in it (*.yaml, *.yml, *.yaml.j2)\n",
        ),
    ]:
        result = qrun(*args)
        assert (result.code, result.err) == (2, said), args


def test_an_internal_error_says_so_and_points_at_debug(qrun, monkeypatch):
    def boom(*a, **k):
        raise KeyError("surprise")

    monkeypatch.setattr("qrun.app.prepare.check", boom)
    result = qrun(EXPERIMENTS / "bell.yaml")
    assert result.code == 3
    assert result.err == "qrun: internal error; run again with --debug for a traceback\n"


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["missing.yaml"], 2, "qrun: missing.yaml: no such file\n"),
        (["validate"], 2, "Error: Missing argument 'SPECS...'."),
        (["run", "x.yaml", "--bogus"], 2, "Error: No such option '--bogus'. Did you mean '--out'?"),
        # a name longer than any file's (NAME_MAX) is bad input, not a failed environment (it was exit 1)
        ([str(EXPERIMENTS / "bell.yaml"), "--out", "x" * 300], 2, f"qrun: {'x' * 300}/bell: File name too long\n"),
        # where a missing folder has its own words, such a name has the same (it had "File name too long")
        ([str(EXPERIMENTS / "bell.yaml"), "--resume", "x" * 300], 2, f"--resume {'x' * 300}: not a qrun run folder"),
        (
            [str(EXPERIMENTS / "bell.yaml"), "-m", "seed=1,2", "--resume", "x" * 300],
            2,
            "not a multirun group or one of its",
        ),
        (["list", "x" * 300], 0, ""),
    ],
)
def test_usage_errors_exit_2(qrun, args, code, message):
    result = qrun(*args)
    assert result.code == code
    assert message in result.err
    if args[0] == "list":
        assert result.out == f"no runs under {'x' * 300}\n"  # as of a folder that is not there


def test_keyboard_interrupt_exits_130(qrun, monkeypatch):
    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr("qrun.app.prepare.check", interrupted)
    result = qrun(EXPERIMENTS / "bell.yaml")
    assert (result.code, result.err.strip()) == (130, "qrun: interrupted")


def test_schema_command_prints_the_shipped_schema(qrun):
    result = qrun("schema")
    assert json.loads(result.out) == json.loads((ROOT / "schemas" / "experiment.schema.json").read_text())


def test_the_packaged_schema_is_the_repository_schema():
    from importlib import resources

    packaged = resources.files("qrun").joinpath("experiment.schema.json").read_text()
    assert packaged == (ROOT / "schemas" / "experiment.schema.json").read_text()


def test_run_prints_a_summary_and_the_run_folder(qrun, tmp_path):
    result = qrun(EXPERIMENTS / "bell.yaml", "--out", tmp_path)
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].startswith("counts: c {")
    assert lines[-1].startswith(f"results: {tmp_path / 'bell'}")
    assert "[1/1] sampler counts ..." in result.err


def test_quiet_prints_the_run_folder_and_nothing_else(qrun, tmp_path):
    result = qrun(EXPERIMENTS / "bell.yaml", "--out", tmp_path, "--quiet")
    assert result.code == 0
    (run_dir,) = (tmp_path / "bell").iterdir()
    assert (result.out, result.err) == (f"{run_dir}\n", "")


def test_run_options_may_come_before_the_spec(qrun, tmp_path):
    result = qrun("--debug", "--quiet", "--out", tmp_path, EXPERIMENTS / "bell.yaml", "options.seed=4")
    assert result.code == 0
    (run_dir,) = (tmp_path / "bell").iterdir()
    assert (result.out, result.err) == (f"{run_dir}\n", "")
    assert "seed: 4" in (run_dir / "spec.yaml").read_text()
    wrong = qrun("--quiet-please", EXPERIMENTS / "bell.yaml")
    assert (wrong.code, wrong.err.splitlines()[-1]) == (
        2,
        "Error: No such option '--quiet-please'. Did you mean '--quiet'?",
    )


def test_quiet_still_shows_the_warnings_that_weaken_a_result():
    import io
    from types import SimpleNamespace

    from qrun.views.progress import reporter_for

    job = SimpleNamespace(run_key=0, index=0, name="e", primitive="estimator")
    for mode, shown in (("quiet", "[1/1] e: warning: UserWarning: a fit fell back (x2)\n"), ("none", "")):
        reporter = reporter_for(SimpleNamespace(jobs=[job], name="s", points=()), mode)  # type: ignore[arg-type]
        reporter.stream = io.StringIO()
        reporter.job_started(job)
        reporter.job_warnings(job, ["UserWarning: a fit fell back (x2)"])
        reporter.job_done(job, None)
        assert reporter.stream.getvalue() == shown, mode


def test_python_dash_m_qrun_works_from_any_folder(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "qrun", "validate", str(EXPERIMENTS / "bell.yaml")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert (done.returncode, done.stdout) == (0, f"{EXPERIMENTS / 'bell.yaml'}: ok\n")


def test_a_run_on_aer_does_not_import_the_runtime(tmp_path):
    # Aer's primitives need no runtime session or encoder; importing the runtime would cost every local run about
    # half a second. The result file still holds the runtime's own encoding, read back by its decoder. A cold
    # transpile loads qiskit's stage plugins, the runtime's among them, so the circuit is transpiled (cached) first.
    pipeline.run(EXPERIMENTS / "bell.yaml", out=tmp_path, progress="none")
    code = (
        "import sys, qrun, qrun.app.pipeline\n"
        f"run = qrun.load(qrun.app.pipeline.run({str(EXPERIMENTS / 'bell.yaml')!r}, out={str(tmp_path)!r}, progress='none'))\n"
        "print('qiskit_ibm_runtime' in sys.modules)\n"
        "print(run.result('counts')[0].data.c.get_counts())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stderr == ""
    before, after = done.stdout.splitlines()
    assert before == "False"
    assert set(json.loads(after.replace("'", '"'))) == {"00", "11"}


def test_the_command_leaves_with_its_exit_code_and_every_line_written(tmp_path):
    # `python -m qrun` skips Python's teardown (os._exit): the code and the buffered output must survive it
    done = subprocess.run(
        [sys.executable, "-m", "qrun", "validate", str(EXPERIMENTS / "bell.yaml"), "missing.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert (done.returncode, done.stdout) == (2, f"{EXPERIMENTS / 'bell.yaml'}: ok\n")
    assert done.stderr == "qrun: missing.yaml: no such file\nqrun: 1 of 2 specs invalid\n"


def test_the_supervisor_knows_which_command_lines_run_jobs():
    from qrun import cli
    from qrun.app import supervise

    assert set(supervise.COMMANDS) == set(cli.cli.list_commands(cli.click.Context(cli.cli)))
    for args, runs in (
        (["x.yaml"], True),
        (["--debug", "x.yaml", "-q"], True),
        (["run", "x.yaml"], True),
        (["rerun", "results/x/1"], True),
        (["valdate", "x.yaml"], True),  # a typo: the child says so, as a run would
        (["validate", "x.yaml"], False),
        (["--debug", "list"], False),
        (["-h"], False),
        ([], False),
    ):
        assert supervise.runs_jobs(args) is runs, args


def test_a_run_forks_its_supervisor_before_importing_the_cli(tmp_path):
    # The supervisor stays a bare interpreter: the child it forks imports the CLI, qiskit and Aer itself, so their
    # pages are its own and not copies of the parent's. supervise() is replaced so that it reports what is imported
    # when it is called, then the run goes on as usual in this process.
    code = (
        "import sys\n"
        "from qrun.app import supervise\n"
        "def stand_in(main, record):\n"
        "    print(sorted(m for m in ('qrun.cli', 'click', 'qiskit', 'yaml') if m in sys.modules))\n"
        "    return main()\n"
        "supervise.supervise = stand_in\n"
        f"sys.argv = ['qrun', {str(EXPERIMENTS / 'bell.yaml')!r}, '--quiet', '--out', 'r']\n"
        "from qrun.__main__ import entry\n"
        "entry()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (0, "")
    imported, folder = done.stdout.splitlines()
    assert imported == "[]"
    assert (tmp_path / folder / "metadata.json").is_file()


def test_validate_checks_every_spec_when_one_is_missing(qrun):
    done = qrun("validate", EXPERIMENTS / "bell.yaml", "missing.yaml", EXPERIMENTS / "mixed.yaml")
    assert (done.code, done.out) == (2, f"{EXPERIMENTS / 'bell.yaml'}: ok\n{EXPERIMENTS / 'mixed.yaml'}: ok\n")
    assert done.err == "qrun: missing.yaml: no such file\nqrun: 1 of 3 specs invalid\n"


def test_an_environment_without_aer_says_how_to_repair_it_and_exits_1(qrun, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "qiskit_aer" else real(name, *a))
    assert qrun("validate", EXPERIMENTS / "bell.yaml").code == 0
    result = qrun(EXPERIMENTS / "bell.yaml", "--out", "/nonexistent")
    assert (result.code, result.err) == (
        1,
        "qrun: this needs qiskit_aer, which this environment lacks: pip install --force-reinstall qrun\n",
    )


def test_a_missing_plot_extra_is_exit_1_with_the_pip_line(qrun, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if qrun[plot] were not installed
    run = qrun(EXPERIMENTS / "bell.yaml", "--out", tmp_path, "-q")
    result = qrun("plot", tmp_path / run.out.strip())
    assert (result.code, result.err) == (1, "qrun: qrun plot needs matplotlib: pip install 'qrun[plot]'\n")


def test_the_runtimes_own_log_lines_reach_the_terminal_only_with_debug(qrun):
    # qiskit-ibm-runtime logs "Loading account with the given token" through a console handler of its own
    import logging

    runtime = logging.getLogger("qiskit_ibm_runtime")
    qrun("validate", EXPERIMENTS / "bell.yaml")
    assert not runtime.isEnabledFor(logging.WARNING)
    qrun("validate", EXPERIMENTS / "bell.yaml", "--debug")
    assert runtime.isEnabledFor(logging.INFO)


def test_a_mistyped_command_gets_a_did_you_mean(qrun):
    result = qrun("valdate", EXPERIMENTS / "bell.yaml")
    assert (result.code, result.err) == (2, "qrun: no command 'valdate'; did you mean 'qrun validate'?\n")
    assert qrun("validate", EXPERIMENTS / "bell.yaml").code == 0


def test_a_spec_that_exists_is_run_without_matching_it_against_the_commands(tmp_path):
    # only a first word that is neither a command nor a file is a possible typo: the did-you-mean (difflib) is not
    # imported on the way to every run, and a spec file named like a command is a spec
    (tmp_path / "valdate").write_text((EXPERIMENTS / "bell.yaml").read_text())
    code = (
        "import sys\nfrom qrun.cli import main\n"
        "code = main(['valdate', '--help'])\n"
        "print(code, 'difflib' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert done.stderr == ""
    assert done.stdout.splitlines()[0].startswith("Usage: qrun run [OPTIONS] SPEC")
    assert done.stdout.splitlines()[-1] == "0 False"


def test_an_error_from_the_runtime_is_one_line_whatever_breaks_its_text_holds(qrun, tmp_path):
    from qrun.errors import RunError
    from qrun.running.events import NullSink

    class Failing(NullSink):
        def job_started(self, job):
            raise RunError("runtime job d1 on ibm_fez: Job has failed:\nKaboom!\n  (code 1305)")

    qrun.sinks.append(Failing())
    result = qrun(EXPERIMENTS / "bell.yaml", "--out", tmp_path / "x")
    assert result.code == 1
    assert result.err.endswith("\nqrun: runtime job d1 on ibm_fez: Job has failed: Kaboom! (code 1305)\n")


def test_the_first_word_completes_to_a_command_or_a_specs_path(tmp_path, monkeypatch):
    """`qrun SPEC` is the main form, so a Tab after `qrun` offers paths beside the commands, and the shell's own file
    completion where no command matches; after a command, that command's own arguments."""
    from click.shell_completion import BashComplete

    from qrun.cli import cli

    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "vqe.yaml").write_text("")
    (tmp_path / "exports.txt").write_text("")
    (tmp_path / ".experiments-old").mkdir()
    monkeypatch.chdir(tmp_path)

    def offered(args: list[str], incomplete: str) -> list[tuple[str, str]]:
        found = BashComplete(cli, {}, "qrun", "_QRUN_COMPLETE").get_completions(args, incomplete)
        return [(item.type, item.value) for item in found]

    assert offered([], "ex") == [("plain", "export"), ("plain", "experiments/"), ("plain", "exports.txt")]
    assert offered([], ".ex") == [("file", ".ex")]  # no command: the shell completes it, hidden names included
    assert offered([], "experiments/v") == [("file", "experiments/v")]
    assert offered([], "sho") == [("plain", "show")]
    everything = offered([], "")
    assert ("plain", "run") in everything and everything[-2:] == [("plain", "experiments/"), ("plain", "exports.txt")]
    assert ("plain", "--version") in offered([], "--v")
    assert offered(["show"], "--a") == [("plain", "--all")]


def test_show_status_plot_and_rerun_without_a_run_take_the_newest_under_results(qrun, tmp_path, monkeypatch):
    """After `qrun SPEC`, `qrun show` is enough: the newest run under results/ (a multirun's point: its group for
    show and plot), named on stderr; with no runs there, a usage error says so."""
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    for command in ("show", "rerun"):
        assert (qrun(command).code, qrun(command).err) == (
            2,
            "qrun: no RUN_DIR given, and no runs under results/ to take the newest of\n",
        )
    bell = (EXPERIMENTS / "bell.yaml").read_text()
    (tmp_path / "a.yaml").write_text(bell.replace("name: bell", "name: a"))
    (tmp_path / "b.yaml").write_text(bell.replace("name: bell", "name: b"))
    assert qrun("a.yaml", "-q").code == 0
    newest = Path(qrun("b.yaml", "-q").out.strip())
    said = f"qrun: the newest run under results/: {newest}\n"
    shown = qrun("show")
    assert (shown.code, shown.err) == (0, said)
    assert shown.out.splitlines()[0].strip() == f"b: completed ({newest.name})"
    status = qrun("status")
    assert (status.err, status.out.splitlines()[0]) == (said, f"run {newest}: completed")
    plotted = qrun("plot")
    assert (plotted.err, plotted.out) == (said, f"{(newest / 'plots' / '00-counts.png').resolve()}\n")
    again = qrun("rerun", "-q")  # `qrun rerun` too: the newest run, again, into a new folder
    assert (again.code, again.err) == (0, said)
    rerun = Path(again.out.strip())
    assert rerun.parent == newest.parent and rerun != newest
    ran, before = ((folder / "spec.yaml").read_text().splitlines(keepends=True) for folder in (rerun, newest))
    assert ran[0] == f"# {newest / 'spec.yaml'} as qrun ran it: rendered, overrides applied, file circuits inlined.\n"
    assert ran[1:] == before[1:]  # one line says where it came from, not one more per rerun
    group = Path(qrun("a.yaml", "-q", "-m", "options.seed=1,2").out.strip())
    shown = qrun("show")
    assert shown.err == f"qrun: the newest run under results/: {group}\n"
    assert shown.out.splitlines()[0] == f"multirun {group.name}: 2 points over options.seed"
    assert qrun("status").err == f"qrun: the newest run under results/: {group}/options.seed=2\n"  # a run: its point


def test_the_newest_of_runs_begun_in_one_second_is_the_one_that_began_last(qrun, tmp_path, monkeypatch):
    """Folder names give a run's start to the second, then a random id: two runs of one spec begun in one second
    are told apart by when their metadata says each began, for --resume latest and for show without a RUN_DIR."""
    from qrun.store.reader import latest_run

    monkeypatch.chdir(tmp_path)
    (tmp_path / "bell.yaml").write_text((EXPERIMENTS / "bell.yaml").read_text())
    first, second = (Path(qrun("bell.yaml", "-q").out.strip()) for _ in range(2))
    stamp = first.name[:16]
    earlier, later = (
        first.rename(first.with_name(f"{stamp}-ffffff")),
        second.rename(second.with_name(f"{stamp}-000000")),
    )
    assert latest_run(Path("results"), "bell") == later
    assert qrun("show").err == f"qrun: the newest run under results/: {later}\n"
    assert earlier.is_dir()


def test_diff_of_one_run_or_none_compares_it_with_the_run_of_its_spec_before_it(qrun, tmp_path, monkeypatch):
    """`qrun diff` after a change and a run: the newest run against the one before it; `qrun diff RUN`: RUN against
    the run of its spec before it; the first run has none, and a usage error says so."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bell.yaml").write_text((EXPERIMENTS / "bell.yaml").read_text())
    runs = [Path(qrun("bell.yaml", "-q", "--set", f"options.seed={seed}").out.strip()) for seed in (1, 2, 3)]
    newest = qrun("diff")
    assert newest.code == 0 and newest.out == qrun("diff", runs[1], runs[2]).out
    assert newest.out.splitlines()[:2] == [f"spec: {runs[1].name} -> {runs[2].name}", "  options.seed: 2 -> 3"]
    assert newest.err == (
        f"qrun: the newest run under results/: {runs[2]}\nqrun: comparing the run before it, {runs[1]}, with {runs[2]}\n"
    )
    one = qrun("diff", runs[1])
    assert (one.code, one.out) == (0, qrun("diff", runs[0], runs[1]).out)
    first = qrun("diff", runs[0])
    assert (first.code, first.err) == (
        2,
        f"qrun: {runs[0]}: no earlier run of its spec to compare it with (qrun diff RUN_A RUN_B compares any two)\n",
    )
    group = Path(qrun("bell.yaml", "-q", "-m", "options.seed=4,5").out.strip())
    for folder, what in ((group, "a multirun group"), (group / "options.seed=4", "a point of a multirun")):
        refused = qrun("diff", folder)
        assert (refused.code, refused.err) == (
            2,
            f"qrun: {folder} is {what}: name the two runs to compare (qrun diff RUN_A RUN_B)\n",
        )


def test_a_specs_folder_stands_for_its_newest_run(qrun, tmp_path, monkeypatch):
    """`ls results/` shows each spec's folder: `qrun show results/bell` is its newest run, said on stderr (it said
    "not a qrun run folder"), for status, diff (the newest against the one before) and rerun alike; qrun.load
    names the run to load instead of guessing; a folder with no run under it keeps the reader's error."""
    import qrun as api
    from qrun.errors import RunFolderError

    monkeypatch.chdir(tmp_path)
    (tmp_path / "bell.yaml").write_text((EXPERIMENTS / "bell.yaml").read_text())
    runs = [Path(qrun("bell.yaml", "-q", "--set", f"options.seed={seed}").out.strip()) for seed in (1, 2)]
    said = f"qrun: the newest run under results/bell/: {runs[1]}\n"
    for folder in ("results/bell", "results/bell/"):
        shown = qrun("show", folder)
        assert (shown.code, shown.err) == (0, said)
        assert shown.out == qrun("show", runs[1]).out
    status = qrun("status", "results/bell")
    assert (status.err, status.out.splitlines()[0]) == (said, f"run {runs[1]}: completed")
    compared = qrun("diff", "results/bell")
    assert compared.err == said + f"qrun: comparing the run before it, {runs[0]}, with {runs[1]}\n"
    assert compared.out.splitlines()[:2] == [f"spec: {runs[0].name} -> {runs[1].name}", "  options.seed: 1 -> 2"]
    again = qrun("rerun", "results/bell", "-q")
    assert (again.code, again.err) == (0, said)
    assert qrun("show", "results").err == f"qrun: the newest run under results/: {Path(again.out.strip())}\n"
    with pytest.raises(RunFolderError) as raised:
        api.load("results/bell")
    assert (
        str(raised.value)
        == f"results/bell: a folder of runs, not a run; the newest of them is {Path(again.out.strip())}"
    )
    (tmp_path / "empty").mkdir()
    assert qrun("show", "empty").err == "qrun: empty: not a qrun run folder (no metadata.json)\n"


def test_a_run_whose_reader_goes_away_still_runs_every_job_and_exits_1(tmp_path):
    """`qrun SPEC 2>&1 | head -1`: the reader closes the pipe after the first line. The run goes on unwatched and
    keeps every job (a progress line failed it, "Broken pipe", and the supervised child exited 70, a code qrun does
    not have); qrun exits 1, as its output failed."""
    import os

    from conftest import many_jobs_spec

    spec = many_jobs_spec(tmp_path, 3, "primitive: sampler, circuit: b, shots: 10")
    read, write = os.pipe()
    child = subprocess.Popen(
        [sys.executable, "-m", "qrun", str(spec), "--out", "r"], cwd=tmp_path, stdout=write, stderr=write
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        assert pipe.readline().startswith("qrun: many: 3 jobs on aer in a batch")
    assert child.wait(timeout=120) == 1
    (meta,) = (tmp_path / "r" / "many").glob("*/metadata.json")
    recorded = json.loads(meta.read_text())
    assert (recorded["status"], [job["status"] for job in recorded["jobs"]]) == ("completed", ["done"] * 3)


def test_export_without_a_tool_says_which_there_are(qrun, tmp_path):
    """`qrun export RUN` said click's "No such command 'RUN'"; it names the tools, with the run in place."""
    run = tmp_path / "run"
    run.mkdir()
    said = [qrun("export", *args) for args in ([str(run), "--mlflow"], ["mlfow", str(run)], ["html"], ["parquet"])]
    assert [(s.code, s.err) for s in said] == [
        (
            2,
            f"qrun: '{run}' is what to export; name the tool first: qrun export mlflow {run} or qrun export "
            f"runtime-json {run}\n",
        ),
        (2, "qrun: no export 'mlfow'; did you mean 'qrun export mlflow'?\n"),
        (2, "qrun: no export 'html'; there are mlflow and runtime-json; an HTML page of runs is `qrun report`\n"),
        (2, "qrun: no export 'parquet'; there are mlflow and runtime-json\n"),
    ]
