"""tests/browser.py: the harness must see what a broken report does (else its passes mean nothing)."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

# a 1x1 PNG
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
PIXEL_URI = "data:image/png;base64," + base64.b64encode(PIXEL).decode()


def test_clean_self_contained_page_has_no_problems(chromium, tmp_path: Path) -> None:
    page = tmp_path / "clean.html"
    page.write_text(f'<!doctype html><title>ok</title><figure data-chart="dot"><img src="{PIXEL_URI}" alt="a dot">'
                    "<figcaption>One dot.</figcaption></figure>")

    visit = chromium.open(page)

    assert visit.problems() == []
    [image] = visit.images()
    assert (image["width"], image["figure"], image["caption"], image["alt"]) == (1, "dot", "One dot.", "a dot")
    assert visit.broken_images() == []


def test_errors_external_requests_and_broken_images_are_reported(chromium, tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text('<!doctype html><title>broken</title><img src="missing.png" alt="gone">'
                    '<img src="https://example.invalid/tracker.png" alt="remote">'
                    '<script>console.error("boom"); setTimeout(() => { throw new Error("kaboom"); });</script>')

    visit = chromium.open(page)

    problems = "\n".join(visit.problems())
    assert "console error: boom" in problems
    assert "page error:" in problems and "kaboom" in problems
    assert "network request beyond the page: https://example.invalid/tracker.png" in problems
    assert any("missing.png" in failed for failed in visit.failed_requests)
    assert sorted(image["alt"] for image in visit.broken_images()) == ["gone", "remote"]


@pytest.fixture
def loopback_site(tmp_path: Path) -> Iterator[str]:
    """A page served on 127.0.0.1 that loads an image from its own origin and one from elsewhere."""
    (tmp_path / "dot.png").write_bytes(PIXEL)
    (tmp_path / "index.html").write_text('<!doctype html><title>served</title><img src="/dot.png" alt="own">'
                                         '<img src="https://example.invalid/x.png" alt="remote">')
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        pass


def test_served_page_may_load_from_its_own_origin_only(chromium, loopback_site: str) -> None:
    visit = chromium.open(loopback_site)

    assert visit.external_requests == ["https://example.invalid/x.png"]
    assert {image["alt"]: image["width"] for image in visit.images()} == {"own": 1, "remote": 0}


def test_missing_chromium_fails_with_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import browser

    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "no-chromium")

    with pytest.raises(pytest.fail.Exception, match=r"Chromium not found at .*`make test` installs it"):
        next(browser.launch_chromium(tmp_path / "profile"))
