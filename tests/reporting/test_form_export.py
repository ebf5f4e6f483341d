"""Every form's data, for the roles that may have it: masked roles get no arm and none of the tables
that reveal one; only the trial manager gets identity."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from aftercrisis.accounts.models import User
from aftercrisis.accounts.policy import Actor
from aftercrisis.accounts.roles import Role
from aftercrisis.reporting.form_export import bundle, forms_for, table

pytestmark = pytest.mark.django_db
ARM_REVEALING = {
    "allocations",
    "unblinding_requests",
    "caseload",
    "sessions",
    "workbook_entries",
    "workbook_dispatch",
}


def _actor(username, role):
    return Actor(user_id=User.objects.get(username=username).pk, role=role, site_ids=None)


def _names(actor):
    return {f.name for f in forms_for(actor)}


def test_the_manager_gets_every_form_and_the_blinded_statistician_no_arm_and_no_identity(demo):
    manager, statistician = _actor("manager", Role.TRIAL_MANAGER), _actor("statistician", Role.STATISTICIAN)
    assert ARM_REVEALING | {"identity", "questionnaires", "serious_adverse_events"} <= _names(manager)
    blinded = _names(statistician)
    assert not blinded & (ARM_REVEALING | {"identity"})
    assert {"participants", "questionnaires", "acute_care_episodes", "serious_adverse_events"} <= blinded
    for form in forms_for(statistician):
        assert "arm" not in table(statistician, form).columns
    allocations = table(manager, next(f for f in forms_for(manager) if f.name == "allocations"))
    assert set(allocations["arm"]) == {"control", "intervention"} and "slot_id" not in allocations.columns
    for role in (Role.RESEARCHER, Role.CHIEF_INVESTIGATOR, Role.REFERRER, Role.PEER_SUPPORT_WORKER):
        with pytest.raises(PermissionDenied):
            forms_for(Actor(user_id=0, role=role, site_ids=None))


def test_the_bundle_holds_csv_parquet_stata_and_a_dictionary_of_every_column(demo):
    statistician = _actor("statistician", Role.STATISTICIAN)
    archive = zipfile.ZipFile(io.BytesIO(bundle(statistician)))
    names = set(archive.namelist())
    for form in forms_for(statistician):
        assert {f"csv/{form.name}.csv", f"parquet/{form.name}.parquet"} <= names
    assert "stata/questionnaires.dta" in names and not any("allocations" in n for n in names)
    dictionary = pd.read_csv(archive.open("data_dictionary.csv"), keep_default_na=False)
    sae = dictionary[dictionary["form"] == "serious_adverse_events"].set_index("field")
    assert "unexpected = Unexpected" in sae.loc["expectedness", "allowed_values"]
    questionnaires = pd.read_parquet(io.BytesIO(archive.read("parquet/questionnaires.parquet")))
    assert len(questionnaires) > 0 and questionnaires["trial_id"].str.len().min() > 0
    stata = pd.read_stata(io.BytesIO(archive.read("stata/questionnaires.dta")))
    assert len(stata) == len(questionnaires)
    for name in names:
        if name.startswith("csv/"):
            header = archive.read(name).decode().splitlines()[0].split(",")
            assert "arm" not in header and "nhs_number" not in header


def test_pages_give_only_the_forms_a_role_may_have(client, demo):
    client.force_login(User.objects.get(username="statistician"))
    assert client.get(reverse("reporting:form_csv", args=["allocations"])).status_code == 404
    assert client.get(reverse("reporting:form_csv", args=["identity"])).status_code == 404
    page = client.get(reverse("reporting:form_exports")).content.decode()
    assert "questionnaires" in page and "allocations" not in page
    csv = client.get(reverse("reporting:form_csv", args=["serious_adverse_events"]))
    assert csv.status_code == 200 and csv["Content-Type"] == "text/csv"


def test_a_withdrawal_from_peer_support_is_left_out_for_a_role_that_may_not_know_the_arms(demo):
    from aftercrisis.participants.models import Participant, Withdrawal, WithdrawalLevel

    supported = Participant.objects.filter(caseload_assignment__isnull=False).first()
    Withdrawal.objects.create(
        participant=supported,
        level=WithdrawalLevel.PEER_SUPPORT,
        on=supported.referred_on,
        reason="no longer wants sessions",
        recorded_by=User.objects.get(username="manager"),
    )
    manager, statistician = _actor("manager", Role.TRIAL_MANAGER), _actor("statistician", Role.STATISTICIAN)
    withdrawals = next(f for f in forms_for(statistician) if f.name == "withdrawals")
    assert "peer_support" in set(table(manager, withdrawals)["level"])
    assert "peer_support" not in set(table(statistician, withdrawals)["level"])
    archive = zipfile.ZipFile(io.BytesIO(bundle(statistician)))
    assert "peer_support" not in archive.read("csv/withdrawals.csv").decode()
