import pytest
from conftest import EXPERIMENTS

matplotlib = pytest.importorskip("matplotlib")


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("vqe.yaml", ["00-vqe.png", "01-final-counts.png"]),
        ("ising_sweep.yaml", ["00-energy.png"]),
        ("bell.yaml", ["00-counts.png"]),
    ],
)
def test_plot_writes_non_trivial_pngs(qrun, tmp_path, spec, expected):
    import matplotlib.image

    assert qrun(EXPERIMENTS / spec, "--out", tmp_path, "--quiet").code == 0
    (run_dir,) = [p for p in tmp_path.glob("*/*") if p.is_dir()]
    result = qrun("plot", run_dir)
    assert result.code == 0, result.err
    pngs = sorted((run_dir / "plots").iterdir())
    assert [p.name for p in pngs] == expected
    assert result.out.splitlines() == [str(p) for p in pngs]
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        image = matplotlib.image.imread(png)
        height, width = image.shape[:2]
        assert width > 400 and height > 300
        # more than a blank canvas: many distinct colours (axes, labels, data)
        assert len({tuple(px) for px in image.reshape(-1, image.shape[2])[::37]}) > 20
