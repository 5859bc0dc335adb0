"""The docs site builds with `mkdocs build --strict` (a broken link or anchor is a warning, so a failed
build), every link inside the built site reaches a page and an anchor that exist, and every link of
the README into the docs does too. The README stays a front page."""

import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config), "--site-dir", str(site)],
        cwd=config.parent,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site = tmp_path_factory.mktemp("site")
    built = mkdocs_build(ROOT / "mkdocs.yml", site)
    assert built.returncode == 0, built.stderr
    assert "WARNING" not in built.stderr, built.stderr
    return site


class _Links(HTMLParser):
    """The hrefs of <a> elements and every id of one HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"])
        if tag == "a" and values.get("href"):
            self.hrefs.append(values["href"])


def _parsed(page: Path) -> _Links:
    links = _Links()
    links.feed(page.read_text(encoding="utf-8"))
    return links


def _target(site: Path, page: Path, href: str) -> tuple[Path, str]:
    """The file an internal href reaches (a directory means its index.html) and its fragment."""
    parts = urlsplit(href)
    path = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
    if path.is_dir() or parts.path.endswith("/"):
        path = path / "index.html"
    return path, unquote(parts.fragment)


def broken_links(site: Path) -> list[str]:
    """Every <a href> of every built page that leaves the site's files or names a missing anchor. The
    theme's 404 page is left out: its links are absolute, for whatever path it is served at."""
    pages = {page: _parsed(page) for page in site.rglob("*.html") if page.name != "404.html"}
    broken = []
    for page, links in pages.items():
        for href in links.hrefs:
            if urlsplit(href).scheme or href.startswith(("//", "mailto:")):
                continue
            path, fragment = _target(site, page, href)
            where = f"{page.relative_to(site)}: {href}"
            if not path.is_file() or not path.is_relative_to(site.resolve()):
                broken.append(f"{where} (no such file)")
            elif fragment and fragment not in pages.get(path, _Links()).ids:
                broken.append(f"{where} (no such anchor)")
    return broken


def test_the_site_builds_strict_and_every_link_inside_it_resolves(site):
    assert (site / "index.html").is_file()
    assert broken_links(site) == []


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


@pytest.mark.parametrize("page, generated", [("develop/benchmarks", "bench.md"), ("develop/mutation", "mutation.md")])
def test_the_pages_include_the_generated_tables(site, page, generated):
    html = (site / page / "index.html").read_text(encoding="utf-8")
    markdown = (DOCS / "generated" / generated).read_text(encoding="utf-8")
    first = next(line for line in markdown.splitlines() if line.strip() and not line.startswith("<!--"))
    assert _text(re.sub(r"[`*#|]", "", first)).strip()[:40] in _text(html)
    assert "--8&lt;--" not in html and "Do not edit" not in _text(html)


def test_mermaid_diagrams_are_rendered_by_the_theme(site):
    html = (site / "how-it-works" / "architecture" / "index.html").read_text(encoding="utf-8")
    assert '<pre class="mermaid"><code>flowchart LR' in html


@pytest.mark.parametrize(
    "link", ["[gone](no-such-page.md)", "[gone](troubleshooting.md#no-such-heading)"], ids=["page", "anchor"]
)
def test_a_broken_link_fails_the_strict_build(tmp_path, link):
    shutil.copytree(DOCS, tmp_path / "docs")
    with (tmp_path / "docs" / "index.md").open("a", encoding="utf-8") as index:
        index.write(f"\nSee {link}.\n")
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    built = mkdocs_build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert built.returncode != 0
    assert link.split("(")[1].rstrip(")").split("#")[-1] in built.stderr


def test_the_link_checker_reports_a_missing_anchor(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "index.html").write_text('<a href="a/#here">ok</a><a href="a/#gone">x</a><a href="b/">y</a>')
    (tmp_path / "a" / "index.html").write_text('<h2 id="here">Here</h2>')
    assert broken_links(tmp_path) == ["index.html: a/#gone (no such anchor)", "index.html: b/ (no such file)"]


README_LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_every_readme_link_into_the_repository_resolves(site):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    checked = []
    for href in README_LINK.findall(readme):
        if urlsplit(href).scheme:
            continue
        parts = urlsplit(href)
        path = ROOT / unquote(parts.path)
        assert path.exists(), href
        if parts.fragment:
            assert path.is_relative_to(DOCS) and path.suffix == ".md", href
            page = site / path.relative_to(DOCS).with_suffix("")
            page = site / "index.html" if path.name == "index.md" else page / "index.html"
            assert parts.fragment in _parsed(page).ids, href
        checked.append(href)
    assert any(href.startswith("docs/") for href in checked)


def test_the_readme_is_a_front_page_that_links_every_part_of_the_docs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 150
    assert "make demo" in readme and "make test" in readme
    linked = {urlsplit(href).path for href in README_LINK.findall(readme)}
    for part in ("get-started", "deploy", "operate", "how-it-works", "develop", "decisions"):
        assert any(path.startswith(f"docs/{part}/") for path in linked), part
    assert "docs/troubleshooting.md" in linked
