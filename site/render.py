"""The site's theme: mystmd's site content (JSON pages of MyST AST) -> static HTML pages.

mystmd's own themes are web applications downloaded when a site builds; this course's site
builds offline, so this small renderer stands in for one. It reads what `myst build --site`
writes (config.json: the pages in table-of-contents order; content/<slug>.json: each page's
AST, with the notebooks' outputs; public/: the plots and the notebooks as downloads) and
writes one `<slug>.html` per page, with relative links, beside style.css and files/.

A node type it does not know is rendered by its children and reported in `warnings`, so a
new MyST feature in a chapter shows up in the build's output instead of vanishing silently.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

THEME = Path(__file__).resolve().parent / "theme"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
Node = dict[str, Any]

warnings: list[str] = []


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def page_file(slug: str) -> str:
    return "index.html" if slug == "index" else f"{slug}.html"


def local_url(url: str, node: Node) -> str:
    """A site-relative URL from mystmd ('/send#x', '/', '/x.png') as a relative link."""
    if not url.startswith("/"):
        return url
    if node.get("internal"):
        path, _, anchor = url[1:].partition("#")
        target = page_file(path or "index")
        return f"{target}#{anchor}" if anchor else target
    return "files" + url


class Renderer:
    """MyST AST -> HTML, one method per node type (`_type`)."""

    def html(self, node: Node) -> str:
        method: Callable[[Node], str] | None = getattr(self, "_" + node["type"], None)
        if method is None:
            warnings.append(f"unknown MyST node {node['type']!r}, rendered by its children")
            return self.children(node)
        return method(node)

    def children(self, node: Node) -> str:
        return "".join(self.html(child) for child in node.get("children", []))

    def wrap(self, tag: str, node: Node, attributes: str = "") -> str:
        return f"<{tag}{attributes}>{self.children(node)}</{tag}>"

    def _root(self, node: Node) -> str:
        return self.children(node)

    def _block(self, node: Node) -> str:
        kind = node.get("kind", "")
        css = "cell code-cell" if kind == "notebook-code" else "cell"
        return self.wrap("div", node, f' class="{css}"')

    def _text(self, node: Node) -> str:
        return esc(node["value"])

    def _paragraph(self, node: Node) -> str:
        return self.wrap("p", node)

    def _heading(self, node: Node) -> str:
        anchor = node.get("html_id") or node.get("identifier")
        depth = node["depth"]
        attributes = f' id="{esc(anchor)}"' if anchor else ""
        return self.wrap(f"h{depth}", node, attributes)

    def _strong(self, node: Node) -> str:
        return self.wrap("strong", node)

    def _emphasis(self, node: Node) -> str:
        return self.wrap("em", node)

    def _delete(self, node: Node) -> str:
        return self.wrap("del", node)

    def _inlineCode(self, node: Node) -> str:  # noqa: N802 (MyST's node name)
        return f"<code>{esc(node['value'])}</code>"

    def _code(self, node: Node) -> str:
        lang = node.get("lang") or ""
        css = f' class="language-{esc(lang)}"' if lang else ""
        return f"<pre class='source'><code{css}>{esc(node['value'])}</code></pre>"

    def _link(self, node: Node) -> str:
        url = local_url(node["url"], node)
        external = url.startswith(("http://", "https://"))
        extra = ' rel="noopener" class="external"' if external else ""
        return self.wrap("a", node, f' href="{esc(url)}"{extra}')

    def _crossReference(self, node: Node) -> str:  # noqa: N802
        url = node.get("url") or f"#{node.get('html_id') or node.get('identifier', '')}"
        return self.wrap("a", node, f' href="{esc(local_url(url, {"internal": True}))}"')

    def _list(self, node: Node) -> str:
        if node.get("ordered"):
            start = node.get("start")
            return self.wrap("ol", node, f' start="{start}"' if start not in (None, 1) else "")
        return self.wrap("ul", node)

    def _listItem(self, node: Node) -> str:  # noqa: N802
        return self.wrap("li", node)

    def _blockquote(self, node: Node) -> str:
        return self.wrap("blockquote", node)

    def _thematicBreak(self, node: Node) -> str:  # noqa: N802
        return "<hr>"

    def _break(self, node: Node) -> str:
        return "<br>"

    def _table(self, node: Node) -> str:
        return self.wrap("table", node)

    def _tableRow(self, node: Node) -> str:  # noqa: N802
        return self.wrap("tr", node)

    def _tableCell(self, node: Node) -> str:  # noqa: N802
        tag = "th" if node.get("header") else "td"
        align = node.get("align")
        return self.wrap(tag, node, f' style="text-align:{align}"' if align else "")

    def _image(self, node: Node) -> str:
        url = node.get("url", "")
        if url in ("", "/undefined") and node.get("urlSource"):
            url = node["urlSource"]  # a remote image mystmd could not copy (offline): link it
        src = local_url(url, node)
        alt = node.get("alt") or node.get("title") or ""
        return f'<img src="{esc(src)}" alt="{esc(alt)}">'

    def _html(self, node: Node) -> str:
        return node["value"]

    def _inlineMath(self, node: Node) -> str:  # noqa: N802
        return f'<code class="math">{esc(node["value"])}</code>'

    def _math(self, node: Node) -> str:
        return f'<pre class="math">{esc(node["value"])}</pre>'

    def _outputs(self, node: Node) -> str:
        if not node.get("children"):
            return ""
        return self.wrap("div", node, ' class="outputs"')

    def _output(self, node: Node) -> str:
        return output_html(node["jupyter_data"])


def output_html(output: Node) -> str:
    """One Jupyter output as the notebook shows it: a plot, HTML, or text."""
    kind = output["output_type"]
    if kind == "stream":
        text = ANSI.sub("", output["text"])
        return f'<pre class="output stream-{esc(output["name"])}">{esc(text)}</pre>'
    if kind == "error":
        text = ANSI.sub("", "\n".join(output.get("traceback", [])))
        return f'<pre class="output error">{esc(text)}</pre>'
    data = output.get("data", {})
    if "image/png" in data:
        alt = data.get("text/plain", {}).get("content", "plot")
        src = local_url(data["image/png"]["path"], {})
        return f'<img class="output plot" src="{esc(src)}" alt="{esc(alt)}">'
    if "text/html" in data:
        return f'<div class="output html">{data["text/html"]["content"]}</div>'
    if "text/plain" in data:
        return f'<pre class="output text">{esc(data["text/plain"]["content"])}</pre>'
    warnings.append(f"output with no type the site shows: {sorted(data)}")
    return ""


def nav_html(pages: list[Node], current: str, title: str) -> str:
    items = []
    for page in pages:
        here = ' aria-current="page"' if page["slug"] == current else ""
        level = page.get("level", 1)
        items.append(
            f'<li class="level-{level}"><a href="{page_file(page["slug"])}"{here}>'
            f"{esc(page['title'])}</a></li>"
        )
    return (
        f'<nav class="toc" aria-label="Course contents"><a class="site-title" href="index.html">'
        f"{esc(title)}</a><ol>{''.join(items)}</ol></nav>"
    )


def pager_html(pages: list[Node], position: int) -> str:
    links = []
    if position > 0:
        before = pages[position - 1]
        href = page_file(before["slug"])
        links.append(f'<a rel="prev" href="{href}">← {esc(before["title"])}</a>')
    if position + 1 < len(pages):
        after = pages[position + 1]
        href = page_file(after["slug"])
        links.append(f'<a rel="next" href="{href}">{esc(after["title"])} →</a>')
    return f'<footer class="pager">{"".join(links)}</footer>'


def page_html(site_title: str, pages: list[Node], position: int, content: Node) -> str:
    page = pages[position]
    body = Renderer().html(content["mdast"])
    if not content["frontmatter"].get("content_includes_title"):
        # mystmd took the page's first heading as its title (the contents page's): put it back.
        body = f"<h1>{esc(content['frontmatter'].get('title', page['title']))}</h1>{body}"
    downloads = "".join(
        f'<a href="{esc(local_url(export["url"], {}))}" download="{esc(export["filename"])}">'
        f"{esc(export['filename'])}</a>"
        for export in content["frontmatter"].get("exports", [])
        if export.get("url")
    )
    source = f'<p class="source">Source: {downloads}</p>' if downloads else ""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(page['title'])} · {esc(site_title)}</title>"
        '<link rel="icon" href="data:,"><link rel="stylesheet" href="style.css"></head><body>'
        f"{nav_html(pages, page['slug'], site_title)}"
        f'<main><article class="{esc(content["kind"].lower())}">{body}</article>'
        f"{source}{pager_html(pages, position)}</main></body></html>\n"
    )


def render_site(site: Path, out: Path) -> list[Path]:
    """Write every page of mystmd's site content in `site` to `out`; the paths, index first."""
    warnings.clear()
    config = json.loads((site / "config.json").read_text(encoding="utf-8"))
    project = config["projects"][0]
    index = {"slug": project["index"], "title": "Contents", "level": 1}
    pages = [index, *project["pages"]]
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(site / "public", out / "files")
    shutil.copy2(THEME / "style.css", out)
    written = []
    for position, page in enumerate(pages):
        content = json.loads((site / "content" / f"{page['slug']}.json").read_text("utf-8"))
        target = out / page_file(page["slug"])
        target.write_text(page_html(project["title"], pages, position, content), "utf-8")
        written.append(target)
    return written
