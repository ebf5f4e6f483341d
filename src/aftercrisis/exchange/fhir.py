"""HL7 FHIR: the whole trial as one Bundle of type collection, as one member of staff in one role sees it.

The resources are FHIR R4. fhir.resources has no plain R4 package: its R4B models (FHIR 4.3, the release
that keeps R4's resources and is compatible with it) build and validate every resource here.

- ResearchStudy: the trial from the protocol (title, registration, status, its arms, which are public);
- ResearchSubject per participant in the role's scope, with the assigned arm only where the one masking rule
  lets the role know it;
- Patient (UK Core, NHS number as identifier) only for a role whose exports hold identity (the trial
  manager's); for the others a subject is a reference that carries the trial ID alone;
- Encounter (UK Core) per current acute-care episode, coded as the episode import reads it;
- Questionnaire per instrument of the protocol and QuestionnaireResponse per questionnaire returned.

Nothing is read from the tables that reveal an arm (peer support, the workbook, resource use, withdrawals
from peer support), for any role: the bundle carries only what every role it is made for may hold. Every
resource's id and fullUrl are derived from the trial's registration, the kind of record and its key, so the
same record has the same address in every export and references resolve within the bundle.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse as Response
from fhir.resources.R4B.researchstudy import ResearchStudy
from fhir.resources.R4B.researchsubject import ResearchSubject
from fhir.resources.R4B.resource import Resource

from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.followup.instruments import Instrument
from aftercrisis.followup.models import QuestionnaireResponse
from aftercrisis.followup.services import instrument_for_entry
from aftercrisis.outcomes.imports import ADMISSION_SYSTEM, NHS_NUMBER_SYSTEM, SETTING_SYSTEM, TRIAL_ID_SYSTEM
from aftercrisis.outcomes.models import AcuteCareEpisode, AdmissionType
from aftercrisis.participants.models import Identity, Participant, Status
from aftercrisis.participants.selectors import participants_for
from aftercrisis.protocol import Protocol
from aftercrisis.protocol.models import Setting
from aftercrisis.randomisation.selectors import arms_for
from aftercrisis.reporting.form_export import FORMS, exports_identity, rows_for

BASE = "https://aftercrisis.org/fhir"
QUESTIONNAIRE_RESPONSE_SYSTEM = f"{BASE}/questionnaire-response"
UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition"
EXTENSIONS = "http://hl7.org/fhir/StructureDefinition"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
# Trial registries, by the prefix of the registration number.
REGISTRIES = {"ISRCTN": "https://www.isrctn.com", "NCT": "https://clinicaltrials.gov"}
# A participant's status as a FHIR research subject status. "on-study", never "on-study-intervention",
# which would say the arm.
SUBJECT_STATUS = {
    Status.REFERRED: "candidate",
    Status.SCREENED: "eligible",
    Status.NOT_ENROLLED: "not-registered",
    Status.CONSENTED: "pending-on-study",
    Status.RANDOMISED: "on-study",
    Status.WITHDRAWN: "withdrawn",
    Status.COMPLETED: "off-study",
}
GENDER = {"female": "female", "male": "male"}


def subjects_for(actor: Actor) -> QuerySet[Participant]:
    """The participants the bundle is about: every participant at the sites of a role that may download
    every form's data, otherwise those whose records the role opens; PermissionDenied for other roles."""
    if actor.can(Capability.FULL_EXPORT):
        participants = next(f for f in FORMS if f.model == "participants.Participant")
        return rows_for(actor, participants, unblinded=False)
    if actor.can(Capability.VIEW_PARTICIPANTS):
        return participants_for(actor)
    raise PermissionDenied


def trial_bundle(actor: Actor, protocol: Protocol) -> Bundle:
    """The trial as the actor may see it, as a FHIR Bundle (type collection), in a bounded number of
    queries; PermissionDenied for a role that may not export it."""
    subjects = subjects_for(actor)
    address = Addresses(protocol.trial.registration)
    study = research_study(protocol, address, timezone.localdate())
    entries: list[Resource] = [study]
    people = list(subjects.order_by("trial_id"))
    arms = arms_for(actor, subjects)
    identities = (
        {i.participant_id: i for i in Identity.objects.filter(participant__in=subjects)}
        if exports_identity(actor)
        else {}
    )
    individuals: dict[int, dict[str, Any]] = {}
    for person in people:
        identity = identities.get(person.pk)
        if identity is not None:
            entries.append(patient(person, identity, address))
        individuals[person.pk] = individual(person, address, patient=identity is not None)
        entries.append(research_subject(person, arms.get(person.pk), address, study, individuals[person.pk]))
    settings = {s.code: s for s in protocol.outcomes.acute_care_settings}
    for episode in AcuteCareEpisode.objects.filter(participant__in=subjects, superseded_by__isnull=True):
        entries.append(
            encounter(episode, settings[episode.setting], address, individuals[episode.participant_id])
        )
    instruments = {i.code: instrument_for_entry(i.code) for i in protocol.instruments}
    entries.extend(questionnaire(i, address) for i in instruments.values())
    responses = QuestionnaireResponse.objects.filter(participant__in=subjects).order_by(
        "participant_id", "pk"
    )
    for returned in responses:
        entries.append(
            questionnaire_response(
                returned, instruments.get(returned.instrument), address, individuals[returned.participant_id]
            )
        )
    return Bundle.model_validate(
        {
            "type": "collection",
            "timestamp": timezone.now(),
            "entry": [{"fullUrl": address.full_url(r), "resource": r} for r in entries],
        }
    )


class Addresses:
    """Stable ids: the same record has the same id and fullUrl (urn:uuid) in every export of the trial."""

    def __init__(self, trial: str) -> None:
        self.trial = trial

    def id(self, kind: str, key: object) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{BASE}/{self.trial}/{kind}/{key}"))

    def reference(self, kind: str, key: object) -> str:
        return f"urn:uuid:{self.id(kind, key)}"

    @staticmethod
    def full_url(resource: Resource) -> str:
        return f"urn:uuid:{resource.id}"


def _trial_id(participant: Participant) -> dict[str, str]:
    return {"system": TRIAL_ID_SYSTEM, "value": participant.trial_id}


def research_study(protocol: Protocol, address: Addresses, today: dt.date) -> ResearchStudy:
    trial = protocol.trial
    registry = next(
        (url for prefix, url in REGISTRIES.items() if trial.registration.startswith(prefix)), None
    )
    if today < trial.recruitment_start:
        status = "approved"
    elif today <= trial.recruitment_end:
        status = "active"
    else:
        status = "closed-to-accrual"
    return ResearchStudy.model_validate(
        {
            "id": address.id("ResearchStudy", trial.short_name),
            "identifier": [{"system": registry, "value": trial.registration}],
            "title": trial.title,
            "status": status,
            "arm": [{"name": a.code, "description": f"{a.name}: {a.description}"} for a in protocol.arms],
        }
    )


def individual(participant: Participant, address: Addresses, *, patient: bool) -> dict[str, Any]:
    """The reference to the person: their Patient where the export holds identity, else the trial ID alone."""
    found: dict[str, Any] = {"type": "Patient", "identifier": _trial_id(participant)}
    if patient:
        found["reference"] = address.reference("Patient", participant.pk)
    return found


def patient(participant: Participant, identity: Identity, address: Addresses) -> Patient:
    telecom = [{"system": "phone", "value": identity.phone}] if identity.phone else []
    if identity.email:
        telecom.append({"system": "email", "value": identity.email})
    return Patient.model_validate(
        {
            "id": address.id("Patient", participant.pk),
            "meta": {"profile": [f"{UK_CORE}/UKCore-Patient"]},
            "identifier": [
                {"system": NHS_NUMBER_SYSTEM, "value": identity.nhs_number},
                _trial_id(participant),
            ],
            "name": [{"use": "official", "family": identity.family_name, "given": [identity.given_name]}],
            "gender": GENDER.get(participant.sex),
            "birthDate": identity.date_of_birth,
            "address": [{"text": identity.address or None, "postalCode": identity.postcode or None}]
            if identity.address or identity.postcode
            else None,
            "telecom": telecom or None,
        }
    )


def research_subject(
    participant: Participant,
    arm: str | None,
    address: Addresses,
    study: ResearchStudy,
    person: dict[str, Any],
) -> ResearchSubject:
    """The participant in the trial; `arm` only where the randomisation selectors gave it to the actor."""
    return ResearchSubject.model_validate(
        {
            "id": address.id("ResearchSubject", participant.pk),
            "identifier": [_trial_id(participant)],
            "status": SUBJECT_STATUS[Status(participant.status)],
            "study": {"reference": Addresses.full_url(study)},
            "individual": person,
            "assignedArm": arm,
        }
    )


def encounter(
    episode: AcuteCareEpisode, setting: Setting, address: Addresses, person: dict[str, Any]
) -> Encounter:
    """An episode as the episode import reads it: the setting and any detention as `type` codings, the dates
    as the period; a stay in a bed is an inpatient encounter, anything else ambulatory."""
    types = [
        {
            "coding": [{"system": SETTING_SYSTEM, "code": setting.code, "display": setting.name}],
            "text": setting.name,
        }
    ]
    if episode.admission_type:
        label = AdmissionType(episode.admission_type).label
        types.append(
            {"coding": [{"system": ADMISSION_SYSTEM, "code": episode.admission_type, "display": label}]}
        )
    return Encounter.model_validate(
        {
            "id": address.id("Encounter", episode.pk),
            "meta": {"profile": [f"{UK_CORE}/UKCore-Encounter"]},
            "status": "finished" if episode.end else "in-progress",
            "class": {"system": ACT_CODE, "code": "IMP", "display": "inpatient encounter"}
            if setting.residential
            else {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
            "type": types,
            "subject": person,
            "period": {"start": episode.start, "end": episode.end},
        }
    )


def questionnaire_url(code: str) -> str:
    return f"{BASE}/Questionnaire/{code}"


def questionnaire(instrument: Instrument, address: Addresses) -> Questionnaire:
    """An instrument's items, each answered by a whole number from its minimum to its maximum."""
    return Questionnaire.model_validate(
        {
            "id": address.id("Questionnaire", instrument.code),
            "url": questionnaire_url(instrument.code),
            "version": instrument.version,
            "title": instrument.name,
            "status": "active",
            "subjectType": ["Patient"],
            "item": [
                {
                    "linkId": item.code,
                    "text": item.label,
                    "type": "integer",
                    "extension": [
                        {"url": f"{EXTENSIONS}/minValue", "valueInteger": item.minimum},
                        {"url": f"{EXTENSIONS}/maxValue", "valueInteger": item.maximum},
                    ],
                }
                for item in instrument.items
            ],
        }
    )


def questionnaire_response(
    returned: QuestionnaireResponse, instrument: Instrument | None, address: Addresses, person: dict[str, Any]
) -> Response:
    """The answers as recorded, unanswered items left out (FHIR has no empty answer)."""
    labels = {i.code: i.label for i in instrument.items} if instrument else {}
    participant = person["identifier"]["value"]
    return Response.model_validate(
        {
            "id": address.id("QuestionnaireResponse", returned.pk),
            "identifier": {
                "system": QUESTIONNAIRE_RESPONSE_SYSTEM,
                "value": f"{participant}/{returned.visit}/{returned.instrument}",
            },
            "questionnaire": f"{questionnaire_url(returned.instrument)}|{returned.instrument_version}",
            "status": "completed",
            "subject": person,
            "authored": returned.completed_on,
            "item": [
                {"linkId": code, "text": labels.get(code), "answer": [_answer(value)]}
                for code, value in returned.answers.items()
                if value is not None
            ]
            or None,
        }
    )


def _answer(value: Any) -> dict[str, Any]:
    return {"valueInteger": value} if isinstance(value, int) else {"valueDecimal": value}
