from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from aftercrisis.participants.trial_id import ALPHABET, format_trial_id, is_valid_trial_id

sites = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=4)
numbers = st.integers(min_value=1, max_value=999_999)


def test_known_identifier():
    # Luhn mod 36 worked by hand for "CAM0001": C=12, A=10, M=22, digits 0,0,0,1.
    # From the right, doubling every second: 1*2=2, 0, 0*2=0, 0, 22*2=44 -> 1+8=9, 10, 12*2=24.
    # Sum 2+0+0+0+9+10+24 = 45; (36 - 45 % 36) % 36 = 27 -> "R".
    assert format_trial_id("CAM", 1) == "CAM-0001-R"


@given(sites, numbers)
def test_formatted_identifiers_are_valid(site, number):
    assert is_valid_trial_id(format_trial_id(site, number))


@given(sites, numbers, st.data())
def test_every_single_character_mistake_is_caught(site, number, data):
    trial_id = format_trial_id(site, number)
    positions = [i for i, c in enumerate(trial_id) if c != "-"]
    i = data.draw(st.sampled_from(positions))
    pool = "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if i < len(site) else ALPHABET
    wrong = data.draw(st.sampled_from([c for c in pool if c != trial_id[i]]))
    assert not is_valid_trial_id(trial_id[:i] + wrong + trial_id[i + 1 :])


@given(sites, numbers, st.data())
def test_swapped_neighbouring_digits_are_caught(site, number, data):
    trial_id = format_trial_id(site, number)
    digits = trial_id.split("-")[1]
    pairs = [i for i in range(len(digits) - 1) if digits[i] != digits[i + 1]]
    if not pairs:
        return
    i = data.draw(st.sampled_from(pairs))
    swapped = digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]
    assert not is_valid_trial_id(trial_id.replace(digits, swapped))


def test_malformed_identifiers_are_not_valid():
    for text in ["", "CAM-1-R", "cam-0001-R", "CAM0001R", "CAM-0001-RR", "C-0001-R"]:
        assert not is_valid_trial_id(text)
