"""The codebook in docs/ describes exactly the schema's columns."""

from __future__ import annotations

import re
from pathlib import Path

from aftercrisis.analysis.schema import COLUMNS

DOC = Path(__file__).resolve().parents[2] / "docs" / "analysis-dataset.md"


def test_codebook_lists_every_column_in_order() -> None:
    documented = re.findall(r"^\| `([a-z0-9_]+)` \|", DOC.read_text(), flags=re.MULTILINE)
    assert documented == [c.name for c in COLUMNS]
