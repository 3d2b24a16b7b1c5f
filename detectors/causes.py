"""One fault, one verdict: which issue of a frame is its cause, and which ones it explains.

A fault makes more checks fire than its own: a darkened frame also has low contrast, little
information, no colour to judge, and reads as obstructed against its view; a copy of an earlier
frame repeats that frame's looks; a frame of another size cannot be compared with the view.
Every report keeps all the issues as evidence, names one ``cause``, and marks each issue that
a present condition explains with ``explained_by`` (the condition's check). Metrics, the
dashboard's shares and relabel reasons count the issues nothing explains.

The rule is an order of causes and, for each, the checks it makes fire
(:data:`EXPLAINS`); a check is only explained by one earlier in the order, so the first
present check of :data:`CAUSE_ORDER` is the cause and nothing explains it.
"""

from __future__ import annotations

from collections.abc import Sequence

from framegate.schemas.checks import Check
from framegate.schemas.reports import Issue

__all__ = ["CAUSE_ORDER", "EXPLAINS", "name_cause"]

# A picture's own looks, in the order they explain one another.
_LOOKS = (
    Check.LOW_INFORMATION,
    Check.LOW_CONTRAST,
    Check.EXPOSURE_CLIPPED,
    Check.BLURRY,
    Check.NOISY,
    Check.GRAYSCALE,
)

#: Most causal first: the light (nothing else can be judged without it), a picture that
#: repeats another, its geometry, the stream's timing, the view, then the picture's own looks,
#: the model's reading of it, and the labels.
CAUSE_ORDER: tuple[Check, ...] = (
    Check.DARK,
    Check.BRIGHT,
    Check.FROZEN,
    Check.EXACT_DUPLICATE,
    Check.NEAR_DUPLICATE,
    Check.ODD_ASPECT_RATIO,
    Check.ODD_SIZE,
    Check.DROPPED_FRAMES,
    Check.CAMERA_MOVED,
    Check.OBSTRUCTED,
    *_LOOKS,
    Check.OUTLIER,
    Check.LOW_CONFIDENCE,
    Check.HIGH_ENTROPY,
    Check.LABEL_DISAGREEMENT,
    Check.CLASS_SWAP,
    Check.MISSED_OBJECT,
    Check.DUPLICATE_BOX,
    Check.TINY_BOX,
    Check.ANNOTATION_NEAR_BORDER,
)

_MODEL = {Check.OUTLIER, Check.LOW_CONFIDENCE, Check.HIGH_ENTROPY}
_VIEW = {Check.CAMERA_MOVED, Check.OBSTRUCTED}
# A copy's looks, view and size are those of the picture it copies (judged when it came).
_A_COPY = {*_LOOKS, *_VIEW, *_MODEL, Check.ODD_SIZE, Check.ODD_ASPECT_RATIO}

#: What each condition makes fire besides its own check.
EXPLAINS: dict[Check, frozenset[Check]] = {
    check: frozenset(explained)
    for check, explained in {
        # no light: no contrast, texture, colour or detail to judge; dark pictures look alike
        Check.DARK: {*_LOOKS, *_VIEW, *_MODEL, Check.FROZEN, Check.NEAR_DUPLICATE},
        Check.BRIGHT: {*_LOOKS, *_VIEW, *_MODEL, Check.FROZEN, Check.NEAR_DUPLICATE},
        Check.FROZEN: _A_COPY | {Check.EXACT_DUPLICATE, Check.NEAR_DUPLICATE},
        Check.EXACT_DUPLICATE: _A_COPY | {Check.NEAR_DUPLICATE},
        Check.NEAR_DUPLICATE: _A_COPY,
        # another geometry: not comparable with the view; resampling looks like noise
        Check.ODD_ASPECT_RATIO: _VIEW | _MODEL | {Check.ODD_SIZE, Check.NOISY},
        Check.ODD_SIZE: _VIEW | _MODEL | {Check.NOISY},
        # the view changed: the old view's cells no longer match
        Check.CAMERA_MOVED: {Check.OBSTRUCTED} | _MODEL,
        # what covers part of the view takes its contrast, detail and colour with it
        Check.OBSTRUCTED: {*_LOOKS, *_MODEL},
        Check.LOW_INFORMATION: {Check.LOW_CONTRAST, Check.BLURRY, Check.GRAYSCALE} | _MODEL,
        Check.LOW_CONTRAST: {Check.BLURRY, Check.GRAYSCALE, Check.NOISY} | _MODEL,
        Check.EXPOSURE_CLIPPED: {Check.GRAYSCALE} | _MODEL,
        Check.BLURRY: _MODEL,
        Check.NOISY: _MODEL,
        Check.GRAYSCALE: _MODEL,
        Check.OUTLIER: {Check.LOW_CONFIDENCE, Check.HIGH_ENTROPY},
    }.items()
}

_RANK = {check: rank for rank, check in enumerate(CAUSE_ORDER)}


def name_cause(issues: Sequence[Issue]) -> tuple[Check | None, list[Issue]]:
    """The frame's cause (None without issues) and its issues, each marked with the check
    that explains it, if any, in their order.

    Examples
    --------
    >>> from framegate.detectors.issues import build_issue
    >>> dark = build_issue(Check.DARK, 0.9, 0.5, "dark", critical_at=0.8)
    >>> flat = build_issue(Check.LOW_CONTRAST, 1.0, 0.5, "flat", critical_at=0.8)
    >>> cause, marked = name_cause([flat, dark])
    >>> cause, [(str(i.check), i.explained_by) for i in marked]
    (<Check.DARK: 'dark'>, [('low_contrast', <Check.DARK: 'dark'>), ('dark', None)])
    """
    present = sorted({i.check for i in issues}, key=lambda c: _RANK.get(c, len(_RANK)))
    if not present:
        return None, list(issues)
    marked = []
    for issue in issues:
        # no check explains itself (EXPLAINS only points later in CAUSE_ORDER)
        by = next((c for c in present if issue.check in EXPLAINS.get(c, ())), None)
        marked.append(issue if by is None else issue.model_copy(update={"explained_by": by}))
    return present[0], marked
