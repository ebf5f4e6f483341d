"""The one rule for who may see arms: role and database lock decide, scope then says which rows."""

from __future__ import annotations

import pytest

from aftercrisis.accounts.policy import Actor, ArmVisibility, arm_visibility
from aftercrisis.accounts.roles import Role

V = ArmVisibility
EXPECTED = {
    # role: (before lock, after lock)
    Role.TRIAL_MANAGER: (V.EVERY, V.EVERY),
    Role.PEER_SUPPORT_WORKER: (V.OWN_CASELOAD, V.OWN_CASELOAD),
    Role.RANDOMISATION_STATISTICIAN: (V.LISTS, V.LISTS),
    Role.STATISTICIAN: (V.NONE, V.EVERY),
    Role.RESEARCHER: (V.NONE, V.NONE),
    Role.REFERRER: (V.NONE, V.NONE),
    Role.CHIEF_INVESTIGATOR: (V.NONE, V.NONE),
}


def test_every_role_has_a_rule():
    assert set(EXPECTED) == set(Role)


@pytest.mark.parametrize("role", list(Role))
def test_what_each_role_may_know_of_the_arms(role):
    asked = []

    def locked(answer: bool):
        def ask() -> bool:
            asked.append(answer)
            return answer

        return ask

    actor = Actor(user_id=1, role=role, site_ids=None)
    assert (
        arm_visibility(actor, locked=locked(False)),
        arm_visibility(actor, locked=locked(True)),
    ) == EXPECTED[role]
    # The lock is looked up only for the role it unblinds, so other roles' pages pay no query for it.
    assert bool(asked) == (role is Role.STATISTICIAN)
