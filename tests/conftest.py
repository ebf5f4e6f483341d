"""Shared fixtures: the CORE protocol, its sites, and one member of staff per role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "protocols" / "core.yaml"
PASSWORD = "a-long-test-password-1"


@pytest.fixture(scope="session")
def core_protocol():
    from aftercrisis.protocol import load_protocol

    return load_protocol(CORE)


@pytest.fixture
def sites(db, core_protocol):
    from aftercrisis.accounts.services import sync_sites

    return {s.code: s for s in sync_sites(core_protocol)}


@pytest.fixture
def staff(sites):
    """One member of staff per role; site-scoped roles work at CAM only."""
    from aftercrisis.accounts.roles import Role
    from aftercrisis.accounts.services import create_staff

    cam = sites["CAM"]
    scope = {
        Role.TRIAL_MANAGER: None,
        Role.STATISTICIAN: None,
        Role.RESEARCHER: cam,
        Role.PEER_SUPPORT_WORKER: cam,
        Role.REFERRER: cam,
        Role.CHIEF_INVESTIGATOR: None,
        Role.RANDOMISATION_STATISTICIAN: None,
    }
    return {
        role: create_staff(
            username=role.value,
            password=PASSWORD,
            first_name=role.label.split()[0],
            last_name="Tester",
            email=f"{role.value}@example.org",
            roles=[(role, site)],
        )
        for role, site in scope.items()
    }


@pytest.fixture
def actor_of(staff):
    from aftercrisis.accounts.selectors import actor_for

    return lambda role: actor_for(staff[role], role)


_numbers = iter(range(1, 10**6))


def fresh_nhs_number() -> str:
    """A valid NHS number from the 999 range reserved for testing."""
    from nhs_number import calculate_checksum

    while True:
        body = f"999{next(_numbers):06d}"
        check = calculate_checksum(body)
        if check is not None and check != 10:
            return f"{body}{check}"


@pytest.fixture
def make_participant(sites, staff, core_protocol) -> Callable[..., object]:
    """A participant through the services, taken as far along the lifecycle as asked."""
    from aftercrisis.accounts.roles import Role
    from aftercrisis.accounts.selectors import actor_for
    from aftercrisis.demo.recruitment import baseline, consent, screen
    from aftercrisis.participants.models import Status
    from aftercrisis.participants.services import register_participant
    from aftercrisis.randomisation.services import randomise

    manager = staff[Role.TRIAL_MANAGER]
    researcher = staff[Role.RESEARCHER]

    def make(site: str = "CAM", status: str = Status.REFERRED, on: dt.date | None = None, **research):
        on = on or dt.date(2026, 1, 5)
        participant = register_participant(
            site=sites[site],
            referred_on=on,
            by=staff[Role.REFERRER],
            identity={
                "nhs_number": fresh_nhs_number(),
                "given_name": "Alex",
                "family_name": "Example",
                "date_of_birth": dt.date(1985, 6, 1),
                "phone": "07700 900123",
            },
            research={"sex": "female", "prior_admissions": 1, **research},
        )
        stage = [Status.REFERRED, Status.SCREENED, Status.CONSENTED, Status.RANDOMISED].index(status)
        if stage >= 1:
            screen(participant, core_protocol, researcher, on)
        if stage >= 2:
            consent(participant, core_protocol, researcher, on)
            baseline(participant, researcher, on)
        if stage >= 3:
            randomise(actor_for(manager, Role.TRIAL_MANAGER), participant, core_protocol, by=manager, on=on)
        return participant

    return make


@pytest.fixture
def allocation_lists(sites, core_protocol):
    from aftercrisis.randomisation.services import generate_allocation_lists

    generate_allocation_lists(core_protocol, length_per_site=40, seed=12345)


# The demo is placed in time relative to today, as the pages are.
DEMO_TODAY = dt.date.today()


@pytest.fixture
def demo(db, core_protocol):
    """A small demo trial (60 randomised plus the referral pipeline), loaded through the services."""
    from aftercrisis.demo.loader import load_demo

    return load_demo(core_protocol, seed=7, today=DEMO_TODAY, size=60)


@pytest.fixture
def supported(allocation_lists, make_participant):
    """A factory of CAM participants in the peer support arm, on the CAM peer support worker's caseload
    (randomising puts them there: that worker is CAM's only one)."""
    from aftercrisis.participants.models import Status

    def make():
        while True:
            participant = make_participant("CAM", Status.RANDOMISED)
            if participant.allocation.arm == "intervention":
                return participant

    return make
