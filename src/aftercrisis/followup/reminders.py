"""Reminders for follow-up visits whose window is open: e-mail, else text message, else letter.

Run daily from cron (`aftercrisis reminders`). A participant gets at most one reminder per visit
every REMINDER_INTERVAL_DAYS; each one is logged as an automatic contact attempt. The wording is the
same for every participant, so a reminder never hints at an arm.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from aftercrisis.followup.models import ContactAttempt, ContactChannel, ContactOutcome, VisitRecord
from aftercrisis.followup.schedule import follow_up_windows
from aftercrisis.followup.services import log_contact
from aftercrisis.notifications import NotificationRefused, send_email, send_letter, send_sms
from aftercrisis.participants.models import Death, Identity, Participant, Status, Withdrawal, WithdrawalLevel
from aftercrisis.protocol import Protocol

REMINDER_INTERVAL_DAYS = 7
SUBJECT = "Your study questionnaires are due"
BODY = (
    "Hello {name},\n\nIt is time for your {visit} questionnaires for the {trial} study. A researcher will "
    "contact you to arrange them, or you can call the study team.\n\nThank you for taking part."
)


@dataclass(frozen=True)
class Reminder:
    participant: Participant
    visit: str
    visit_name: str


def reminders_due(protocol: Protocol, today: dt.date) -> list[Reminder]:
    """Open, unrecorded visits of participants still in follow-up and not reminded recently."""
    people = list(
        Participant.objects.filter(status=Status.RANDOMISED, allocation__isnull=False)
        .select_related("allocation")
        .exclude(pk__in=Death.objects.values("participant_id"))
        .exclude(
            pk__in=Withdrawal.objects.filter(
                level__in=[WithdrawalLevel.FOLLOW_UP, WithdrawalLevel.ALL_DATA]
            ).values("participant_id")
        )
    )
    recorded = set(VisitRecord.objects.filter(participant__in=people).values_list("participant_id", "visit"))
    recent = set(
        ContactAttempt.objects.filter(
            participant__in=people, automatic=True, on__gt=today - dt.timedelta(days=REMINDER_INTERVAL_DAYS)
        ).values_list("participant_id", "visit")
    )
    due = []
    for person in people:
        for window in follow_up_windows(protocol, person.allocation.randomised_on):
            key = (person.pk, window.code)
            if window.opens <= today <= window.closes and key not in recorded and key not in recent:
                due.append(Reminder(person, window.code, window.name))
    return due


def send_reminders(
    protocol: Protocol,
    today: dt.date,
    *,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Send each due reminder once; returns counts by channel (and 'unreachable')."""
    due = reminders_due(protocol, today)
    identities = {
        i.participant_id: i for i in Identity.objects.filter(participant__in=[r.participant for r in due])
    }
    counts = {"email": 0, "sms": 0, "letter": 0, "unreachable": 0}
    for reminder in due:
        identity = identities.get(reminder.participant.pk)
        channel = None if identity is None else _send(identity, reminder, protocol, dry_run)
        counts[channel or "unreachable"] += 1
        if channel and not dry_run:
            log_contact(
                None,
                reminder.participant,
                reminder.visit,
                channel=channel,
                outcome=ContactOutcome.SENT,
                on=today,
                note="reminder",
                by=None,
                automatic=True,
            )
        if progress:
            progress(1)
    return counts


def _send(identity: Identity, reminder: Reminder, protocol: Protocol, dry_run: bool) -> str | None:
    body = BODY.format(
        name=identity.given_name, visit=reminder.visit_name.lower(), trial=protocol.trial.short_name
    )
    ref = f"{reminder.participant.trial_id}-{reminder.visit}"
    attempts: list[tuple[str, Callable[[], object]]] = []
    if identity.email:
        attempts.append(
            (ContactChannel.EMAIL, lambda: send_email(identity.email, SUBJECT, body, reference=ref))
        )
    if identity.phone:
        attempts.append((ContactChannel.SMS, lambda: send_sms(identity.phone, body, reference=ref)))
    if identity.address and identity.postcode:
        lines = [identity.__str__(), *identity.address.splitlines(), identity.postcode]
        attempts.append(
            (ContactChannel.LETTER, lambda: send_letter(lines, body, subject=SUBJECT, reference=ref))
        )
    for channel, send in attempts:
        try:
            if not dry_run:
                send()
            return str(channel)
        except NotificationRefused:
            continue  # a landline or a malformed address: try the next channel
    return None
