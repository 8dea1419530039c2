"""Headless Chromium, driven by Selenium, against pytest-django's live server.

The browser is Debian's (`make browser` installs the chromium and chromium-driver packages);
both paths are given to Selenium, so Selenium Manager never tries to download one. Without
them the tests are skipped, except under CI=true, where they fail.

Analyses run eagerly inside the upload request, with the real shipped model: the live server
has no Celery worker beside it (tests/diagnosis/test_integration.py covers the real one).
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_django.live_server_helper import LiveServer
from selenium import webdriver
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from skincare_project.celery import app as celery_app
from tests.factories import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 20.0

# As the machine's notes require: no sandbox as root, and no background traffic, which this
# closed network refuses (and Chromium retries) at every start.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
)


def _require_browser() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if not missing:
        return
    reason = f"{' and '.join(missing)} not installed: run `make browser`"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the browser tests; {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    # Keep each phase's report on the test, so the driver fixture knows whether it failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """Where screenshots go: $E2E_SCREENSHOTS, or reports/e2e/ (ignored by git)."""
    path = Path(os.environ.get("E2E_SCREENSHOTS") or ROOT / "reports" / "e2e")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def chrome(django_db_setup: None, live_server: LiveServer) -> Iterator[webdriver.Chrome]:
    """One browser for the session; each test starts it with no cookies (see `browser`).

    It closes before the live server stops and the test database is dropped: the server
    answers each keep-alive connection in a thread that holds a database connection until
    the browser hangs up. PostgreSQL refuses to drop a database still in use, and an
    in-memory SQLite connection may only be closed there while the server shares it.
    """
    _require_browser()
    # Belt and braces: Selenium Manager is not run when both paths are given, but if it ever
    # were, it must not go looking for a browser to download.
    os.environ.setdefault("SE_OFFLINE", "true")
    profile = tempfile.mkdtemp(prefix="e2e-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    # The console, so each test can check that no page broke the Content-Security-Policy.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(
        service=Service(executable_path=str(CHROMEDRIVER)), options=options
    )
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
        # The browser has hung up; let the server's threads notice and close their connections.
        for thread in threading.enumerate():
            if thread.name.endswith("(process_request_thread)"):
                thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _analyses_run_in_the_request() -> Iterator[None]:
    """The upload's on_commit enqueue runs the real analysis task at once, in the server."""
    old = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = old


class Browser:
    """The live site as a person sees it: visit, type, click, wait for text."""

    def __init__(self, driver: webdriver.Chrome, base_url: str, screenshot_dir: Path) -> None:
        self.driver = driver
        self.base_url = base_url.rstrip("/")
        self.screenshot_dir = screenshot_dir

    def visit(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def wait(self, timeout: float = WAIT_S) -> WebDriverWait[webdriver.Chrome]:
        return WebDriverWait(self.driver, timeout)

    def find(self, css: str) -> WebElement:
        """The visible element matching `css`, once there is one."""
        return self.wait().until(ec.visibility_of_element_located((By.CSS_SELECTOR, css)))

    def wait_for_text(self, css: str, text: str, timeout: float = WAIT_S) -> WebElement:
        """The element matching `css`, once its visible text contains `text`."""
        def present(driver: webdriver.Chrome) -> bool:
            try:
                return text in driver.find_element(By.CSS_SELECTOR, css).text
            except (NoSuchElementException, StaleElementReferenceException):
                return False
            except WebDriverException as exc:
                # ChromeDriver's own word for a stale element, when the page it was read from
                # is replaced mid-read (a form posted, a redirect): look again.
                if "does not belong to the document" in str(exc):
                    return False
                raise

        try:
            self.wait(timeout).until(present)
        except TimeoutException:
            shown = [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, css)]
            raise AssertionError(
                f"{text!r} not in {css!r} after {timeout}s at {self.driver.current_url}; "
                f"it shows {shown!r}"
            ) from None
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def click_button(self, text: str) -> None:
        """Click the visible button whose text is `text`."""
        self.wait().until(
            ec.element_to_be_clickable((By.XPATH, f"//button[normalize-space()={_xq(text)}]"))
        ).click()

    def click_link(self, text: str) -> None:
        """Click the visible link whose text is `text`."""
        self.wait().until(ec.element_to_be_clickable((By.LINK_TEXT, text))).click()

    def log_in(self, username: str, password: str = PASSWORD) -> None:
        """Sign in from the login page as a person would, starting with no session."""
        self.driver.delete_all_cookies()
        self.visit("/accounts/login/")
        self.find("input[name=username]").send_keys(username)
        self.find("input[name=password]").send_keys(password)
        self.click_button("Log in")
        self.wait_for_text("header nav", f"Signed in as {username}")

    def text(self, css: str = "main") -> str:
        return " ".join(self.driver.find_element(By.CSS_SELECTOR, css).text.split())

    def screenshot(self, name: str) -> Path:
        """A PNG of the whole page, not only the window, under the screenshot folder."""
        path = self.screenshot_dir / f"{_safe(name)}.png"
        size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        shot = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                         "scale": 1},
            },
        )
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


def _xq(text: str) -> str:
    """`text` as an XPath string literal."""
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    return "concat(" + ", \"'\", ".join(f"'{part}'" for part in text.split("'")) + ")"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:120]


@pytest.fixture
def browser(
    request: pytest.FixtureRequest,
    chrome: webdriver.Chrome,
    live_server: LiveServer,
    screenshot_dir: Path,
) -> Generator[Browser, None, None]:
    """A signed-out browser on the live server; a screenshot is kept if the test fails."""
    chrome.delete_all_cookies()
    chrome.get_log("browser")  # what earlier tests left in the console
    page = Browser(chrome, live_server.url, screenshot_dir)
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        path = page.screenshot(f"FAILED-{request.node.name}")
        print(f"\nscreenshot of the page at failure ({chrome.current_url}): {path}")
    blocked = csp_violations(chrome.get_log("browser"))
    chrome.delete_all_cookies()
    # Every page this test opened (scripts, styles, the annotation editor, Swagger UI) ran
    # under the site's policy without the browser refusing anything.
    assert blocked == [], f"the Content-Security-Policy blocked: {blocked}"


def csp_violations(console: list[dict[str, Any]]) -> list[str]:
    return [
        entry["message"] for entry in console
        if "Content Security Policy" in entry.get("message", "")
    ]


