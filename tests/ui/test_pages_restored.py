"""Pages of a long-running app after a restore brings a campaign back to a revision number it showed
before with other contents: they show the stored state, not what they kept for that number
(Streamlit's AppTest on a real SQLite file, restored with ``doe.storage.backup``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from doe.campaign import Campaign
from doe.domain.table import ID_COLUMN
from doe.simulate import VirtualLab
from doe.storage.backup import backup, restore
from doe.ui import state

APP = Path(__file__).resolve().parents[2] / "app.py"
CE, RET = "first_cycle_ce_pct", "capacity_retention_pct"


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    monkeypatch.setenv("DOE_DATABASE_URL", url)
    monkeypatch.setenv("DOE_ENGINE_SETTINGS", "fast")
    monkeypatch.setenv("DOE_ACTOR", "Ada Tester")
    return url


def _start(page: str, campaign: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.session_state[state.NEXT_CAMPAIGN] = campaign
    at.run()
    at.switch_page(f"doe/ui/pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _measured(ids: list[str], ce: list[float]) -> pd.DataFrame:
    """Historical experiments ``ids`` with both objectives measured (CE as given)."""
    table = VirtualLab.random_recipes(len(ids), seed=4).reset_index(drop=True)
    table.insert(0, ID_COLUMN, ids)
    table[CE], table[RET] = ce, 80.0
    return table


def _restore_and_write_again(url: str, made: Path, write: pd.DataFrame, seen: int) -> None:
    """Restore the backup, then record ``write`` in another session: the revision is ``seen`` again."""
    restore(url, made, force=True)
    other = Campaign.load("line", storage=url, actor="Bo Other")
    other.record(write)
    assert other.revision() == seen


def test_insights_show_the_restored_campaigns_best_recipes(db_url: str, tmp_path: Path) -> None:
    campaign = Campaign.from_config("hfo2-ncm85", storage=db_url, name="line", actor="fixture")
    campaign.record(_measured(["A1", "A2"], [80.0, 81.0]))
    made = backup(db_url, tmp_path / "lab.sqlite3").path
    campaign.record(_measured(["A3"], [95.0]))
    at = _start("insights", "line")
    best = next(f.value for f in at.dataframe if CE in f.value.columns)
    assert best[ID_COLUMN].iloc[0] == "A3"

    _restore_and_write_again(db_url, made, _measured(["A3"], [60.0]), campaign.revision())
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    best = next(f.value for f in at.dataframe if CE in f.value.columns)
    assert best[ID_COLUMN].iloc[0] == "A2"
    assert 95.0 not in best[CE].tolist()


def test_the_record_grid_shows_the_restored_campaigns_waiting_experiments(db_url: str, tmp_path: Path) -> None:
    campaign = Campaign.from_config("hfo2-ncm85", storage=db_url, name="line", actor="fixture")
    first, second, third = campaign.suggest(3)[ID_COLUMN].tolist()
    campaign.accept()
    made = backup(db_url, tmp_path / "lab.sqlite3").path
    campaign.record(pd.DataFrame({ID_COLUMN: [second], CE: [80.0], RET: [60.0]}))
    at = _start("record", "line")
    assert at.data_editor[0].value[ID_COLUMN].tolist() == [first, third]

    _restore_and_write_again(db_url, made, pd.DataFrame({ID_COLUMN: [third], CE: [82.0], RET: [61.0]}),
                             campaign.revision())
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.data_editor[0].value[ID_COLUMN].tolist() == [first, second]


def test_a_correction_checked_before_a_restore_is_not_offered_after_it(db_url: str, tmp_path: Path) -> None:
    """The stored value it would replace is another one than the person saw, at the same revision."""
    campaign = Campaign.from_config("hfo2-ncm85", storage=db_url, name="line", actor="fixture")
    [exp_id] = campaign.suggest(1)[ID_COLUMN].tolist()
    campaign.accept()
    made = backup(db_url, tmp_path / "lab.sqlite3").path
    campaign.record(pd.DataFrame({ID_COLUMN: [exp_id], CE: [85.0]}))
    at = _start("record", "line")
    key = at.data_editor[0].key
    assert key is not None
    at.session_state[key] = {"edited_rows": {0: {CE: 86.0}}, "added_rows": [], "deleted_rows": []}
    next(b for b in at.button if b.label == "Save results").click().run()
    assert any(b.label == "Correct the stored values" for b in at.button)  # checked against 85.0

    _restore_and_write_again(db_url, made, pd.DataFrame({ID_COLUMN: [exp_id], CE: [70.0]}), campaign.revision())
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not any(b.label == "Correct the stored values" for b in at.button)
    assert "no longer offered" in "\n".join(str(i.value) for i in at.info)
    assert campaign.history()[CE].tolist() == [70.0]
