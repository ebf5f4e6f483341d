from __future__ import annotations

import pytest


@pytest.fixture
def supported(allocation_lists, make_participant, staff):
    """A factory of CAM participants in the peer support arm, on the CAM peer support worker's caseload."""
    from aftercrisis.accounts.roles import Role
    from aftercrisis.intervention.services import assign_to_caseload
    from aftercrisis.participants.models import Status

    def make():
        while True:
            participant = make_participant("CAM", Status.RANDOMISED)
            if participant.allocation.arm == "intervention":
                break
        assign_to_caseload(
            participant,
            staff[Role.PEER_SUPPORT_WORKER],
            by=staff[Role.TRIAL_MANAGER],
            on=participant.referred_on,
        )
        return participant

    return make
