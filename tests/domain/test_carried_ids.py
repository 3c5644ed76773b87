"""Stand-ins for the ids and labels an older doe stored (doe.domain.carried_ids), without a database."""

from __future__ import annotations

import json

from doe.domain.carried_ids import stand_ins
from doe.domain.table import id_key


def test_stand_ins_share_no_key_with_a_stored_id_or_one_another() -> None:
    stored = ["clone-1", "CLONE-1", "clone-2", "7", "007", "plain"]
    found = stand_ins(stored, [])
    assert sorted(found.ids.values()) == ["007", "7", "CLONE-1", "clone-1"]  # every twin, the first one too
    recorded = [*found.ids, "clone-2", "plain"]
    assert len({id_key(i) for i in recorded}) == len(recorded)


def test_restore_gives_every_entry_its_stored_id_and_label() -> None:
    found = stand_ins(["H-2", "h-2"], [("H-2", "A"), ("H-2", "a"), ("h-2", "A")])
    ids = {stored: new for new, stored in found.ids.items()}
    labels = found.labels
    assert sorted(labels.values()) == ["A", "a"] and all(exp_id == "H-2" for exp_id, _ in labels)  # h-2's A is free
    new_a = next(new for (_, new), label in found.labels.items() if label == "a")
    export = {"experiments": [{"experiment_id": ids["h-2"]}], "measurements": [
        {"experiment_id": ids["H-2"], "replicate": new_a}, {"experiment_id": ids["h-2"], "replicate": "A"}],
        "cell_failures": [], "audit": [{"experiment_id": ids["H-2"], "detail": json.dumps({"replicate": new_a})},
                                       {"experiment_id": None, "detail": "{}"}]}
    restored = found.restore(export)
    assert restored["experiments"] == [{"experiment_id": "h-2"}]
    assert restored["measurements"] == [{"experiment_id": "H-2", "replicate": "a"},
                                        {"experiment_id": "h-2", "replicate": "A"}]
    assert json.loads(restored["audit"][0]["detail"]) == {"replicate": "a"} and restored["audit"][1]["detail"] == "{}"
