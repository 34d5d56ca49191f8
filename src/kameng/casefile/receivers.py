"""The casefile side of what lower apps announce (connected in CasefileConfig.ready())."""

from kameng.refunds.signals import platform_deadline_missed
from kameng.support.signals import commitment_missed

from . import complaints


def on_platform_deadline_missed(sender, *, case, **kwargs) -> None:
    complaints.raise_for_missed_deadline(case)


def on_commitment_missed(sender, *, commitment, **kwargs) -> None:
    complaints.raise_for_broken_commitment(commitment)


def connect() -> None:
    platform_deadline_missed.connect(on_platform_deadline_missed, dispatch_uid="casefile.deadline_missed")
    commitment_missed.connect(on_commitment_missed, dispatch_uid="casefile.commitment_missed")
