r"""A third simulated coating lab, for testing only: no engine setting is chosen on it.

Written on 2026-12-04 by an independent helper as a test problem on which no setting is chosen:
its chemistry was written without looking at any optimiser's behaviour on it, and no optimiser
was run on it while it was written.

Same parameter names, bounds and outcome names as the ``hfo2-ncm85`` template, but its own
caricature of HfO2 nanoparticles (oleic acid / oleylamine capped) dried onto NCM85 powder:

- dispersion: sonication breaks agglomerates but also strips bound ligand into the solvent
  (chloroform fastest, hexane slowest), so the ligand that stays bound, not the ligand added,
  sets colloidal quality; toluene wets the oleyl shell best;
- drying: the film forms well at a moderate drying Peclet number, i.e. the best solid content
  rises the further the bath lies below the solvent's boiling point (slow drying wants a dense
  dispersion, fast drying a dilute one); a bath above the boiling point boils the solvent;
- coating: coverage grows with loading times dispersion quality; a patchy shell stands taller,
  and a shell of more than a few nm blocks Li+ (a thin coating wins);
- anneal: ligand burn-off (fast in O2, slow in Ar), densification of the shell, whose need
  grows with its thickness, and surface reconstruction of NCM85 (rock-salt; worst in Ar),
  Li2CO3 in air below ~680 C and oxygen loss in Ar;
- failures: the organic on the powder (ligand ratio times loading) burns exothermically when
  heated in an oxidising atmosphere; a large organic load runs away and sinters the powder
  into a hard cake, and no cell is built.

With ``g(x, w) = exp(-(x / w)^2 / 2)``, ``sig`` the logistic, ``k(k_ref /h, Ea, T_ref)`` Arrhenius
rates and ``bp`` the solvent's boiling point (chloroform 61.2, hexane 68.7, toluene 110.6 C)::

    r_b   = r exp(-m_solv s / 50 min),  m_solv = 1.0 toluene | 1.6 chloroform | 0.7 hexane
    Q     = q_solv g(ln((r_b + 0.02) / 0.20), 0.6) (1 - 0.45 e^{-s / 7 min}) q_dry
    q_solv = 1.00 toluene | 0.88 chloroform | 0.82 hexane
    q_dry = g(ln(S / 9) - (bp - B) / 26, 0.75) (1 - 0.3 sig((B - bp) / 3))
    C     = 1 - exp(-6 L (0.1 + 0.9 Q));  h = 6.5 L / C  [nm];  bk = (h/6.5)^3 / (1 + (h/6.5)^3)
    X     = 1 - exp(-k(1, 110 kJ, 380 C) b_atm t),  b_atm = 3.0 O2 | 1.8 air | 0.6 Ar
    carb  = c / (c + 0.05),  c = r L (1 - X)                       (residual organic)
    A     = 1 - exp(-k(1, 140 kJ, 560 C) t / (0.5 + 0.12 h))       (shell densification)
    D     = 1 - exp(-k(0.08, 260 kJ, 650 C) f_atm t),  f_atm = 1.0 O2 | 1.5 air | 3.5 Ar
    O_ar  = [Ar] (1 - exp(-k(0.05, 120 kJ, 550 C) t))              (oxygen loss)
    co3   = [air] 0.35 (1 - e^{-t / 0.7 h}) (1 - sig((T - 680) / 20))  (Li2CO3)
    P     = C (0.45 + 0.55 A)
    CE    = 79.6 + 14.5 P - 7 bk - 5 carb - 13 D - 6 O_ar - 5 co3                       [%]
    ret   = max(0, 57 + 16 P - 6 bk - 8 carb - 22 D - 10 O_ar - 7 co3)                 [%]
    Q_dis = (223 (1 - L/100) + 8 P - 12 bk - 55 D - 20 O_ar - 5 co3) CE / 100         [mAh/g]
    R_if  = 160 exp(-1.7 P) (1 + 0.6 (h/6.5)^2) (1 + 1.5 carb) (1 + 1.2 D + 1.2 O_ar + 0.6 co3)
                                                                                      [ohm]
    rate  = 90 / (1 + (R_if / 100)^1.4) (1 - 0.3 D)                                   [%]
    p_fail = sig(-7.5 + 2.8 r L ox_atm sig((T - 380) / 20) (1 + 0.5 L))
    ox_atm = 1.0 O2 | 0.55 air | 0 Ar

The bare material gives CE 79.6 %; the best of 200,000 uniform random recipes (seed 0) about
92 %, in toluene, O2, near 0.5-0.6 wt% and a 550-630 C anneal; the study recipe (0.83 wt%,
400 C, 2 h, O2, chloroform, ...) about 82.7 %. About 6 % of uniform random recipes fail.
Noise and clipping as in the virtual lab's single-cell runs (:data:`NOISE_SD`: CE 0.6 %, ...).
"""

from __future__ import annotations

import numpy as np

from benchmarks.formula_lab import FormulaLab

_R_GAS = 8.314  # J/(mol K)
_BOILING_C = {"chloroform": 61.2, "toluene": 110.6, "hexane": 68.7}
_SOLVENT_QUALITY = {"toluene": 1.00, "chloroform": 0.88, "hexane": 0.82}
_LIGAND_STRIPPING = {"toluene": 1.0, "chloroform": 1.6, "hexane": 0.7}  # per 50 min sonication
_BURN_FACTOR = {"O2": 3.0, "air": 1.8, "Ar": 0.6}
_RECONSTRUCTION_FACTOR = {"O2": 1.0, "air": 1.5, "Ar": 3.5}
_OXIDISING = {"O2": 1.0, "air": 0.55, "Ar": 0.0}
_SHELL_NM_PER_WT_PCT = 6.5
_BLOCKING_NM = 6.5
FAILURE_REASON = "organic burn-off ran away and sintered the powder into a cake; no cell built"


def _sig(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _g(x: np.ndarray, width: float) -> np.ndarray:
    return np.exp(-0.5 * (x / width) ** 2)


def _lookup(table: dict[str, float], labels: np.ndarray) -> np.ndarray:
    return np.array([table[str(v)] for v in labels], dtype=float)


def _rate_per_h(k_ref: float, ea_j_per_mol: float, t_ref_c: float, temp_c: np.ndarray) -> np.ndarray:
    return k_ref * np.exp(-ea_j_per_mol / _R_GAS * (1.0 / (temp_c + 273.15) - 1.0 / (t_ref_c + 273.15)))


def third_lab_outcomes(recipes: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Noise-free outcomes and failure probability of validated recipes (module docstring)."""
    load_wt_pct = np.asarray(recipes["hfo2_loading_wt_pct"], dtype=float)
    temp_c = np.asarray(recipes["anneal_temperature_c"], dtype=float)
    hours = np.asarray(recipes["anneal_time_h"], dtype=float)
    atm = np.asarray(recipes["anneal_atmosphere"]).astype(str)
    solid_mg_per_ml = np.asarray(recipes["solid_content_mg_per_ml"], dtype=float)
    ligand = np.asarray(recipes["ligand_to_np_mass_ratio"], dtype=float)
    solvent = np.asarray(recipes["dispersion_solvent"]).astype(str)
    sonic_min = np.asarray(recipes["sonication_time_min"], dtype=float)
    bath_c = np.asarray(recipes["evaporation_bath_temperature_c"], dtype=float)
    boiling_c = _lookup(_BOILING_C, solvent)
    is_ar = (atm == "Ar").astype(float)
    is_air = (atm == "air").astype(float)

    # dispersion and drying
    bound = ligand * np.exp(-_lookup(_LIGAND_STRIPPING, solvent) * sonic_min / 50.0)
    q_ligand = _g(np.log((bound + 0.02) / 0.20), 0.6)
    q_sonic = 1.0 - 0.45 * np.exp(-sonic_min / 7.0)
    peclet = np.log(solid_mg_per_ml / 9.0) - (boiling_c - bath_c) / 26.0
    q_dry = _g(peclet, 0.75) * (1.0 - 0.3 * _sig((bath_c - boiling_c) / 3.0))
    quality = _lookup(_SOLVENT_QUALITY, solvent) * q_ligand * q_sonic * q_dry
    # coating
    coverage = 1.0 - np.exp(-6.0 * load_wt_pct * (0.1 + 0.9 * quality))
    with np.errstate(invalid="ignore", divide="ignore"):
        thickness_nm = np.where(load_wt_pct > 0, _SHELL_NM_PER_WT_PCT * load_wt_pct / np.maximum(coverage, 1e-12), 0.0)
    blocking = (thickness_nm / _BLOCKING_NM) ** 3
    bk = blocking / (1.0 + blocking)
    # anneal
    burnt = 1.0 - np.exp(-_rate_per_h(1.0, 110e3, 380.0, temp_c) * _lookup(_BURN_FACTOR, atm) * hours)
    carbon = ligand * load_wt_pct * (1.0 - burnt)
    carb = carbon / (carbon + 0.05)
    dense = 1.0 - np.exp(-_rate_per_h(1.0, 140e3, 560.0, temp_c) * hours / (0.5 + 0.12 * thickness_nm))
    reconstruction = _rate_per_h(0.08, 260e3, 650.0, temp_c) * _lookup(_RECONSTRUCTION_FACTOR, atm)
    damage = 1.0 - np.exp(-reconstruction * hours)
    oxygen_loss = is_ar * (1.0 - np.exp(-_rate_per_h(0.05, 120e3, 550.0, temp_c) * hours))
    carbonate = is_air * 0.35 * (1.0 - np.exp(-hours / 0.7)) * (1.0 - _sig((temp_c - 680.0) / 20.0))
    protection = coverage * (0.45 + 0.55 * dense)
    # outcomes
    ce = 79.6 + 14.5 * protection - 7.0 * bk - 5.0 * carb - 13.0 * damage - 6.0 * oxygen_loss - 5.0 * carbonate
    charge = (223.0 * (1.0 - load_wt_pct / 100.0) + 8.0 * protection - 12.0 * bk - 55.0 * damage
              - 20.0 * oxygen_loss - 5.0 * carbonate)
    retention = np.maximum(0.0, 57.0 + 16.0 * protection - 6.0 * bk - 8.0 * carb - 22.0 * damage
                           - 10.0 * oxygen_loss - 7.0 * carbonate)
    resistance = (160.0 * np.exp(-1.7 * protection) * (1.0 + 0.6 * (thickness_nm / _BLOCKING_NM) ** 2)
                  * (1.0 + 1.5 * carb)
                  * (1.0 + 1.2 * damage + 1.2 * oxygen_loss + 0.6 * carbonate))
    rate = 90.0 / (1.0 + (resistance / 100.0) ** 1.4) * (1.0 - 0.3 * damage)
    exotherm = ligand * load_wt_pct * _lookup(_OXIDISING, atm) * _sig((temp_c - 380.0) / 20.0)
    fail_logit = -7.5 + 2.8 * exotherm * (1.0 + 0.5 * load_wt_pct)
    return {
        "first_cycle_ce_pct": ce,
        "capacity_retention_pct": retention,
        "first_cycle_discharge_capacity_mah_per_g": charge * ce / 100.0,
        "rate_capability_pct": rate,
        "interfacial_resistance_ohm": resistance,
        "coating_thickness_nm": thickness_nm,
        "failure_probability": _sig(fail_logit),
    }


class ThirdLab(FormulaLab):
    """The third simulated lab: :meth:`run` and :meth:`truth` as :class:`doe.simulate.VirtualLab`.

    Args:
        seed: seed of the numpy random generator (same seed and calls: same results).
    """

    failure_reason = FAILURE_REASON
    outcomes = staticmethod(third_lab_outcomes)

    @staticmethod
    def bounded(measured: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Percentages within 0-100, capacity at least 0, thickness 0 without a coating."""
        out = dict(measured)
        for name in ("first_cycle_ce_pct", "capacity_retention_pct", "rate_capability_pct"):
            out[name] = np.clip(out[name], 0.0, 100.0)
        capacity = "first_cycle_discharge_capacity_mah_per_g"
        out[capacity] = np.maximum(out[capacity], 0.0)
        out["coating_thickness_nm"] = np.where(expected["coating_thickness_nm"] > 0,
                                               np.maximum(out["coating_thickness_nm"], 0.0), 0.0)
        return out
