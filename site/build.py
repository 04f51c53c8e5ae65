"""Build the course's static site: `python site/build.py` -> site/_build/html/index.html.

The site is the solved notebooks, with the outputs and plots they are committed with (nothing
is executed), and the video notes, in the order of the contents page:

1. `npm ci` installs the pinned mystmd into site/node_modules, once (Node.js and npm needed).
2. The table of contents is read off notebooks/index.ipynb: the chapters it links to, in its
   order, then any `notebooks/NN-*.ipynb` it does not link to yet, so a new chapter appears
   without an edit here. Each chapter's video note (`video-notes/NN-*.md`) follows it.
3. Copies of those files, with site/myst.yml plus that table of contents, go to a staging
   folder, where mystmd (`myst build --site`) parses them, runs the RFC-link plugin
   (site/rfc-links.mjs) and writes the site's content: one JSON page each, images extracted.
4. site/render.py turns that content into plain static HTML pages with relative links: they
   open from any web server, or straight from the disk.

Options: `--build-dir DIR` (default site/_build): staging in DIR/src, pages in DIR/html.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

SITE = Path(__file__).resolve().parent
ROOT = SITE.parent
NOTEBOOKS = ROOT / "notebooks"
VIDEO_NOTES = ROOT / "video-notes"
CHAPTER = re.compile(r"^(\d\d)-[\w-]+\.ipynb$")
LINK_TARGET = re.compile(r"\]\((\d\d-[\w-]+\.ipynb)\)")


@dataclass(frozen=True)
class Chapter:
    """One notebook of the course, and the video note of its episode (if written yet)."""

    notebook: Path
    video_note: Path | None


def chapters(notebooks: Path = NOTEBOOKS, video_notes: Path = VIDEO_NOTES) -> list[Chapter]:
    """The chapters in the contents page's order; chapters it does not list yet go last."""
    present = sorted(p.name for p in notebooks.glob("[0-9][0-9]-*.ipynb") if CHAPTER.match(p.name))
    index = json.loads((notebooks / "index.ipynb").read_text(encoding="utf-8"))
    linked: list[str] = []
    for cell in index["cells"]:
        if cell["cell_type"] == "markdown":
            linked += LINK_TARGET.findall("".join(cell["source"]))
    order = [name for name in dict.fromkeys(linked) if name in present]
    order += [name for name in present if name not in order]
    result = []
    for name in order:
        notes = sorted(video_notes.glob(f"{name[:2]}-*.md"))
        result.append(Chapter(notebooks / name, notes[0] if notes else None))
    return result


def staged_note_name(chapter: Chapter) -> str:
    """04-send.md is staged as 04-send-video-note.md: its page is send-video-note.html, beside
    the notebook's send.html (mystmd names a page after its file, without the number)."""
    assert chapter.video_note is not None
    return f"{chapter.video_note.stem}-video-note.md"


def myst_config(toc_chapters: list[Chapter]) -> dict:
    """site/myst.yml with the table of contents added (paths relative to the staging folder)."""
    config = yaml.safe_load((SITE / "myst.yml").read_text(encoding="utf-8"))
    toc: list[dict] = [{"file": "notebooks/index.ipynb"}]
    for chapter in toc_chapters:
        entry: dict = {"file": f"notebooks/{chapter.notebook.name}"}
        if chapter.video_note is not None:
            entry["children"] = [{"file": f"video-notes/{staged_note_name(chapter)}"}]
        toc.append(entry)
    config["project"]["toc"] = toc
    return config


def stage(folder: Path, toc_chapters: list[Chapter]) -> None:
    """A fresh MyST project in `folder`: the config, the plugin, the theme and the sources."""
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "notebooks").mkdir(parents=True)
    (folder / "video-notes").mkdir()
    shutil.copy2(SITE / "rfc-links.mjs", folder)
    shutil.copytree(SITE / "theme", folder / "theme")
    shutil.copy2(NOTEBOOKS / "index.ipynb", folder / "notebooks")
    for chapter in toc_chapters:
        shutil.copy2(chapter.notebook, folder / "notebooks")
        if chapter.video_note is not None:
            shutil.copy2(chapter.video_note, folder / "video-notes" / staged_note_name(chapter))
    # JSON is YAML, and keeps the written file free of YAML's own surprises.
    config = json.dumps(myst_config(toc_chapters), indent=2, ensure_ascii=False)
    (folder / "myst.yml").write_text(config + "\n", encoding="utf-8")


def ensure_mystmd() -> Path:
    """The pinned mystmd's entry point; `npm ci` first when it is missing or not the pinned one."""
    lock = json.loads((SITE / "package-lock.json").read_text(encoding="utf-8"))
    pinned = lock["packages"]["node_modules/mystmd"]["version"]
    installed = SITE / "node_modules" / "mystmd" / "package.json"
    if not installed.exists() or json.loads(installed.read_text())["version"] != pinned:
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("npm is not installed: apt-get install nodejs npm (see README)")
        run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=SITE)
    return SITE / "node_modules" / "mystmd" / "dist" / "myst.cjs"


def run(command: list[str], cwd: Path) -> str:
    """Run `command`; its output is shown only when it fails, or returned for the warnings."""
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"{' '.join(command[:3])} failed with exit code {done.returncode}")
    return done.stdout + done.stderr


def build(build_dir: Path) -> list[Path]:
    """Build the site into build_dir/html; the pages written, index.html first."""
    if str(SITE) not in sys.path:
        sys.path.insert(0, str(SITE))
    import render  # site/render.py, the theme

    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is not installed: apt-get install nodejs npm (see README)")
    myst = ensure_mystmd()
    source = build_dir / "src"
    stage(source, chapters())
    log = run([node, str(myst), "build", "--site"], cwd=source)
    for line in log.splitlines():
        # mystmd marks problems with ⚠ or ⛔, or says "error"; a chapter's file name may
        # contain "errors" (08-errors-and-attacks), which is no problem.
        if "⚠" in line or "⛔" in line or re.search(r"\berror\b", line, re.IGNORECASE):
            print("mystmd:", line.strip(), file=sys.stderr)
    pages = render.render_site(source / "_build" / "site", build_dir / "html")
    for warning in sorted(set(render.warnings)):
        print("render:", warning, file=sys.stderr)
    return pages


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=SITE / "_build")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    pages = build(args.build_dir.resolve())
    seconds = time.perf_counter() - started
    print(f"{len(pages)} pages in {pages[0].parent} ({seconds:.1f} s); open {pages[0]}")


if __name__ == "__main__":
    main()
