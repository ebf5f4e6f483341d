"""`randomisation assess` against the Blackwell-Hodges (1957) result for permuted blocks.

A recruiter using the convergence strategy on blocks of size 2m guesses right, on average,
m + (2**(2m) / C(2m, m) - 1) / 2 times per block: 0.75 for blocks of 2, 17/24 = 0.7083 for 4,
and 0.6833 for 6. Simple randomisation gives them nothing beyond chance.
"""

from __future__ import annotations

from math import comb

import pytest

from aftercrisis.cli import main
from aftercrisis.randomisation.assess import assess_scheme


def _scheme(protocol, **changes):
    return protocol.model_copy(update={"randomisation": protocol.randomisation.model_copy(update=changes)})


def blackwell_hodges(block: int) -> float:
    m = block // 2
    return (m + (2 ** (2 * m) / comb(2 * m, m) - 1) / 2) / block


@pytest.mark.parametrize("block", [2, 4, 6])
def test_convergence_guessing_matches_blackwell_hodges(core_protocol, block):
    trial = _scheme(core_protocol, stratify_by=[], block_sizes=[block])
    result = assess_scheme(trial, trials=40, participants=600, seed=1)
    assert result.guess_right == pytest.approx(blackwell_hodges(block), abs=0.012)
    assert result.worst_imbalance == {"all": 0}  # 600 is a whole number of blocks


def test_stratified_blocks_never_leave_more_than_half_the_largest_block(core_protocol):
    result = assess_scheme(core_protocol, trials=30, participants=441, seed=2)
    assert set(result.strata) == {"CAM", "ISL", "HAR", "ENF", "BRI", "SLO"}
    assert max(result.worst_imbalance.values()) <= 3


def test_simple_randomisation_cannot_be_guessed(core_protocol):
    result = assess_scheme(_scheme(core_protocol, method="simple"), trials=30, participants=441, seed=3)
    assert result.guess_right == pytest.approx(0.5, abs=0.015)  # 13230 guesses: sd 0.0043


def test_the_command_prints_the_figures(capsys):
    assert (
        main(["randomisation", "assess", "--trials", "5", "--participants", "60", "--method", "minimisation"])
        == 0
    )
    out = capsys.readouterr().out
    assert "minimisation, 5 simulated trials of 60 participants" in out and "convergence-strategy" in out
