"""Rate capability: discharge capacity at each C-rate, and 1C over 0.1C, from a rate test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from doe.instruments import InstrumentFileError, cycling_outcomes
from doe.instruments.binary import cycles_from_rows
from doe.instruments.synthetic import write_cycling_file

MASS_MG = 12.0
FRACTION = {0.1: 1.0, 0.2: 0.95, 0.5: 0.85, 1.0: 0.65, 2.0: 0.45}  # the study: about 65 % at 1C
RATES = np.repeat(list(FRACTION), 2)


def _rate_test() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Charge and discharge capacity (mAh) and discharge current (mA) of each cycle."""
    first = 203.0 * MASS_MG / 1000.0
    discharge = np.array([first * FRACTION[r] for r in RATES])
    charge = discharge / 0.996
    charge[0] = first / 0.9
    return charge, discharge, RATES * first  # 1C: the first discharge capacity in one hour


@pytest.mark.parametrize(("file_format", "decimal_comma"),
                         [("biologic_mpt", False), ("biologic_mpt", True), ("arbin_csv", False), ("maccor_txt", False)])
def test_each_format_with_currents_gives_the_rate_capability(tmp_path: Path, file_format: str,
                                                             decimal_comma: bool) -> None:
    charge, discharge, current = _rate_test()
    path = write_cycling_file(tmp_path / "rate", file_format, charge, discharge,  # type: ignore[arg-type]
                              decimal_comma=decimal_comma, discharge_current_ma=current)
    outcomes = cycling_outcomes(path, active_mass_mg=MASS_MG)
    assert outcomes["rate_capability_pct"] == pytest.approx(65.0, rel=1e-6)
    for rate, label in [(0.1, "0p1"), (0.2, "0p2"), (0.5, "0p5"), (1.0, "1"), (2.0, "2")]:
        assert outcomes[f"discharge_capacity_mah_per_g_at_{label}c"] == pytest.approx(203.0 * FRACTION[rate], rel=1e-6)
    assert outcomes["first_cycle_ce_pct"] == pytest.approx(90.0, rel=1e-6)  # unchanged by the rates


def test_the_1c_current_can_be_given_per_gram(tmp_path: Path) -> None:
    charge, discharge, current = _rate_test()
    path = write_cycling_file(tmp_path / "rate", "arbin_csv", charge, discharge, discharge_current_ma=current)
    # 1C = 190 mAh/g: the 0.1C discharge reads as 0.107C, still 0.1C to one significant figure
    assert cycling_outcomes(path, active_mass_mg=MASS_MG, one_c_mah_per_g=190.0)["rate_capability_pct"] == \
        pytest.approx(65.0, rel=1e-6)
    # 1C = 101.5 mAh/g doubles every rate: 0.2C to 4C, no 0.1C, so no ratio
    doubled = cycling_outcomes(path, active_mass_mg=MASS_MG, one_c_mah_per_g=101.5)
    assert "rate_capability_pct" not in doubled and "discharge_capacity_mah_per_g_at_4c" in doubled
    with pytest.raises(InstrumentFileError, match="one_c_mah_per_g"):
        cycling_outcomes(path, active_mass_mg=MASS_MG, one_c_mah_per_g=0.0)


def test_one_rate_or_no_current_gives_no_rate_values(tmp_path: Path) -> None:
    charge, discharge, current = _rate_test()
    one_rate = write_cycling_file(tmp_path / "one", "maccor_txt", charge, discharge)
    no_current = write_cycling_file(tmp_path / "cycles.csv", "neware_csv", charge, discharge,
                                    discharge_current_ma=current)
    for path in (one_rate, no_current):
        outcomes = cycling_outcomes(path, active_mass_mg=MASS_MG)
        assert not any("rate" in name for name in outcomes.index), path.name


def test_binary_rows_give_the_charge_weighted_discharge_current() -> None:
    rows = pd.DataFrame({"current_ma": [1.0, 1.0, -2.0, -2.0, -0.5],
                         "counter_mah": [0.0, 2.0, 1.0, 0.0, -0.5],
                         "restart": [True, False, False, False, False]})
    cycles = cycles_from_rows(rows)
    np.testing.assert_allclose(cycles["discharge_mah"], [2.5])
    # 2 mA for 2 mAh and 0.5 mA for 0.5 mAh: (2*2 + 0.5*0.5) / 2.5
    np.testing.assert_allclose(cycles["discharge_current_ma"], [(4.0 + 0.25) / 2.5])


def test_record_files_offers_the_rate_capability_as_the_campaigns_outcome(tmp_path: Path) -> None:
    from doe.campaign import Campaign

    campaign = Campaign.from_config("hfo2-ncm85", storage=f"sqlite:///{tmp_path / 'lab.sqlite3'}", actor="test")
    campaign.suggest(1)
    experiment = campaign.history()["experiment_id"].iloc[0]
    charge, discharge, current = _rate_test()
    path = write_cycling_file(tmp_path / "rate.mpt", "biologic_mpt", charge, discharge, discharge_current_ma=current)
    preview = campaign.record_files([path], experiment_id=experiment, active_mass_mg=MASS_MG)
    assert preview.table["rate_capability_pct"].tolist() == pytest.approx([65.0], rel=1e-6)
    assert "discharge_capacity_mah_per_g_at_2c" in preview.skipped  # no such outcome in the template
