"""End-to-end tests of ``hfx serve`` in a real headless Chromium: the access token, uploads and
the folder picker, CLs against ``hfx cls``, a grid scan with live progress and its contour, a
second tab, a bad file's one-line message, and a screenshot of every pane.

Set HFX_WEB_SHOTS=/some/folder to keep the screenshots (they go to a temporary folder anyway).
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:
    pytest.skip("selenium is not installed", allow_module_level=True)

pytest.importorskip("hfx.interfaces.web")

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
WS = DATA / "workspaces" / "atlas" / "2018-31_BkgOnlyA.json"
PATCH = DATA / "workspaces" / "atlas" / "2018-31_BkgOnlyA.signal.json"
PATCHSET = DATA / "patchsets" / "2018-31_BkgOnlyA.patchset.json"
BROKEN = "broken.json"
FINAL = ("done", "failed", "cancelled")

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip("needs /usr/bin/chromium and /usr/bin/chromedriver", allow_module_level=True)
if not all(p.exists() for p in (WS, PATCH, PATCHSET)):
    pytest.skip(f"the shared data are missing under {DATA}", allow_module_level=True)


@dataclass(frozen=True)
class Served:
    url: str  # as printed, with the token
    base: str  # http://127.0.0.1:PORT
    token: str
    folder: Path


def _hfx(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hfx", *args], capture_output=True, text=True, timeout=120
    )


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _wait_listening(base: str, deadline: float) -> None:
    """Wait until the server answers (the URL may be printed just before it listens)."""
    while True:
        try:
            with urllib.request.urlopen(base + "/api/items", timeout=5):
                pass
        except urllib.error.HTTPError as refused:
            refused.close()
            return
        except urllib.error.URLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
        else:
            return


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("served")
    for source in (WS, PATCH, PATCHSET):
        shutil.copyfile(source, folder / source.name)
    (folder / BROKEN).write_text('{"channels": [\n')
    log = tmp_path_factory.mktemp("log") / "serve.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hfx", "serve", str(folder), "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        url = None
        deadline = time.monotonic() + 20
        while url is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                found = re.search(r"http://127\.0\.0\.1:\d+/\?token=\S+", lines.get(timeout=0.5))
            except queue.Empty:
                continue
            url = found and found.group(0)
        if url is None:
            pytest.fail(f"hfx serve printed no URL; its stderr: {log.read_text()}")
        base, token = url.split("/?token=")
        _wait_listening(base, time.monotonic() + 15)
        yield Served(url, base, token, folder)
    finally:
        _stop(proc)
        reader.join(timeout=5)
        assert proc.stdout is not None
        proc.stdout.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(arg)
    options.binary_location = str(CHROMIUM)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shots")


# --- helpers -------------------------------------------------------------------------------------


def wait(driver: Any, condition: Callable[[Any], Any], timeout: float = 30) -> Any:
    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition)


def js(driver: Any, script: str, *args: Any) -> Any:
    return driver.execute_script(script, *args)


def open_page(driver: Any, served: Served) -> None:
    driver.get("about:blank")
    driver.get(served.url)
    wait(driver, lambda d: js(d, "return document.body.dataset.ready === 'true'"))


def show(driver: Any, pane: str) -> None:
    driver.find_element(By.ID, f"tab-{pane}").click()
    wait(driver, lambda d: d.find_element(By.ID, f"pane-{pane}").is_displayed())


def item_count(driver: Any) -> int:
    return len(driver.find_elements(By.CSS_SELECTOR, "#items li[data-item]"))


def upload(driver: Any, *paths: Path) -> None:
    before = item_count(driver)
    driver.find_element(By.ID, "upload").send_keys("\n".join(str(p) for p in paths))
    wait(driver, lambda d: item_count(d) >= before + len(paths))


def choose(driver: Any, select_id: str, prefix: str) -> None:
    """Select the last (newest) option of a <select> whose label starts with ``prefix``."""
    select = Select(driver.find_element(By.ID, select_id))
    values = [o.get_attribute("value") for o in select.options if o.text.startswith(prefix)]
    assert values, f"no option {prefix!r} in #{select_id}"
    select.select_by_value(values[-1])


def job_ids(driver: Any) -> list[str]:
    return js(driver, "return [...document.querySelectorAll('#jobs li[id]')].map(li => li.id)")


def run_job(driver: Any, kind: str, patch: str) -> str:
    """Start a job on the BkgOnlyA workspace from the Compute pane; its id as the page has it."""
    show(driver, "compute")
    choose(driver, "ws-select", WS.name)
    choose(driver, "patch-select", patch)
    Select(driver.find_element(By.ID, "kind-select")).select_by_value(kind)
    before = set(job_ids(driver))
    driver.find_element(By.ID, "run").click()
    new = wait(driver, lambda d: set(job_ids(d)) - before)
    return new.pop().removeprefix("job-")


def images_loaded(driver: Any) -> bool:
    return js(
        driver,
        "return [...document.images].filter(i => i.offsetParent).every(i => i.complete)",
    )


def shoot(driver: Any, shots: Path, name: str) -> Path:
    """A screenshot of the whole page (the window grows to its height, at most 3000 px)."""
    try:
        for _ in range(4):  # (images loading below the fold make the page taller)
            wait(driver, images_loaded)
            page, view = js(driver, "return [document.documentElement.scrollHeight, innerHeight]")
            window = driver.get_window_size()["height"]
            if page <= view or window >= 3000:
                break
            driver.set_window_size(1400, min(window + page - view, 3000))
        wait(driver, images_loaded)
        path = shots / f"{name}.png"
        assert driver.save_screenshot(str(path))
    finally:
        driver.set_window_size(1400, 1000)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") >= 1000  # (the width, from the IHDR chunk)
    if os.environ.get("HFX_WEB_SHOTS"):
        keep = Path(os.environ["HFX_WEB_SHOTS"])
        keep.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, keep / path.name)
    return path


# --- tests ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/", {}, 401),
        ("/api/items", {}, 401),
        ("/?token=wrong", {}, 403),
        ("/api/items", {"Authorization": "Bearer wrong"}, 403),
    ],
)
def test_refused_without_the_token(
    served: Served, path: str, headers: dict[str, str], status: int
) -> None:
    request = urllib.request.Request(served.base + path, headers=headers)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    with refused.value as answer:
        assert answer.code == status
        assert json.loads(answer.read())["error"]


def test_cls_in_the_page_is_the_command_line_cls(served: Served, browser: Any, shots: Path) -> None:
    ws, patch = served.folder / WS.name, served.folder / PATCH.name
    cli = _hfx("cls", str(ws), "--patch", str(patch))
    assert cli.returncode == 0, cli.stderr
    expected = json.loads(cli.stdout)

    open_page(browser, served)
    upload(browser, ws, patch)
    # the workspace opens in Inspect: its tables and one yields figure per channel
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#item-detail table"))
    channels = browser.find_elements(By.CSS_SELECTOR, "#yields-plots img")
    assert len(channels) == 3
    shoot(browser, shots, "inspect")

    job = run_job(browser, "cls", PATCH.name)
    done = f"#result [data-job='{job}'][data-state='done']"
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, done), timeout=60)
    observed = float(browser.find_element(By.ID, "cls-obs").text)
    assert observed == pytest.approx(expected["CLs_obs"], rel=1e-9)
    # (read in one script: the result may be drawn again by a later poll, which would make
    # element handles found one call earlier stale)
    band = browser.execute_script(
        "return [...document.querySelectorAll('#cls-exp td.num')].map(td => td.title)"
    )
    assert [float(title) for title in band] == pytest.approx(expected["CLs_exp"], rel=1e-9)
    shoot(browser, shots, "compute_cls")

    assert not browser.find_element(By.ID, "error").is_displayed()
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors


def test_scan_with_live_progress_and_contour(served: Served, browser: Any, shots: Path) -> None:
    open_page(browser, served)
    show(browser, "inspect")
    before = item_count(browser)
    for name in (WS.name, PATCHSET.name):  # this time from the folder picker
        browser.find_element(By.CSS_SELECTOR, f"#folders li[title='open {name}']").click()
    wait(browser, lambda d: item_count(d) >= before + 2)

    job = run_job(browser, "scan", PATCHSET.name)
    row = f"#job-{job}"
    seen, state = set(), None
    deadline = time.monotonic() + 90
    while state not in FINAL and time.monotonic() < deadline:
        state, progress = js(
            browser,
            "const li = document.querySelector(arguments[0]);"
            "return [li.dataset.state, li.querySelector('.progress-text')?.textContent];",
            row,
        )
        seen.add(progress)
        time.sleep(0.05)
    assert state == "done"
    final = browser.find_element(By.CSS_SELECTOR, f"{row} .progress-text").text
    assert final == "117/117"
    assert seen - {None, final}, "no progress was shown before the end"

    contour = "#result img[data-plot='contour']"
    loaded = f'const i = document.querySelector("{contour}"); return !!i && i.naturalWidth > 0'
    wait(browser, lambda d: js(d, loaded), timeout=30)
    shoot(browser, shots, "compute_scan")

    # a second tab sees the same job, and exports its result
    first = browser.current_window_handle
    browser.switch_to.new_window("tab")
    try:
        open_page(browser, served)
        show(browser, "compute")
        wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, f"{row} .progress-text").text)
        assert browser.find_element(By.CSS_SELECTOR, f"{row} .progress-text").text == "117/117"
        show(browser, "export")
        for what in ("result.json", "plots/contour.png", "plots/contour.svg"):
            assert browser.find_elements(By.CSS_SELECTOR, f"a[href^='/api/jobs/{job}/{what}']")
        shoot(browser, shots, "export")
    finally:
        browser.close()
        browser.switch_to.window(first)
    result = urllib.request.Request(
        f"{served.base}/api/jobs/{job}/result.json",
        headers={"Authorization": f"Bearer {served.token}"},
    )
    with urllib.request.urlopen(result, timeout=10) as answer:
        assert len(json.loads(answer.read())["records"]) == 117


def test_a_bad_file_shows_the_command_line_message(
    served: Served, browser: Any, shots: Path
) -> None:
    bad = served.folder / BROKEN
    cli = _hfx("inspect", str(bad))
    assert cli.returncode == 2
    cli_line = cli.stderr.strip().splitlines()[-1]  # "hfx: error: /…/broken.json: malformed …"

    open_page(browser, served)
    show(browser, "inspect")
    browser.find_element(By.ID, "upload").send_keys(str(bad))
    wait(browser, lambda d: d.find_element(By.ID, "error").is_displayed())
    message = browser.find_element(By.ID, "error-text").text
    assert BROKEN in message
    assert "\n" not in message
    assert cli_line.endswith(message)
    shoot(browser, shots, "error")
