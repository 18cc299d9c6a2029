"""The one browser harness of the tests: open a report in Debian's headless Chromium and look at it.

Every HTML report (the run report, the drift report) is checked the same way: the page loads
without console errors or uncaught exceptions, requests nothing beyond itself (file and data URIs;
for an http page, its own origin), and its images render. Tests take the session fixture
``chromium`` (re-exported by tests/conftest.py) and call ``chromium.open(path_or_url)``.

The browser is Debian's ``chromium`` package at /usr/bin/chromium, driven by playwright (pinned in
requirements.lock), with a fresh profile per session and background networking off. Any request to
another origin is recorded and aborted, so a test never reaches the network. A missing Chromium
fails the test with the fix (`make test` installs it); it is never a skip.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, Request

# Debian's chromium by default; `make test` passes the browser it found (e.g. Google Chrome on CodeBuild's
# standard images) as ML_FACTORY_CHROMIUM
CHROMIUM = Path(os.environ.get("ML_FACTORY_CHROMIUM") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
LOAD_TIMEOUT_MS = 30_000
LOCAL_SCHEMES = ("file", "data", "about", "blob")

# every <img> decoded with a size, and every element that should hold one
IMAGES_SCRIPT = """() => Array.from(document.images).map(img => ({
  src: img.currentSrc.slice(0, 60), alt: img.alt, complete: img.complete,
  width: img.naturalWidth, height: img.naturalHeight,
  figure: img.closest('figure') ? (img.closest('figure').dataset.chart || '') : null,
  caption: img.closest('figure') && img.closest('figure').querySelector('figcaption')
    ? img.closest('figure').querySelector('figcaption').textContent : null}))"""


@dataclass
class PageVisit:
    """One page opened in Chromium and everything that went wrong while it loaded."""

    url: str
    page: Page
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Console errors, uncaught exceptions, failed requests and requests beyond the page itself."""
        return ([f"console error: {text}" for text in self.console_errors]
                + [f"page error: {text}" for text in self.page_errors]
                + [f"failed request: {text}" for text in self.failed_requests]
                + [f"network request beyond the page: {url}" for url in self.external_requests])

    def images(self) -> list[dict[str, Any]]:
        """Each <img>: decoded size, alt text, and the data-chart name and caption of its <figure>."""
        return self.page.evaluate(IMAGES_SCRIPT)

    def broken_images(self) -> list[dict[str, Any]]:
        return [image for image in self.images() if not image["complete"] or image["width"] == 0]

    def text(self, selector: str = "body") -> str:
        return self.page.inner_text(selector)


class HeadlessChromium:
    """Debian's Chromium under playwright, one profile; ``open`` gives a fresh page per call."""

    def __init__(self, context: BrowserContext):
        self.context = context
        self._origin: str | None = None
        # anything that is not local (or, for an http page, its own origin) is recorded and aborted
        context.route(re.compile(r"^(https?|wss?|ftp)://"), self._guard)

    def _guard(self, route: Any) -> None:
        if self._origin and _origin(route.request.url) == self._origin:
            route.continue_()
        else:
            route.abort("blockedbyclient")

    def open(self, target: Path | str) -> PageVisit:
        """Load a file (path) or URL, wait for the load event and the network to go quiet."""
        url = Path(target).resolve().as_uri() if isinstance(target, Path) else str(target)
        self._origin = _origin(url) if urlsplit(url).scheme in ("http", "https") else None
        page = self.context.new_page()
        visit = PageVisit(url, page)
        page.on("console", lambda message: visit.console_errors.append(message.text)
                if message.type == "error" else None)
        page.on("pageerror", lambda error: visit.page_errors.append(str(error)))
        page.on("requestfailed", lambda request: visit.failed_requests.append(
            f"{request.url[:120]} ({request.failure})"))
        page.on("request", lambda request: self._note_request(visit, request))
        page.goto(url, wait_until="load", timeout=LOAD_TIMEOUT_MS)
        page.wait_for_load_state("networkidle", timeout=LOAD_TIMEOUT_MS)
        return visit

    def _note_request(self, visit: PageVisit, request: Request) -> None:
        scheme = urlsplit(request.url).scheme
        if scheme not in LOCAL_SCHEMES and not (self._origin and _origin(request.url) == self._origin):
            visit.external_requests.append(request.url)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def launch_chromium(profile: Path) -> Iterator[HeadlessChromium]:
    """Start Chromium with a fresh profile in ``profile``; fails (never skips) when it is missing."""
    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM}: the browser tests need Debian's chromium package; "
                    "`make test` installs it (or run: sudo apt-get install -y chromium)", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed in this environment; run `make venv` (requirements.lock pins it)",
                    pytrace=False)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield HeadlessChromium(context)
        finally:
            context.close()


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HeadlessChromium]:
    """One headless Chromium for the session (fresh profile); ``chromium.open(path_or_url)`` per page."""
    yield from launch_chromium(tmp_path_factory.mktemp("chromium-profile"))
