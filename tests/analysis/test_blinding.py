"""Blinded arm labels: a fixed mapping from the key, and never an arm's name."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftercrisis.analysis.blinding import arm_labels, intervention_is_a


@given(key=st.text(min_size=1))
def test_mapping_is_the_documented_hmac_rule(key: str) -> None:
    digest = hmac.new(key.encode(), b"aftercrisis arm labels v1", hashlib.sha256).digest()
    labels = arm_labels(blinded=True, key=key)
    assert labels.label("intervention") == ("A" if digest[0] % 2 == 0 else "B")
    assert {labels.compared, labels.reference} == {"A", "B"}
    assert labels.compared == "A"


def test_both_mappings_occur_across_keys() -> None:
    assert {intervention_is_a(f"key-{i}") for i in range(20)} == {True, False}


def test_blinding_needs_a_key() -> None:
    with pytest.raises(ValueError, match="blinding key"):
        arm_labels(blinded=True, key="")


def test_unblinded_labels_use_the_protocol_names() -> None:
    labels = arm_labels(blinded=False, names={"intervention": "Peer support", "control": "Workbook by post"})
    assert (labels.compared, labels.reference) == ("Peer support", "Workbook by post")
    assert labels.indicator("intervention") == 1
