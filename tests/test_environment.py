"""When the environment fails: a full disk, a read-only results root, and two qruns on one run folder."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from test_pipeline import FAILPOINT, FIVE, _qrun


def _can_mount() -> bool:
    if os.geteuid() != 0 or sys.platform != "linux":
        return False
    # a probe folder of this process's own: pytest-xdist's workers collect this module at the same time, and two
    # of them mounting and unmounting one shared path made one's umount fail ("target is busy")
    probe = Path(tempfile.mkdtemp(prefix="qrun-mount-probe-"))
    try:
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)], capture_output=True)
        if ok.returncode != 0:
            return False
        subprocess.run(["umount", str(probe)], check=True)
        return True
    finally:
        probe.rmdir()


needs_mount = pytest.mark.skipif(not _can_mount(), reason="needs root and tmpfs mounts (a small disk to fill)")


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs at tmp_path/disk, unmounted afterwards."""
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], check=True)
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def _meta(out: Path) -> tuple[Path, dict]:
    """The run's metadata as readers see it: metadata.json with the journal replayed."""
    from qrun.store.journal import read_metadata

    (run_dir,) = (out / "five").iterdir()
    return run_dir, read_metadata(run_dir)


@pytest.mark.slow  # a mounted small disk and a resume: CI's slow suite runs it
@needs_mount
def test_a_full_disk_fails_the_run_with_one_line_marks_it_failed_and_resume_completes_it(tmp_path, small_disk):
    spec = tmp_path / "five.yaml"
    spec.write_text(FIVE)
    out = small_disk / "results"
    filler = small_disk / "filler"
    # Leave room for the folder, its metadata and the space a run holds back for recording its end
    # (Journal.RESERVE), and little more: the job files soon fill the disk.
    from qrun.store.journal import Journal

    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    filler.write_bytes(b"\0" * (free - Journal.RESERVE - 24 * 1024))
    failed = _qrun(spec, "--out", out, "-q")
    assert failed.returncode == 1, failed.stderr
    (line,) = [x for x in failed.stderr.splitlines() if x.startswith("qrun:") and "No space" in x]
    assert line.endswith("No space left on device") and str(out) in line
    assert "Traceback" not in failed.stderr and "internal error" not in failed.stderr
    run_dir, meta = _meta(out)
    assert meta["status"] == "failed" and "No space left on device" in meta["error"]
    filler.unlink()
    resumed = _qrun(spec, "--out", out, "-q", "--resume", run_dir)
    assert resumed.returncode == 0, resumed.stderr
    assert _meta(out)[1]["status"] == "completed"


@pytest.mark.slow  # a mounted small disk and a resume: CI's slow suite runs it
@needs_mount
def test_a_read_only_results_root_is_one_line_and_resume_completes_once_writable(tmp_path, small_disk):
    spec = tmp_path / "five.yaml"
    spec.write_text(FIVE)
    out = small_disk / "results"
    killed = _qrun(spec, "--out", out, "-q", env={"QRUN_FAILPOINT": "job_started:2"})
    assert killed.returncode == -signal.SIGKILL
    run_dir, _ = _meta(out)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    refused = _qrun(spec, "--out", out, "-q", "--resume", run_dir)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines()[-1].endswith("Read-only file system")
    assert "Traceback" not in refused.stderr and "internal error" not in refused.stderr
    subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    resumed = _qrun(spec, "--out", out, "-q", "--resume", run_dir)
    assert resumed.returncode == 0, resumed.stderr
    assert _meta(out)[1]["status"] == "completed"


@pytest.mark.slow  # 10 s: two processes racing for one run folder
def test_two_resumes_of_one_run_one_runs_the_other_refuses_and_no_job_runs_twice(tmp_path):
    spec = tmp_path / "five.yaml"
    spec.write_text(FIVE)
    out = tmp_path / "results"
    assert _qrun(spec, "--out", out, "-q", env={"QRUN_FAILPOINT": "job_started:2"}).returncode == -signal.SIGKILL
    run_dir, _ = _meta(out)
    # The first resume holds the folder (paused inside job 3) while the second tries it.
    first = subprocess.Popen(
        [
            sys.executable,
            str(FAILPOINT),
            "job_started:3:pause=5",
            str(spec),
            "--out",
            str(out),
            "-q",
            "--resume",
            str(run_dir),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        from qrun.store.journal import read_metadata

        attempts = read_metadata(run_dir)["attempts"]
        if len(attempts) == 2 and attempts[-1]["pid"] == first.pid:
            break
        time.sleep(0.1)
    second = _qrun(spec, "--out", out, "-q", "--resume", run_dir)
    assert second.returncode == 2
    assert second.stderr.strip() == (
        f"qrun: {run_dir} is in use by another qrun (pid {first.pid}); wait for it to end, or stop it first"
    )
    assert first.wait(timeout=120) == 0, first.stderr.read()
    _, meta = _meta(out)
    assert meta["status"] == "completed" and len(meta["attempts"]) == 2
    submitted = [s["job"] for a in meta["attempts"] for s in a["submissions"]]
    once = [j["name"] for j in meta["jobs"] if j["primitive"] in ("estimator", "sampler") and "sweep" not in j]
    for name in once:
        assert submitted.count(name) == 1, (name, submitted)


def test_a_views_probe_of_a_run_folder_never_turns_a_qrun_away(tmp_path):
    """`qrun list` and `show` ask whether a run is held by taking a shared lock on its folder for an instant; a qrun
    that wants the folder in that instant waits the probe out instead of reporting the folder in use. A folder
    really in use is still refused."""
    import fcntl
    import os
    import threading

    from qrun.app.lock import RunLock
    from qrun.errors import UsageError

    folder = tmp_path / "run"
    folder.mkdir()
    probe = os.open(folder, os.O_RDONLY)
    fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)  # a probe caught holding it (held() lets go at once)
    threading.Timer(0.05, os.close, [probe]).start()
    lock = RunLock(folder)
    assert lock.fd is not None
    with pytest.raises(UsageError, match=f"^{re.escape(str(folder))} is in use by another qrun"):
        RunLock(folder)
    lock.release()
