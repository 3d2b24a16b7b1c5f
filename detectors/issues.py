"""The one way an :class:`~framegate.schemas.Issue` is built, with the one severity rule.

Every check family ends its *flag* step here: image and sequence checks through
:meth:`framegate.detectors.policy.CheckPolicy.judge`, the prediction, label and embedding
checks directly. The rule is the same for all: an issue is ``critical`` when its score
reaches the check's ``critical_at``, and has the check's base ``severity`` otherwise.

Where ``critical_at`` comes from is the check's own business: a
:class:`~framegate.detectors.policy.CheckPolicy` field for the checks in the policy table,
and :func:`halfway_to_certain` of the threshold for the checks whose threshold is learned or
passed in (the model's confidence and entropy, label errors, embedding outliers).
"""

from __future__ import annotations

from framegate.schemas.checks import Check, Severity
from framegate.schemas.reports import Issue

__all__ = ["build_issue", "halfway_to_certain"]


def halfway_to_certain(threshold: float) -> float:
    """The score half-way from ``threshold`` (flagged) to 1 (certainly bad).

    The ``critical_at`` of checks without a policy entry: it moves with their threshold.

    Examples
    --------
    >>> halfway_to_certain(0.5), halfway_to_certain(0.8)
    (0.75, 0.9)
    """
    return (1.0 + threshold) / 2.0


def build_issue(
    check: Check,
    score: float,
    threshold: float,
    detail: str,
    *,
    critical_at: float,
    severity: Severity = "warning",
    digits: int | None = None,
) -> Issue:
    """An issue of ``check`` with ``score`` clipped to [0, 1]: ``critical`` from
    ``critical_at``, ``severity`` below it.

    Parameters
    ----------
    check
        The check that fired.
    score
        How bad the frame is, 1 = certainly bad; clipped to [0, 1].
    threshold
        The score at which the check flags a frame (reported with the issue).
    detail
        What a person reads: the measurement and the limit it passed.
    critical_at
        The score from which the issue is ``critical``.
    severity
        The severity below ``critical_at``.
    digits
        Round the reported score to this many decimals (after the severity is decided).

    Examples
    --------
    >>> build_issue(Check.DARK, 0.9, 0.5, "dark", critical_at=0.8).severity
    'critical'
    >>> grey = build_issue(Check.GRAYSCALE, 1.2, 0.5, "grey", critical_at=1.01, severity="info")
    >>> grey.score, grey.severity
    (1.0, 'info')
    """
    clipped = min(1.0, max(0.0, score))
    return Issue(
        check=check,
        score=float(clipped if digits is None else round(clipped, digits)),
        threshold=float(threshold),
        severity="critical" if clipped >= critical_at else severity,
        detail=detail,
    )
