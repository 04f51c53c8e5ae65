"""The course site (`python site/build.py`), built and read in a real browser.

The site is built once into a temporary folder (mystmd from site/node_modules, which
site/build.py installs with `npm ci` when missing), served from 127.0.0.1 on an ephemeral
port, and every page is opened in headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright, which never downloads a browser here). Without node, npm or chromium these tests
skip, except in CI (``CI=true``), where `.ci/run` installs them.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urldefrag, urlparse

import pytest
from conftest import require_tool
from playwright import sync_api

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
# The flags this machine's Chromium needs (no network but loopback; root; no GPU).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The one image from outside the site: the Binder badge on the contents page.
EXTERNAL_IMAGE_HOSTS = {"mybinder.org"}
STUB_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="109" height="20"></svg>'


@functools.cache
def load_build_module():
    """site/build.py as a module (the folder is not a package: `site` is Python's own name)."""
    spec = importlib.util.spec_from_file_location("gethy_site_build", ROOT / "site" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up while it is defined
    spec.loader.exec_module(module)
    return module


def notebook(cells: list[tuple[str, str]]) -> str:
    return json.dumps(
        {
            "cells": [{"cell_type": kind, "metadata": {}, "source": text} for kind, text in cells],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


def test_contents_order_first_then_chapters_the_contents_page_does_not_list_yet(tmp_path):
    build = load_build_module()
    notebooks, notes = tmp_path / "notebooks", tmp_path / "video-notes"
    notebooks.mkdir()
    notes.mkdir()
    for name in ["00-start.ipynb", "01-frames.ipynb", "02-events.ipynb", "05-lab.ipynb"]:
        (notebooks / name).write_text(notebook([]))
    (notebooks / "student").mkdir()
    (notebooks / "student" / "03-receive.ipynb").write_text(notebook([]))
    (notes / "01-frames.md").write_text("# Episode 01\n")
    index = "- [01](01-frames.ipynb)\n- [00](00-start.ipynb)\n- [04](04-gone.ipynb)\n"
    (notebooks / "index.ipynb").write_text(notebook([("markdown", index)]))

    chapters = build.chapters(notebooks, notes)

    assert [c.notebook.name for c in chapters] == [
        "01-frames.ipynb",  # the contents page's order,
        "00-start.ipynb",
        "02-events.ipynb",  # then the chapters it does not link to yet, by number;
        "05-lab.ipynb",  # a link to a missing notebook and notebooks/student/ are left out
    ]
    assert [c.video_note.name if c.video_note else None for c in chapters] == [
        "01-frames.md",
        None,
        None,
        None,
    ]


RFC_CASES = {
    "RFC 9113 §6.9": [("RFC 9113 §6.9", "rfc9113#section-6.9")],
    "see RFC 7541 Appendix A.": [("RFC 7541 Appendix A", "rfc7541#appendix-A")],
    "(RFC 7541, Appendix A)": [("RFC 7541, Appendix A", "rfc7541#appendix-A")],
    "section 6.5 of RFC 9113": [("section 6.5 of RFC 9113", "rfc9113#section-6.5")],
    "(RFC 7541 §6.2.1, §6.2.2); and RFC 9218": [
        ("RFC 7541 §6.2.1", "rfc7541#section-6.2.1"),
        ("§6.2.2", "rfc7541#section-6.2.2"),  # the RFC named last
        ("RFC 9218", "rfc9218"),
    ],
    "limits (§4.2, §6.9.2).": [
        ("§4.2", "rfc9113#section-4.2"),  # a bare § is RFC 9113's
        ("§6.9.2", "rfc9113#section-6.9.2"),
    ],
    "no reference here, 6.9 alone": [],
}


def test_rfc_plugin_links_each_form_of_reference():
    node = require_tool("node")
    script = (
        "import { linkText } from './site/rfc-links.mjs';"
        "const cases = JSON.parse(process.argv[1]);"
        "const out = cases.map((t) => (linkText(t, { rfc: '9113' }) ?? [])"
        "  .filter((n) => n.type === 'link').map((n) => [n.children[0].value, n.url]));"
        "console.log(JSON.stringify(out));"
    )
    done = subprocess.run(
        [node, "--input-type=module", "-e", script, json.dumps(list(RFC_CASES))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    links = json.loads(done.stdout)
    for (text, expected), got in zip(RFC_CASES.items(), links, strict=True):
        want = [[label, f"https://www.rfc-editor.org/rfc/{target}"] for label, target in expected]
        assert got == want, f"in {text!r}"


# --------------------------------------------------------------- the built site


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site, built by the documented command into a temporary folder: its html folder."""
    require_tool("node")
    require_tool("npm")
    build_dir = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "site/build.py", "--build-dir", str(build_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # mystmd's warnings and the renderer's unknown nodes are printed to stderr.
    assert done.stderr == "", done.stderr
    return build_dir / "html"


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    """The built site over HTTP on 127.0.0.1, an ephemeral port: its base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@dataclass
class Page:
    """What the browser saw on one page."""

    url: str
    errors: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    source: str = ""
    nav: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    cells: list[dict] = field(default_factory=list)
    unlinked_rfc_text: list[str] = field(default_factory=list)


LOOK = """() => ({
  titles: [...document.querySelectorAll('article h1')].map((h) => h.innerText),
  links: [...document.querySelectorAll('a[href]')].map((a) => a.href),
  ids: [...document.querySelectorAll('[id]')].map((e) => e.id),
  source: document.querySelector('p.source a[download]')?.getAttribute('download') ?? '',
  nav: [...document.querySelectorAll('nav.toc li a')].map((a) => a.href),
  images: [...document.images].map((i) => ({
    src: i.src, plot: i.classList.contains('plot'), ok: i.complete && i.naturalWidth > 0 })),
  cells: [...document.querySelectorAll('article .code-cell')].map((c) => {
    const out = c.querySelector('.outputs');
    return { output: !!out && (out.innerText.trim() !== '' || !!out.querySelector('img')) };
  }),
  unlinked: (() => {
    const found = [];
    const article = document.querySelector('article');
    const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const n = walker.currentNode;
      const prose = !n.parentElement.closest('a, code, pre, .outputs');
      if (prose && /RFC \\d{4}|§ ?\\d/.test(n.data)) found.push(n.data);
    }
    return found;
  })(),
})"""


@pytest.fixture(scope="module")
def browsed(served: str, site: Path, tmp_path_factory) -> dict[str, Page]:
    """Every page of the site opened in one headless Chromium; a chapter's screenshot taken."""
    require_tool("chromium")
    profile = tmp_path_factory.mktemp("chromium-profile")
    screenshots = tmp_path_factory.mktemp("screenshots")
    pages: dict[str, Page] = {}
    external: list[str] = []

    def route(route, request) -> None:
        if request.url.startswith(served):
            route.continue_()
            return
        external.append(request.url)  # no network here: answer with an empty picture
        route.fulfill(status=200, content_type="image/svg+xml", body=STUB_SVG)

    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            context.route("**/*", route)
            tab = context.new_page()
            current: list[str] = []
            tab.on("console", lambda m: m.type == "error" and current.append(m.text))
            tab.on("pageerror", lambda e: current.append(str(e)))
            for path in sorted(site.glob("*.html")):
                current.clear()
                response = tab.goto(served + path.name, wait_until="load")
                assert response is not None and response.ok, path.name
                look = tab.evaluate(LOOK)
                pages[path.name] = Page(
                    url=served + path.name,
                    errors=list(current),
                    titles=look["titles"],
                    links=look["links"],
                    ids=set(look["ids"]),
                    source=look["source"],
                    nav=look["nav"],
                    images=look["images"],
                    cells=look["cells"],
                    unlinked_rfc_text=look["unlinked"],
                )
            chapter = next(p for p in pages.values() if any(i["plot"] for i in p.images))
            tab.goto(chapter.url, wait_until="load")
            tab.locator("img.plot").first.scroll_into_view_if_needed()
            shot = screenshots / "chapter.png"
            tab.screenshot(path=str(shot))
            print(f"screenshot of {chapter.url.rsplit('/', 1)[1]}: {shot}")
        finally:
            context.close()
    hosts = {urlparse(url).hostname for url in external}
    assert hosts <= EXTERNAL_IMAGE_HOSTS, f"the site loads from outside: {external}"
    assert shot.stat().st_size > 10_000
    return pages


def expected_sources() -> list[str]:
    """Each page's source file, in the contents page's order (video notes are staged renamed)."""
    sources = ["index.ipynb"]
    for chapter in load_build_module().chapters():
        sources.append(chapter.notebook.name)
        if chapter.video_note is not None:
            sources.append(f"{chapter.video_note.stem}-video-note.md")
    return sources


def test_every_page_loads_without_console_errors(browsed):
    assert len(browsed) == len(expected_sources())
    assert {name: page.errors for name, page in browsed.items() if page.errors} == {}


def test_every_page_has_one_title(browsed):
    assert {name: page.titles for name, page in browsed.items() if len(page.titles) != 1} == {}


def test_navigation_follows_the_contents_page(browsed):
    by_url = {page.url: page for page in browsed.values()}
    first = browsed["index.html"]
    assert [by_url[url].source for url in first.nav] == expected_sources()
    assert all(page.nav == first.nav for page in browsed.values())


def test_every_internal_link_resolves(browsed, served):
    ids = {page.url: page.ids for page in browsed.values()}
    broken = []
    for name, page in browsed.items():
        for link in page.links:
            if not link.startswith(served):
                continue
            target, anchor = urldefrag(link)
            if target in ids:
                if anchor and anchor not in ids[target]:
                    broken.append((name, link))
                continue
            try:  # a download (the notebook or note a page was built from)
                with urllib.request.urlopen(target, timeout=10) as response:
                    if not response.read():
                        broken.append((name, link))
            except urllib.error.HTTPError as error:
                broken.append((name, f"{link}: {error.code}"))
    assert broken == []


def test_every_image_is_shown_and_every_plot_is_a_nonempty_file(browsed, site):
    assert [(n, i["src"]) for n, p in browsed.items() for i in p.images if not i["ok"]] == []
    plots = [image["src"] for page in browsed.values() for image in page.images if image["plot"]]
    assert plots, "no plot on the site"
    for src in plots:
        assert (site / urlparse(src).path.lstrip("/")).stat().st_size > 1000, src


def test_code_cells_show_the_outputs_the_notebooks_were_committed_with(browsed):
    notebooks = [page for page in browsed.values() if page.source.endswith(".ipynb")]
    assert len(notebooks) == 1 + len(load_build_module().chapters())
    for page in notebooks:
        cells = json.loads((ROOT / "notebooks" / page.source).read_text())["cells"]
        code = [cell for cell in cells if cell["cell_type"] == "code"]
        assert [c["output"] for c in page.cells] == [bool(c["outputs"]) for c in code], page.source
        plots = sum("image/png" in o.get("data", {}) for c in code for o in c["outputs"])
        assert sum(image["plot"] for image in page.images) == plots, page.source


def test_rfc_references_in_the_prose_are_links(browsed):
    assert {n: p.unlinked_rfc_text for n, p in browsed.items() if p.unlinked_rfc_text} == {}
    rfc_links = [link for page in browsed.values() for link in page.links if "rfc-editor" in link]
    assert "https://www.rfc-editor.org/rfc/rfc9113#section-6.9" in rfc_links
