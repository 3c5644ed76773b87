"""One kind of cell per outcome of an experiment, in the write path: one value recorded without a
replicate label (the experiment's one cell) or labelled cells, never both, for a single value
and over a curve's cycles alike (:func:`one_kind_of_cell`)."""

from __future__ import annotations

from doe.errors import DataError
from doe.storage.checked import PlannedMeasurement
from doe.storage.values import conflict_error


def one_kind_of_cell(name: str, planned: list[PlannedMeasurement], current: dict[tuple[str, str, str, int], float],
                      allow_corrections: bool, stored_by: dict[tuple[str, str, str, int], str]) -> None:
    """An outcome of an experiment is one value recorded without a replicate label (the
    experiment's one cell) or values of labelled cells, never both: a labelled cell beside the
    unlabelled value would count that cell twice or as a cell more than were built. An
    unlabelled value of an outcome that has one labelled cell is that cell's (the Record
    grid's value of an experiment whose one cell came from its cycler file).

    With ``allow_corrections`` the labelled cells replace the unlabelled value (the first of
    them takes :attr:`PlannedMeasurement.replaces_unlabelled`; the value stays in the history
    as superseded). Raises ``ConflictError`` without it, naming who recorded the unlabelled value
    and when (``stored_by``: :func:`~doe.storage.values.recorded_by` of each key of ``current``),
    ``DataError`` for an unlabelled value beside labelled ones (stored or in this write); nothing
    is written.
    """
    stored: dict[tuple[str, str, int], set[str]] = {}
    for eid, outcome, replicate, cycle in current:
        stored.setdefault((eid, outcome, cycle), set()).add(replicate)
    _one_kind_of_curve(name, planned, stored, allow_corrections, stored_by)
    written: dict[tuple[str, str, int], list[PlannedMeasurement]] = {}
    for pm in planned:
        written.setdefault((pm.experiment_id, pm.outcome, pm.cycle), []).append(pm)
    for group, rows in written.items():  # an unlabelled value of an outcome with one cell is that cell's
        cells = stored.get(group, set())
        if len(cells) == 1 and "" not in cells and all(not pm.replicate for pm in rows):
            for pm in rows:
                pm.replicate = next(iter(cells))
    refused: list[str] = []
    conflicts: list[str] = []
    for (eid, outcome, cycle), rows in written.items():
        labels = {pm.replicate for pm in rows}
        kept = stored.get((eid, outcome, cycle), set())
        cells = kept - {""}
        if "" in kept and cells:
            continue  # stored so by an older version: its cells file records back as it was
        where = f"{eid} {outcome}" + (f" cycle {cycle}" if cycle else "")
        if "" in labels and (labels - {""} or cells):
            shown = sorted((labels - {""}) | cells)
            refused.append(f"{where}: a value without a replicate label beside the cells {shown}; record each "
                           "cell's value with its label")
        elif "" in kept and "" not in labels:
            old = current[(eid, outcome, "", cycle)]
            if allow_corrections:
                rows[0].replaces_unlabelled = old
            else:
                conflicts.append(f"{where}: recorded without a replicate label ({old!r}, "
                                 f"{stored_by[(eid, outcome, '', cycle)]}), now cells {sorted(labels)}")
    if refused:
        raise DataError(f"campaign {name!r}: {len(refused)} outcome(s) would hold a value without a replicate label "
                        "beside labelled cells; nothing was written:\n" + "\n".join(f"  - {x}" for x in refused[:50]))
    if conflicts:
        raise conflict_error(name, conflicts, "outcome(s) recorded without a replicate label would get labelled "
                             "cells beside that value, which would count a cell twice or one cell more than were built",
                             "With correct=True the labelled cells replace the unlabelled value (kept as history): "
                             "if that value was one of the cells, it is in the labelled ones; if it was another cell, "
                             "record it too, under its own label.")


def _one_kind_of_curve(name: str, planned: list[PlannedMeasurement], stored: dict[tuple[str, str, int], set[str]],
                       allow_corrections: bool, stored_by: dict[tuple[str, str, str, int], str]) -> None:
    """:func:`one_kind_of_cell` over a curve's cycles (points of cycles not stored before are
    still one cell's), judged on the labels as sent, before that cycle-by-cycle check.

    Unlabelled points of a curve that is one labelled cell's are that cell's (its later cycles,
    or the whole export again, sent without the label). Refused, nothing written: unlabelled
    points beside the curves of several cells or beside labelled points of the same write
    (``DataError``); labelled points beside a curve stored without labels, a conflict
    (``ConflictError``) that ``allow_corrections`` lets them replace only when they give every
    cycle stored so (``DataError`` otherwise: the rest would stay as one cell more). A curve
    stored with both by an older version records back as it was."""
    curves: dict[tuple[str, str], dict[str, set[int]]] = {}
    for (eid, outcome, cycle), labels in stored.items():
        for label in labels if cycle else ():
            curves.setdefault((eid, outcome), {}).setdefault(label, set()).add(cycle)
    sent: dict[tuple[str, str], list[PlannedMeasurement]] = {}
    for pm in planned:
        if pm.cycle:
            sent.setdefault((pm.experiment_id, pm.outcome), []).append(pm)
    refused, conflicts = [], []
    for (eid, outcome), rows in sent.items():
        kept = curves.get((eid, outcome), {})
        cells, labels = set(kept) - {""}, {pm.replicate for pm in rows}
        if "" in kept and cells:
            continue  # stored so by an older version: its cells file records back as it was
        where = f"{eid} {outcome}"
        if labels == {""}:
            if len(cells) == 1:
                for pm in rows:
                    pm.replicate = next(iter(cells))
            elif cells:
                refused.append(f"{where}: points without a replicate label beside the curves of the cells "
                               f"{sorted(cells)}; record each cell's points with its label")
        elif "" in labels:
            refused.append(f"{where}: points without a replicate label beside points of the cells "
                           f"{sorted(labels - {''})} in the same table; give every point its cell's label")
        elif "" in kept and not allow_corrections:
            by = list(dict.fromkeys(stored_by[(eid, outcome, "", cycle)] for cycle in sorted(kept[""])))
            conflicts.append(f"{where}: a curve recorded without a replicate label (cycles {_cycles(kept[''])}, "
                             f"{'; '.join(by[:3])}{'; ...' if len(by) > 3 else ''}), now points of the cells "
                             f"{sorted(labels)}")
        elif "" in kept and (short := {label: left for label in sorted(labels)
                                       if (left := kept[""] - {pm.cycle for pm in rows if pm.replicate == label})}):
            missing = "; ".join(f"{label!r} lacks cycles {_cycles(left)}" for label, left in short.items())
            refused.append(f"{where}: each cell replacing the curve recorded without a label must give every "
                           f"cycle of it ({missing}); send every cycle of each cell")
    if refused:
        raise DataError(f"campaign {name!r}: {len(refused)} curve(s) would hold points without a replicate label "
                        "beside labelled cells; nothing was written:\n" + "\n".join(f"  - {x}" for x in refused[:50]))
    if conflicts:
        raise conflict_error(name, conflicts, "curve(s) recorded without a replicate label would get labelled "
                             "points beside them, which would count a cell twice or one cell more than were built",
                             "With correct=True labelled points that give every cycle of that curve replace it (kept "
                             "as history).")


def _cycles(cycles: set[int]) -> str:
    ordered = sorted(cycles)
    return f"{ordered[0]}-{ordered[-1]}" if len(ordered) > 1 else str(ordered[0])


__all__ = ["one_kind_of_cell"]
