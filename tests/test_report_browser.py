"""The HTML report in a real browser: headless Chromium (Debian's chromium and chromium-driver, which .ci/run
installs) driven by selenium. Sorting, filtering, a run page's figures and a screenshot."""

import shutil
from pathlib import Path

import pytest

from qrun.views.htmlreport import write

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (Path(CHROMIUM).exists() and Path(DRIVER).exists()),
        reason="no Chromium here: apt-get install chromium chromium-driver (.ci/run installs them)",
    ),
]


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip(
        "selenium.webdriver", reason="selenium is not installed: pip install 'qrun[browser]'"
    )
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # headless, and no background traffic: this machine's network is closed, and the page needs none
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1200",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def _column(driver, name: str) -> list[str]:
    from selenium.webdriver.common.by import By

    headers = [th.text.strip() for th in driver.find_elements(By.CSS_SELECTOR, ".runs-table thead th")]
    i = next(k for k, h in enumerate(headers) if h.rstrip(" ▲▼") == name)
    return [
        row.find_elements(By.TAG_NAME, "td")[i].text
        for row in driver.find_elements(By.CSS_SELECTOR, ".runs-table tbody tr")
        if row.is_displayed()
    ]


def _header(driver, name: str):
    from selenium.webdriver.common.by import By

    return next(
        th for th in driver.find_elements(By.CSS_SELECTOR, ".runs-table thead th") if th.text.rstrip(" ▲▼") == name
    )


def test_the_report_sorts_filters_and_draws_in_chromium(browser, field_runs, tmp_path):
    from selenium.webdriver.common.by import By

    root, group, single = field_runs
    report = write([root], tmp_path / "report.html")
    browser.get(report.as_uri())
    assert browser.find_element(By.ID, "runs").is_displayed()
    assert _column(browser, "theta=") == ["0", "1", "1.5", "0.5"]  # oldest first: the group ran first

    _header(browser, "theta=").click()
    assert _column(browser, "theta=") == ["0", "0.5", "1", "1.5"]  # as numbers
    _header(browser, "theta=").click()
    assert _column(browser, "theta=") == ["1.5", "1", "0.5", "0"]
    energies = [
        float(cell.split(" ± ")[0]) for cell in (_header(browser, "e.energy").click() or _column(browser, "e.energy"))
    ]
    assert energies == sorted(energies)

    box = browser.find_element(By.ID, "filter")
    box.send_keys("theta=1")
    assert sorted(_column(browser, "theta=")) == ["1", "1.5"]  # the point folders theta=1 and theta=1.5
    assert browser.find_element(By.ID, "shown").text == "2 of 4 runs"
    box.send_keys(".5")
    assert _column(browser, "theta=") == ["1.5"]
    (spec,) = browser.find_elements(By.CSS_SELECTOR, "#runs .spec")
    box.send_keys("no such run")  # a spec none of whose runs match is hidden whole, its heading too
    assert (spec.is_displayed(), browser.find_element(By.ID, "shown").text) == (False, "0 of 4 runs")
    box.clear()
    box.send_keys(" ")  # an input event with nothing to match: every row again
    assert len(_column(browser, "theta=")) == 4

    browser.find_element(By.LINK_TEXT, single.name).click()
    page = browser.find_element(By.CSS_SELECTOR, "section.run:target")
    assert not browser.find_element(By.ID, "runs").is_displayed()
    figures = page.find_elements(By.CSS_SELECTOR, "figure svg")
    assert [f.find_element(By.XPATH, "..").get_attribute("data-job") for f in figures] == ["counts", "curve", "ground"]
    for svg in figures:
        size = svg.size
        assert size["width"] > 200 and size["height"] > 150  # laid out, not an empty box
        assert len(svg.find_elements(By.CSS_SELECTOR, "path, use, rect")) > 10
    labels = [t.text for t in page.find_elements(By.CSS_SELECTOR, "figure svg text")]
    assert "<energy> [Ha]" in labels  # the value axes carry the observable's unit
    assert "phi" in labels and "evaluation" in labels and "outcome (meas)" in labels

    browser.get(report.as_uri() + "#group-1")
    group_page = browser.find_element(By.ID, "group-1")
    assert group_page.is_displayed()
    axes = [t.text for t in group_page.find_elements(By.CSS_SELECTOR, "svg text")]
    assert "theta" in axes and "e: <energy> [Ha]" in axes

    shot = tmp_path / "report.png"
    browser.get(report.as_uri() + "#run-4")
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000


def test_a_hundred_runs_stay_under_five_megabytes(field_runs, tmp_path):
    """Every figure kind in each of 100 run pages: the file stays small enough to mail."""
    _, _, single = field_runs
    for k in range(100):
        shutil.copytree(single, tmp_path / "results" / "field" / f"{single.name[:-6]}{k:06d}")
    report = write([tmp_path / "results"], tmp_path / "report.html")
    assert report.read_text().count('<section class="page run"') == 100
    assert report.stat().st_size < 5 * 1024 * 1024
