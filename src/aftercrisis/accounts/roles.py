"""The staff roles of DESIGN.md §2. Participants are not staff: they use secure links."""

from django.db import models


class Role(models.TextChoices):
    TRIAL_MANAGER = "trial_manager", "Trial manager"
    RESEARCHER = "researcher", "Researcher"
    PEER_SUPPORT_WORKER = "peer_support_worker", "Peer support worker"
    STATISTICIAN = "statistician", "Statistician"
    REFERRER = "referrer", "Referrer"
    CHIEF_INVESTIGATOR = "chief_investigator", "Chief investigator"
    # Holds the concealed allocation lists; kept apart from the statistician who analyses, who is masked.
    RANDOMISATION_STATISTICIAN = "randomisation_statistician", "Randomisation statistician"
