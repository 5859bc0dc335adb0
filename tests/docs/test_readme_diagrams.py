"""The README's diagrams are Mermaid (GitHub renders them) and parse with mermaid itself: the
architecture as a flowchart, each account-linking mode as a sequence diagram."""

import re
from pathlib import Path

from tests.ci.node import run_node_json

ROOT = Path(__file__).resolve().parents[2]
PARSER = Path(__file__).with_name("mermaid_parse.mjs")


def test_every_readme_diagram_parses_with_mermaid():
    results = run_node_json(PARSER, str(ROOT / "README.md"), needs="mermaid")
    assert [result["error"] for result in results] == [None] * len(results)
    assert [result["type"] for result in results] == ["flowchart-v2", "sequence", "sequence"]


def test_the_parser_reports_a_broken_diagram(tmp_path):
    broken = tmp_path / "broken.md"
    broken.write_text("```mermaid\nsequenceDiagram\n    Alexa->>: nothing on the right\n```\n")
    (result,) = run_node_json(PARSER, str(broken), needs="mermaid")
    assert result["type"] is None and "Parse error" in result["error"]


def test_no_ascii_art_diagram_is_left_in_the_readme():
    blocks = re.findall(r"^```\n(.*?)^```$", (ROOT / "README.md").read_text(), re.MULTILINE | re.DOTALL)
    assert not [block for block in blocks if re.search(r"[─│▶◀└┌]", block)]
