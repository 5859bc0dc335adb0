"""The diagrams of the README and of the docs site are Mermaid (GitHub and the site's Material theme
render them) and parse with mermaid itself: the household picture on the README, the architecture
as a flowchart, each account-linking mode as a sequence diagram."""

import re
from pathlib import Path

from tests.ci.node import run_node_json

ROOT = Path(__file__).resolve().parents[2]
PARSER = Path(__file__).with_name("mermaid_parse.mjs")
MARKDOWN = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def test_every_diagram_of_the_readme_and_the_docs_parses_with_mermaid():
    results = run_node_json(PARSER, *map(str, MARKDOWN), needs="mermaid")
    assert [(r["file"], r["index"], r["error"]) for r in results if r["error"]] == []
    kinds = {}
    for result in results:
        kinds.setdefault(str(Path(result["file"]).relative_to(ROOT)), []).append(result["type"])
    assert kinds == {
        "README.md": ["flowchart-v2"],
        "docs/how-it-works/architecture.md": ["flowchart-v2"],
        "docs/how-it-works/account-linking.md": ["sequence", "sequence"],
    }


def test_the_parser_reports_a_broken_diagram(tmp_path):
    broken = tmp_path / "broken.md"
    broken.write_text("```mermaid\nsequenceDiagram\n    Alexa->>: nothing on the right\n```\n")
    (result,) = run_node_json(PARSER, str(broken), needs="mermaid")
    assert result["type"] is None and "Parse error" in result["error"]


def test_no_ascii_art_diagram_is_left():
    for path in MARKDOWN:
        blocks = re.findall(r"^```\n(.*?)^```$", path.read_text(), re.MULTILINE | re.DOTALL)
        assert not [block for block in blocks if re.search(r"[─│▶◀└┌]", block)], path
