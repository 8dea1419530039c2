"""The API docs and the site icon come from our own static files, in tests and once collected.

Swagger UI is drf-spectacular-sidecar's copy (pinned in requirements.txt), so /api/docs/ works
without reaching a CDN; the icon is static/favicon.ico and static/favicon.svg.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client
from PIL import Image

pytestmark = pytest.mark.django_db

PAGES_FROM_BASE_HTML = ("/", "/knowledge/", "/accounts/login/", "/accounts/signup/")


class _Links(HTMLParser):
    """Every src= and href= on a page, and the hrefs of its <link rel="icon">."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.icons: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("src", "href"):
            if values.get(name):
                self.urls.append(str(values[name]))
        if tag == "link" and "icon" in (values.get("rel") or "").split() and values.get("href"):
            self.icons.append(str(values["href"]))


def links(content: bytes) -> _Links:
    parser = _Links()
    parser.feed(content.decode())
    return parser


def static_file(url: str) -> Path:
    """The file a /static/ URL names, as the static files finders locate it."""
    assert url.startswith("/static/"), url
    found = finders.find(url.removeprefix("/static/"))
    assert isinstance(found, str), f"{url} is not among the static files"
    return Path(found)


def test_the_api_docs_name_no_other_host(client: Client) -> None:
    response = client.get("/api/docs/")

    assert response.status_code == 200
    # Not in an attribute, not in the inline script: nothing outside this site is fetched.
    assert not re.search(rb"https?://", response.content, re.I)
    urls = links(response.content).urls
    assert not [url for url in urls if url.startswith("//")]  # protocol-relative
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in urls
    for url in urls:
        if url.startswith("/api/docs/?script"):  # Swagger UI's set-up, a file of its own (CSP)
            script = client.get(url)
            assert script.status_code == 200 and b"SwaggerUIBundle" in script.content
            assert not re.search(rb"https?://", script.content, re.I)
        else:
            assert static_file(url).stat().st_size > 0


def test_the_favicon_address_browsers_guess_redirects_to_the_icon(client: Client) -> None:
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"] == "/static/favicon.ico"
    with Image.open(static_file(response["Location"])) as icon:
        assert icon.format == "ICO"
        assert (32, 32) in icon.info["sizes"]


@pytest.mark.parametrize("path", PAGES_FROM_BASE_HTML)
def test_pages_built_on_base_html_link_the_icon(client: Client, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 200
    icons = links(response.content).icons
    assert icons == ["/static/favicon.ico", "/static/favicon.svg"]
    assert b"<svg" in static_file(icons[1]).read_bytes()


def test_collected_static_files_serve_the_api_docs_and_the_icon(
    settings: Any, tmp_path: Path
) -> None:
    """What the Dockerfile does: collectstatic with the production storage, WhiteNoise serving."""
    settings.STATIC_ROOT = tmp_path / "staticfiles"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    client = Client()  # after collectstatic: WhiteNoise indexes STATIC_ROOT when it starts

    docs = links(client.get("/api/docs/").content).urls
    icons = links(client.get("/").content).icons
    redirect = client.get("/favicon.ico")["Location"]

    assert any(re.fullmatch(r".*/swagger-ui-bundle\.[0-9a-f]{12}\.js", url) for url in docs)
    assert re.fullmatch(r"/static/favicon\.[0-9a-f]{12}\.ico", redirect)
    for url in [*docs, *icons, redirect]:
        response = client.get(url)
        assert response.status_code == 200, url
        response.close()
