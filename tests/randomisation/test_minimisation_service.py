"""Minimisation through the allocation service: imbalance bounded as designed, reproducible from the secret."""

from __future__ import annotations

import pytest

from aftercrisis.accounts.roles import Role
from aftercrisis.participants.models import Status
from aftercrisis.protocol.models import MinimisationFactor
from aftercrisis.randomisation.engine import Minimiser
from aftercrisis.randomisation.minimisation import draw_seed
from aftercrisis.randomisation.models import Allocation, StratumCursor
from aftercrisis.randomisation.services import RandomisationRefused, generate_allocation_lists, randomise

pytestmark = pytest.mark.django_db


@pytest.fixture
def minimising(core_protocol, sites):
    scheme = core_protocol.randomisation.model_copy(
        update={
            "method": "minimisation",
            "factors": [
                MinimisationFactor(code="sex"),
                MinimisationFactor(code="prior_admissions", cutpoints=[2]),
            ],
            "preferred_probability": 1.0,
        }
    )
    trial = core_protocol.model_copy(update={"randomisation": scheme})
    generate_allocation_lists(trial, length_per_site=0)
    return trial


def test_minimised_allocations_keep_each_level_within_one_and_replay_from_the_secret(
    minimising, make_participant, staff, actor_of
):
    manager, actor = staff[Role.TRIAL_MANAGER], actor_of(Role.TRIAL_MANAGER)
    people = []
    for i in range(24):
        p = make_participant(
            "CAM", Status.CONSENTED, sex=["female", "male"][i % 3 % 2], prior_admissions=i % 4
        )
        randomise(actor, p, minimising, by=manager)
        people.append(p)
    allocations = list(
        Allocation.objects.filter(participant__in=people).select_related("slot", "participant")
    )
    assert sorted(a.slot.position for a in allocations) == list(range(1, 25))
    for factor, value in [("sex", "female"), ("sex", "male")]:
        arms = [a.arm for a in allocations if getattr(a.participant, factor) == value]
        assert abs(arms.count("intervention") - arms.count("control")) <= 1
    # Whoever holds the secret can replay the sequence with the pure engine.
    secret = StratumCursor.objects.get(site__code="CAM").secret
    counts: dict[tuple[str, str, str], int] = {}
    for position, a in enumerate(sorted(allocations, key=lambda a: a.slot.position), start=1):
        replay = Minimiser(
            [("intervention", 1), ("control", 1)],
            {"sex": 1.0, "prior_admissions": 1.0},
            "range",
            1.0,
            draw_seed(secret, "CAM", position),
            counts,
        )
        levels = {"sex": a.participant.sex, "prior_admissions": str(int(a.participant.prior_admissions >= 2))}
        assert replay.allocate(levels) == a.arm


def test_a_missing_factor_is_refused_by_name(minimising, make_participant, staff, actor_of):
    p = make_participant("CAM", Status.CONSENTED, sex="")
    with pytest.raises(RandomisationRefused, match="sex: record it"):
        randomise(actor_of(Role.TRIAL_MANAGER), p, minimising, by=staff[Role.TRIAL_MANAGER])
    assert not Allocation.objects.exists()
