"""Who may do and see what: the one place that says so.

Views ask `actor.can(Capability.X)`; selectors scope rows with `actor.site_ids`, and the randomisation
selectors ask `arm_visibility` before an arm leaves the database. Templates never decide.
A member of staff with several roles acts in one role at a time, so that a masked role's
pages never borrow an unblinded role's rights.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from aftercrisis.accounts.roles import Role


class Capability(enum.Enum):
    VIEW_RECRUITMENT = "view recruitment by site"
    VIEW_SITES = "view sites and staff"
    VIEW_PARTICIPANTS = "view participants at own sites"
    EDIT_PARTICIPANTS = "edit participants' research data"
    VIEW_IDENTITY = "see names and contact details"
    EDIT_IDENTITY = "edit names and contact details"
    VIEW_AUDIT = "view a participant's audit history"
    RANDOMISE = "randomise participants"
    VIEW_WORKLIST = "see the follow-up worklist"
    VIEW_CASELOAD = "see own peer support caseload"
    VIEW_REPORTS = "see trial reports"
    RESEARCH_EXPORT = "download the pseudonymous research export"
    REFER = "refer people leaving the crisis team"
    LOCK_DATABASE = "lock and unlock the trial database"
    PRODUCE_REPORT = "produce the trial report (blinded until database lock)"
    RECORD_EPISODES = "record and import acute-care episodes"
    ENTER_QUESTIONNAIRES = "enter follow-up questionnaires and contact attempts"
    REPORT_SAFETY = "report deaths and serious adverse events"
    VIEW_SAFETY = "see serious adverse event listings"
    REVIEW_SAE = "review and sign off serious adverse events"
    RECORD_SESSIONS = "record own caseload's peer support sessions and contacts"
    VIEW_WORKBOOK = "see and print a participant's workbook"
    ISSUE_WORKBOOK_LINK = "send a participant a link to their workbook"
    MANAGE_DISPATCH = "send the workbook to participants and print postal batches"
    RECORD_SUPERVISION = "record and see peer support workers' supervision"
    VIEW_FIDELITY = "see peer support fidelity and uptake"
    EXPORT_ALLOCATION_LIST = "export the concealed allocation lists"
    REQUEST_UNBLINDING = "request emergency unblinding"
    APPROVE_UNBLINDING = "decide emergency unblinding requests"
    VIEW_QUERIES = "see data queries at own sites"
    MANAGE_QUERIES = "raise, run, resolve and close data queries"
    ANSWER_QUERIES = "answer data queries at own sites"
    AGREE_UNLOCK = "request or agree to unlocking the trial database (two people)"
    ACKNOWLEDGE_RISK = "see and acknowledge peer support workers' open risk concerns"
    MANAGE_STAFF = "add, disable and re-enable staff, assign their roles, edit sites' duty contacts"
    SEARCH_AUDIT = "search the audit trail across participants"
    FULL_EXPORT = "download every form's data"


C = Capability

CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.TRIAL_MANAGER: frozenset(
        {
            C.VIEW_RECRUITMENT,
            C.VIEW_SITES,
            C.VIEW_PARTICIPANTS,
            C.EDIT_PARTICIPANTS,
            C.VIEW_IDENTITY,
            C.EDIT_IDENTITY,
            C.VIEW_AUDIT,
            C.RANDOMISE,
            C.APPROVE_UNBLINDING,
            C.VIEW_REPORTS,
            C.RESEARCH_EXPORT,
            C.LOCK_DATABASE,
            C.PRODUCE_REPORT,
            C.VIEW_WORKBOOK,
            C.ISSUE_WORKBOOK_LINK,
            C.MANAGE_DISPATCH,
            C.RECORD_SUPERVISION,
            C.VIEW_FIDELITY,
            C.RECORD_EPISODES,
            C.REPORT_SAFETY,
            C.VIEW_SAFETY,
            C.VIEW_QUERIES,
            C.MANAGE_QUERIES,
            C.AGREE_UNLOCK,
            C.ACKNOWLEDGE_RISK,
            C.MANAGE_STAFF,
            C.SEARCH_AUDIT,
            C.FULL_EXPORT,
        }
    ),
    Role.RESEARCHER: frozenset(
        {
            C.VIEW_PARTICIPANTS,
            C.EDIT_PARTICIPANTS,
            C.VIEW_IDENTITY,
            C.EDIT_IDENTITY,
            C.VIEW_WORKLIST,
            C.REQUEST_UNBLINDING,
            C.REFER,  # researchers also refer people they find on the crisis team's caseload
            C.RECORD_EPISODES,
            C.ENTER_QUESTIONNAIRES,
            C.REPORT_SAFETY,
            C.VIEW_SAFETY,
            C.VIEW_QUERIES,
            C.ANSWER_QUERIES,
        }
    ),
    # A peer support worker sees only their own caseload, which is the intervention arm.
    Role.PEER_SUPPORT_WORKER: frozenset(
        {C.VIEW_CASELOAD, C.VIEW_IDENTITY, C.RECORD_SESSIONS, C.VIEW_WORKBOOK, C.ISSUE_WORKBOOK_LINK}
    ),
    # Blinded until database lock: pooled reports and the export without the arm.
    Role.STATISTICIAN: frozenset({C.VIEW_REPORTS, C.RESEARCH_EXPORT, C.PRODUCE_REPORT, C.FULL_EXPORT}),
    # Unblinded by the nature of the job: generates, checks and exports the concealed lists, and nothing else.
    Role.RANDOMISATION_STATISTICIAN: frozenset({C.EXPORT_ALLOCATION_LIST}),
    Role.REFERRER: frozenset({C.REFER, C.VIEW_IDENTITY, C.REQUEST_UNBLINDING}),
    # Masked: reviews and signs off SAEs from the pooled listing, and is the second person to an unlock.
    Role.CHIEF_INVESTIGATOR: frozenset({C.VIEW_SAFETY, C.REVIEW_SAE, C.AGREE_UNLOCK}),
}


class ArmVisibility(enum.Enum):
    EVERY = "every participant's arm"
    OWN_CASELOAD = "the arm of their own caseload"
    LISTS = "the concealed allocation lists, not who was given which arm"
    NONE = "no arm"


# Roles scoped by default to the whole trial rather than to sites.
TRIAL_WIDE_ROLES = frozenset(
    {Role.TRIAL_MANAGER, Role.STATISTICIAN, Role.CHIEF_INVESTIGATOR, Role.RANDOMISATION_STATISTICIAN}
)

HOME_PAGES: dict[Role, str] = {
    Role.TRIAL_MANAGER: "recruitment:by_site",
    Role.RESEARCHER: "followup:worklist",
    Role.PEER_SUPPORT_WORKER: "intervention:caseload",
    Role.STATISTICIAN: "reporting:index",
    Role.REFERRER: "recruitment:referrals",
    Role.CHIEF_INVESTIGATOR: "outcomes:safety",
    Role.RANDOMISATION_STATISTICIAN: "randomisation:lists",
}


@dataclass(frozen=True)
class Actor:
    """A signed-in member of staff acting in one role, at a set of sites (None: all sites)."""

    user_id: int
    role: Role
    site_ids: frozenset[int] | None

    def can(self, capability: Capability) -> bool:
        return capability in CAPABILITIES[self.role]

    def covers_site(self, site_id: int) -> bool:
        return self.site_ids is None or site_id in self.site_ids

    @property
    def home(self) -> str:
        return HOME_PAGES[self.role]


def arm_visibility(actor: Actor, *, locked: Callable[[], bool]) -> ArmVisibility:
    """What the actor may know of the arms now: the one rule behind every page, export and count.

    `locked` answers whether the database is locked for analysis; it is asked only for the role
    it unblinds. Which rows the answer applies to is the actor's scope (sites, own caseload).
    Anyone who may know an arm signs in with two factors under production settings.
    """
    match actor.role:
        case Role.TRIAL_MANAGER:
            return ArmVisibility.EVERY
        case Role.PEER_SUPPORT_WORKER:
            return ArmVisibility.OWN_CASELOAD
        case Role.RANDOMISATION_STATISTICIAN:
            return ArmVisibility.LISTS
        case Role.STATISTICIAN:
            return ArmVisibility.EVERY if locked() else ArmVisibility.NONE
        case _:
            return ArmVisibility.NONE
