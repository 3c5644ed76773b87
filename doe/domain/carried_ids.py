"""Experiment ids and replicate labels a clone carries as they are stored.

A clone records the source's finished experiments into a new campaign
(:meth:`doe.Campaign.clone`), and ``record()`` takes every id there as a new one. An older doe
stored ids a new id may not be: ``h-2`` beside ``H-2``, ``7`` beside ``007``, an id holding a
zero-width space, one stored decomposed or with spaces around it; and replicate labels a new
cell may not have (``a`` beside ``A`` in one experiment). Such an id or label is recorded under
a stand-in (``clone-1``, ...) and given back its stored spelling in the clone's export before
the import writes it, as :meth:`doe.Campaign.import_json` carries any stored id and label.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from doe.domain.records import MAX_REPLICATE
from doe.domain.replicates import REPLICATE_COLUMN
from doe.domain.table import ID_COLUMN, clean_label, id_key, replicate_key, replicate_label
from doe.domain.values import is_plain_label

MAX_ID = 64
"""Characters of an experiment id a table may give."""


@dataclass(frozen=True)
class StandIns:
    """Stored ids and labels and the stand-ins they are recorded under: ``ids`` maps a stand-in
    to the stored id, ``labels`` a (stored id, stand-in) pair to the stored replicate label."""

    ids: dict[str, str]
    labels: dict[tuple[str, str], str]

    def frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` (a history, measurements or failed cells) with each stored id and replicate
        label replaced by its stand-in."""
        if ID_COLUMN not in frame.columns or not (self.ids or self.labels):
            return frame
        label_of = {(exp_id, stored): new for (exp_id, new), stored in self.labels.items()}
        changed: dict[str, list[Any]] = {}
        if REPLICATE_COLUMN in frame.columns:
            changed[REPLICATE_COLUMN] = [label_of.get((str(i), r), r) if isinstance(r, str) else r
                                         for i, r in zip(frame[ID_COLUMN], frame[REPLICATE_COLUMN], strict=True)]
        id_of = {stored: new for new, stored in self.ids.items()}
        changed[ID_COLUMN] = [id_of.get(i, i) if isinstance(i, str) else i for i in frame[ID_COLUMN]]
        return frame.assign(**changed)

    def restore(self, export: dict[str, Any]) -> dict[str, Any]:
        """A campaign export (:meth:`doe.Campaign.export_json`) naming each experiment and
        replicate cell as stored (in its entries and in an audit entry's ``replicate``)."""
        if not (self.ids or self.labels):
            return export
        restored = dict(export)
        for section in ("experiments", "measurements", "cell_failures"):
            restored[section] = [self._entry(entry, REPLICATE_COLUMN) for entry in export[section]]
        audit = []
        for entry in export["audit"]:
            entry = self._entry(entry, None)
            detail = json.loads(entry["detail"]) if isinstance(entry.get("detail"), str) else None
            if isinstance(detail, dict) and isinstance(detail.get(REPLICATE_COLUMN), str):
                label = self.labels.get((str(entry[ID_COLUMN]), detail[REPLICATE_COLUMN]), detail[REPLICATE_COLUMN])
                entry["detail"] = json.dumps(detail | {REPLICATE_COLUMN: label}, ensure_ascii=False, allow_nan=False)
            audit.append(entry)
        restored["audit"] = audit
        return restored

    def _entry(self, entry: dict[str, Any], label_field: str | None) -> dict[str, Any]:
        exp_id = entry.get(ID_COLUMN)
        if not isinstance(exp_id, str):
            return dict(entry)
        stored = self.ids.get(exp_id, exp_id)
        out = entry | {ID_COLUMN: stored}
        if label_field is not None and isinstance(entry.get(label_field), str):
            out[label_field] = self.labels.get((stored, entry[label_field]), entry[label_field])
        return out


def with_stand_ins(history: pd.DataFrame, measurements: pd.DataFrame, failures: pd.DataFrame,
                   ) -> tuple[StandIns, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The :func:`stand_ins` of a campaign's history, measurements and failed cells
    (:meth:`doe.Campaign.cell_failures`), and the three with them in place of the stored ids and labels."""
    cells = [*zip(measurements[ID_COLUMN], measurements[REPLICATE_COLUMN], strict=True),
             *zip(failures[ID_COLUMN], failures[REPLICATE_COLUMN], strict=True)]
    found = stand_ins(history[ID_COLUMN], cells)
    return found, found.frame(history), found.frame(measurements), found.frame(failures)


def _new_ok(text: str, limit: int) -> bool:
    return is_plain_label(text) and len(text) <= limit


def stand_ins(ids: Iterable[Any], cells: Iterable[tuple[Any, Any]]) -> StandIns:
    """Stand-ins for the stored ``ids``, and the replicate labels of ``cells`` ((id, label)
    pairs), that ``record()`` would refuse or change as new ones: not as a table's id or label
    is cleaned (stripped, composed), holding an invisible character, too long, or sharing a key
    (:func:`~doe.domain.table.id_key`; a label: :func:`~doe.domain.table.replicate_key`, in
    its experiment) with another. A stand-in shares no key with any of them or another stand-in."""
    stored = list(dict.fromkeys(str(i) for i in ids))
    found_ids = _stand_ins(stored, lambda i: clean_label(i) == i and _new_ok(i, MAX_ID), lambda i: id_key(clean_label(i)))
    by_experiment: dict[str, list[str]] = {}
    for exp_id, label in cells:
        if isinstance(label, str) and label:
            by_experiment.setdefault(str(exp_id), [])
            if label not in by_experiment[str(exp_id)]:
                by_experiment[str(exp_id)].append(label)
    found_labels = {(exp_id, new): label for exp_id, labels in by_experiment.items()
                    for new, label in _stand_ins(labels, lambda r: replicate_label(r) == r and _new_ok(r, MAX_REPLICATE),
                                                 lambda r: replicate_key(replicate_label(r))).items()}
    return StandIns(found_ids, found_labels)


def _stand_ins(stored: list[str], as_new: Callable[[str], bool], key: Callable[[str], str]) -> dict[str, str]:
    keys = Counter(key(text) for text in stored)
    taken = set(keys)
    found: dict[str, str] = {}
    number = 0
    for text in stored:
        if as_new(text) and keys[key(text)] == 1:
            continue
        number += 1
        while key(f"clone-{number}") in taken:
            number += 1
        taken.add(key(f"clone-{number}"))
        found[f"clone-{number}"] = text
    return found


__all__ = ["MAX_ID", "StandIns", "stand_ins", "with_stand_ins"]
