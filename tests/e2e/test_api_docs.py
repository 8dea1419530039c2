"""/api/docs/ and the site icon in a real browser, with nothing but the live server to reach.

The browser's own list of what a page fetched (the Resource Timing entries) shows that Swagger UI
came from this site; the icon is fetched from the page's <link rel="icon">, since the browser's
own favicon request leaves no trace a page can read.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.by import By

from tests.e2e.conftest import Browser

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

FETCH = """
const done = arguments[arguments.length - 1];
fetch(arguments[0]).then(
  r => done({url: r.url, status: r.status, type: r.headers.get("Content-Type"),
             redirected: r.redirected}),
  e => done({error: String(e)}));
"""


def fetched(browser: Browser) -> list[dict[str, Any]]:
    """What the page loaded (scripts, styles, the schema): address and HTTP status."""
    entries: list[dict[str, Any]] = browser.driver.execute_script(
        "return performance.getEntriesByType('resource')"
        ".map(e => ({url: e.name, status: e.responseStatus}))"
    )
    return entries


def fetch(browser: Browser, url: str) -> dict[str, Any]:
    result: dict[str, Any] = browser.driver.execute_async_script(FETCH, url)
    return result


def icon_links(browser: Browser) -> list[str]:
    return [
        str(link.get_attribute("href"))
        for link in browser.driver.find_elements(By.CSS_SELECTOR, "link[rel~=icon]")
    ]


def test_the_api_docs_show_the_operations_from_this_site_alone(browser: Browser) -> None:
    browser.visit("/api/docs/")

    browser.find(".opblock-summary-path[data-path='/api/v1/cases/']")
    assert len(browser.driver.find_elements(By.CSS_SELECTOR, ".opblock")) > 10
    cases = ".opblock:has(.opblock-summary-path[data-path='/api/v1/cases/'])"
    methods = browser.driver.find_elements(By.CSS_SELECTOR, f"{cases} .opblock-summary-method")
    assert {method.text for method in methods} == {"GET", "POST"}
    here = urlsplit(browser.base_url).netloc
    loaded = fetched(browser)
    urls = [entry["url"] for entry in loaded]
    assert any(
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle" in u for u in urls
    )
    assert any(urlsplit(u).path == "/api/schema/" for u in urls)
    assert [e for e in loaded if urlsplit(e["url"]).netloc != here or e["status"] != 200] == []
    for href in icon_links(browser):
        assert fetch(browser, href)["status"] == 200, href


def test_a_page_of_the_site_has_an_icon_the_server_finds(browser: Browser) -> None:
    browser.visit("/")

    hrefs = icon_links(browser)
    assert len(hrefs) == 2
    for href in hrefs:
        answer = fetch(browser, href)
        assert answer["status"] == 200, answer
        assert answer["type"].startswith("image/"), answer
    guessed = fetch(browser, "/favicon.ico")
    assert guessed["redirected"] and guessed["status"] == 200, guessed
    assert urlsplit(guessed["url"]).path == urlsplit(hrefs[0]).path
