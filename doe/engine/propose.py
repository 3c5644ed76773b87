"""``propose``: the next batch of recipes, with predictions and provenance.

Until the data can support a model (``EngineSettings.design_size``: successful experiments
with a measured objective), the batch is a seeded space-filling design around what was
already run or is pending. Afterwards the surrogates drive a BoTorch acquisition (see
:mod:`doe.engine.acquisition`) maximised over the whole space or over a finite candidate set.

Same inputs and seed give the same batch: torch is seeded inside a context that restores the
global random state afterwards.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from doe.domain.config import CampaignConfig
from doe.domain.parameters import CategoricalParameter, DiscreteParameter
from doe.domain.values import is_integer
from doe.engine.acquisition import build_acquisition
from doe.engine.classic import (
    DESIGNS,
    latin_hypercube,
    screening,
    shared_hypercube,
)
from doe.engine.design import initial_design, sample_space
from doe.engine.encoding import Encoder
from doe.engine.lattice import Lattice
from doe.engine.optimize import (
    best_guess_turn,
    choose_candidates,
    optimize_space,
    replace_repeats,
    sequential_values,
    trust_region,
)
from doe.engine.settings import EngineSettings
from doe.engine.shared import MAX_JOINT_HYPERVOLUME, optimize_shared
from doe.engine.surrogates import Surrogates, numerics, seeded, single_thread
from doe.engine.trust import TrustRegionState, adapt_trust_region, untried_values
from doe.errors import ProposalError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Proposal:
    """A proposed batch.

    Attributes:
        recipes: ``n`` rows: one column per parameter (engineer units; labels as ``str``;
            discrete on allowed values), then :meth:`Surrogates.predict` columns, then
            ``acquisition_value`` (log-acquisition of the recipe given the pending recipes
            and those above it in the batch; NaN for the initial design) and ``strategy``
            (the batch's strategy; per row ``"best_guess"`` for the model's best guess,
            ``"explore_untried"`` for the untried-label slot, ``"whole_space"`` for a slot of
            ``EngineSettings.whole_space_slots``, ``"reference"`` for the reference recipe and
            ``"control"`` for the control recipe).
        strategy: ``"initial_design"``, ``"qlognei"`` or ``"qlognehvi"``, with the suffix
            ``"+candidates"`` when chosen from a finite set.
        model_settings: JSON-able provenance (kernel, acquisition, settings, device, training
            sizes, reference point, trust region, seed).
    """

    recipes: pd.DataFrame
    strategy: str
    model_settings: dict[str, Any]


def _kernel_name(encoder: Encoder, settings: EngineSettings) -> str:
    cat = " and Hamming distance of labels" if encoder.cat_dims else ""
    kernel = {"rbf": "RBF", "matern52": "Matern-5/2"}[settings.kernel]
    loc, scale = settings.lengthscale_prior
    noise_loc, noise_scale = settings.noise_prior
    return (
        f"exact GP per outcome (doe.engine.gp.ExactGP): {kernel} with ARD lengthscales on encoded numbers{cat}; "
        f"priors lengthscale LogNormal({loc:.3g}+log(D)/2, {scale:.3g}), "
        f"noise LogNormal({noise_loc:.3g}, {noise_scale:.3g}); standardised; fitted in float64"
    )


def _check_fixed(config: CampaignConfig, fixed: dict[str, Any]) -> None:
    for name, value in fixed.items():
        if name not in config.parameter_names:
            raise ProposalError(f"fixed value for {name!r}: not a parameter; parameters: {config.parameter_names}")
        p = config.parameter(name)
        if isinstance(p, CategoricalParameter):
            if p.listed(str(value)) is None:
                raise ProposalError(f"fixed value for {name!r}: {value!r} is not {p.describe_allowed()}")
        elif isinstance(p, DiscreteParameter):
            if not any(abs(float(value) - v) <= 1e-9 * (p.upper - p.lower) for v in p.values):
                raise ProposalError(f"fixed value for {name!r}: {value!r} is not {p.describe_allowed()}")
        elif not p.lower - 1e-9 * (p.upper - p.lower) <= float(value) <= p.upper + 1e-9 * (p.upper - p.lower):
            raise ProposalError(f"fixed value for {name!r}: {value!r} is not {p.describe_allowed()}")


TRANSFER_DESIGN_SIZE = 2
"""Finished target experiments that suffice when every objective's model learns from earlier campaigns."""
THOMPSON_RECIPES = 1024
"""Space-filling recipes a ``shared_search="thompson"`` posterior sample is drawn over."""


def _supports_model(config: CampaignConfig, surrogates: Surrogates, settings: EngineSettings) -> bool:
    needed = settings.design_size(len(config.parameters))
    if all(surrogates.kind(name) == "gp" and (choice := surrogates.transfer(name)) is not None and choice.used
           for name in config.objective_names):
        # the earlier campaigns carry the model from the start (their rows are what a design would give)
        needed = min(needed, TRANSFER_DESIGN_SIZE)
    best = 0
    for name in config.objective_names:
        if surrogates.kind(name) == "gp":
            best = max(best, len(set(surrogates.encoder_.keys(surrogates.training_data(name).X))))
    return best >= needed


@single_thread()
def propose(
    config: CampaignConfig,
    experiments: pd.DataFrame,
    n: int,
    *,
    pending: pd.DataFrame | None = None,
    fixed: dict[str, Any] | None = None,
    candidates: pd.DataFrame | None = None,
    seed: int = 0,
    settings: EngineSettings | None = None,
    surrogates: Surrogates | None = None,
    design: Literal["model", "latin_hypercube", "screening"] = "model",
) -> Proposal:
    """Propose ``n`` new recipes.

    Args:
        config: the validated campaign configuration.
        experiments: finished experiments (completed or failed): every parameter column, any
            outcome columns (NaN = not measured), optional bool ``failed``.
        n: batch size (>= 1).
        pending: parameter columns of recipes proposed or running, not yet measured.
        fixed: parameter name -> value held for the whole batch, the control recipe's row
            included (as the batch's shared values are).
        candidates: a finite set of recipes (parameter columns) to choose from.
        seed: same inputs and seed give the same batch.
        settings: engine settings; defaults if None.
        surrogates: surrogates already fitted on ``experiments`` (fitted here if None).
        design: ``"model"``: the space-filling start, then the model's acquisition;
            ``"latin_hypercube"`` or ``"screening"``: a classical design
            (:mod:`doe.engine.classic`), whatever the data. A configuration's
            ``control_recipe`` takes the last row of every batch of two or more (not of a batch
            chosen from ``candidates``, which holds only their rows).

    Returns:
        The :class:`Proposal`.

    Raises:
        ProposalError: ``n`` < 1, fixed values or constraints leave no recipe, the fixed or
            shared values make the control recipe break a constraint, or fewer than ``n``
            untested candidates remain.
    """
    if not is_integer(n) or n < 1:
        raise ProposalError(f"number of recipes to propose: must be a whole number >= 1, got {n!r}")
    if design not in ("model", *DESIGNS):
        raise ProposalError(f"design: must be 'model', 'latin_hypercube' or 'screening', got {design!r}")
    control = config.control_recipe if int(n) >= 2 and candidates is None else None
    n = int(n) - (control is not None)
    settings = settings if settings is not None else EngineSettings()
    fixed = dict(fixed or {})
    _check_fixed(config, fixed)
    encoder = Encoder(config)
    fixed_model = {encoder.names.index(k): encoder.encode_value(k, v) for k, v in fixed.items()}
    if encoder.interior_point(fixed_model) is None:
        broken = " and ".join(repr(text) for text in _constraints_against(encoder, fixed_model))
        raise ProposalError(f"no recipe satisfies the linear constraints with the fixed values {fixed} "
                            f"(broken: {broken}); relax a constraint or a fixed value")

    if surrogates is None:
        surrogates = Surrogates(config, settings).fit(experiments, seed=seed)
    else:
        surrogates.check_fitted()
    device = surrogates.device_
    X_done = surrogates.X_
    if pending is not None and len(pending):
        pending = pending.loc[encoder.usable_rows(pending, "pending")]
        X_pending = encoder.encode(pending)
    else:
        X_pending = np.zeros((0, encoder.dim))
    X_avoid = np.vstack([X_done, X_pending])
    X_taken = _with_control(encoder, X_avoid, control, fixed_model)  # no other row of the batch may be its control

    X_cand = None
    if candidates is not None:
        X_cand = _candidate_rows(encoder, candidates, fixed_model, X_avoid, n)

    model_settings: dict[str, Any] = {
        "engine": "doe.engine",
        "settings": settings.to_dict(),
        "device": str(device),
        "device_choice": f"EngineSettings.device={settings.device!r} with {len(X_done)} rows -> {device}",
        "dtype": settings.dtype,
        "seed": int(seed),
        "kernel": _kernel_name(encoder, settings),
        "n_train": dict(surrogates.n_train_),
        "n_failed": int(surrogates.failed_.sum()),
        "initial_design_size": settings.design_size(len(config.parameters)),
        "log_scale_parameters": [encoder.names[i] for i in sorted(encoder.log_dims)],
        "reference_point": None,
    }
    # furnace-shared columns still free to choose (a fixed value already holds for the batch); a
    # batch of one recipe and the control recipe shares them too: the control runs in that furnace run
    shared = [encoder.names.index(k) for k in config.batch_shared if k not in fixed] \
        if n > 1 or control is not None else []
    if config.batch_shared:
        model_settings["batch_shared"] = list(config.batch_shared)
    values = np.full(n, np.nan)
    built = None
    if surrogates.transfer_:
        model_settings["transfer"] = {o: {"sources": dict(c.sources),
                                          "correlations": [None if math.isnan(x) else x for x in c.correlations],
                                          "used": c.used} for o, c in surrogates.transfer_.items()}
    if design != "model":
        strategy: str = design
        with seeded(seed, device):
            if design == "latin_hypercube":  # with shared: one furnace programme, every row inside the constraints
                cube = (shared_hypercube(encoder, n, seed, fixed_model, shared, X_avoid,
                                         control=_with_control(encoder, X_avoid[:0], control, fixed_model)) if shared
                        else latin_hypercube(encoder, n, seed, fixed_model, taken=X_taken))
                X_new = cube.X
                if cube.note is not None:
                    model_settings["design_note"] = cube.note
            else:
                # never one run: a batch of one is refused as a furnace batch would be, its shared
                # parameters held, so the runs the message asks for are those such a batch takes
                screened_held = shared or [encoder.names.index(k) for k in config.batch_shared if k not in fixed]
                design_run = screening(encoder, n, fixed_model, screened_held, more=int(control is not None), taken=X_avoid,
                                       control=_with_control(encoder, X_avoid[:0], control, fixed_model)
                                       if control is not None else None)
                X_new = design_run.X
                if design_run.note is not None:
                    model_settings["design_note"] = design_run.note
        model_settings.update(acquisition=None, design=design)
    elif _supports_model(config, surrogates, settings):
        with seeded(seed, device), numerics():
            built = build_acquisition(surrogates, config, settings.mc_samples, seed)
    if design != "model":
        logger.info("proposing %d recipe(s) from a %s design", n, design)
    elif built is None:
        strategy = "initial_design"
        # the reference starts the design unless this batch's control recipe is it (a batch of one has none)
        start = _reference_start(config, encoder, settings, X_avoid, fixed_model, control) if X_cand is None else None
        with seeded(seed, device):
            batch_fixed = dict(fixed_model)
            if shared:  # the batch's shared values: the reference's (its control's when it is the control,
                # so that the control as made is the reference), or the first space-filling recipe's
                pool = None if X_cand is None else _programme_groups(X_cand, shared, n)
                ref_row = start if start is not None or control is None or X_cand is not None else \
                    _reference_start(config, encoder, settings, X_avoid, fixed_model, None)
                first = ref_row if ref_row is not None else initial_design(encoder, 1, X_avoid, seed, fixed_model,
                                                                           pool=pool, asked=n)
                batch_fixed.update({i: float(first[0, i]) for i in shared})
                if X_cand is not None:
                    X_cand = X_cand[np.all(np.abs(X_cand[:, shared] - first[0, shared]) <= 1e-9, axis=1)]
            taken = _with_control(encoder, X_avoid, control, batch_fixed)  # with the batch's furnace run
            try:
                if X_cand is not None:
                    X_new = initial_design(encoder, n, taken, seed, batch_fixed, pool=X_cand)
                elif start is not None:
                    rest = initial_design(encoder, n - 1, np.vstack([taken, start]), seed, batch_fixed) if n > 1 \
                        else np.zeros((0, encoder.dim))
                    X_new = np.vstack([start, rest])
                else:
                    X_new = initial_design(encoder, n, taken, seed, batch_fixed)
            except ProposalError as err:  # the whole space may have more: one furnace run has fewer
                if not shared:
                    raise
                run = encoder.decode(np.array([[batch_fixed.get(i, 0.0) for i in range(encoder.dim)]]))
                raise ProposalError(f"{err} (counted in one furnace run: the batch shares "
                                    f"{run.iloc[0][list(config.batch_shared)].to_dict()}, its batch_shared values; "
                                    "suggest fewer per batch)") from None
        model_settings["acquisition"] = None
        if start is not None:
            model_settings["start_at_reference"] = True
        logger.info("proposing %d recipe(s) from the space-filling initial design", n)
    else:
        make, spec = built
        strategy = spec.name
        model_settings.update(
            acquisition=spec.name,
            objectives_used=spec.objectives,
            constraints_used=spec.constraints,
            left_out=spec.dropped,
            reference_point=spec.reference_point,
            feasibility_weighted=spec.feasibility_weighted,
        )
        n_known = len(experiments) + (0 if pending is None else len(pending))
        region = _trust_region_state(config, experiments.loc[encoder.in_space(experiments)], settings)
        guess = best_guess_turn(settings, n, n_known)
        with seeded(seed, device), numerics():
            if X_cand is not None and shared:
                X_new = _shared_candidates(make, encoder, X_cand, n, shared, X_pending, device)
                how = ["acquisition"] * n
            elif X_cand is not None:
                picked, how = choose_candidates(make, X_cand, n, X_pending, device, best_guess_slot=guess)
                X_new = X_cand[picked]
            elif shared:
                box = None
                if make.incumbent is not None and region.width is not None:
                    box = trust_region(encoder, make.incumbent, region.width, fixed_model)
                near = _best_measured(surrogates, config)
                held, how_shared = fixed_model, "acquisition"
                if settings.shared_explore_untried:  # a shared label or discrete value never used: this run holds it
                    never_used = [(i, v) for i, v, _ in untried_values(encoder, X_avoid, fixed_model, 1)
                                  if i in shared and encoder.interior_point({**fixed_model, i: v}) is not None]
                    if never_used:
                        held, how_shared = {**fixed_model, never_used[0][0]: never_used[0][1]}, "explore_untried"

                row_settings = replace(settings, whole_space_slots=0)  # every row of a furnace run in the region

                def per_row(held: dict[int, float]) -> np.ndarray:
                    return optimize_space(make, encoder, n, held, X_avoid, row_settings, seed, device,
                                          X_near=near, pending=X_pending, region_width=region.width)[0]

                def best_single(guess: bool = False) -> np.ndarray:
                    return optimize_space(make, encoder, 1, held, X_avoid, row_settings, seed, device,
                                          X_near=near, pending=X_pending, region_width=region.width,
                                          best_guess_slot=guess)[0]

                joint = None if make.build_best_guess is not None or n <= MAX_JOINT_HYPERVOLUME else MAX_JOINT_HYPERVOLUME
                if joint is not None:  # several objectives: the joint batch's cost grows as 2^n
                    model_settings["shared_joint_rows"] = joint
                if settings.shared_search == "thompson" and make.sample_best is not None:
                    X_drawn = np.vstack([sample_space(encoder, THOMPSON_RECIPES, seed, held),
                                         X_avoid[np.all([np.abs(X_avoid[:, i] - v) <= 1e-9 for i, v in held.items()],
                                                        axis=0)] if held else X_avoid])
                    first = X_drawn[[make.sample_best(X_drawn)]]
                    X_new = per_row({**held, **{i: float(first[0, i]) for i in shared}})
                elif settings.shared_search in ("first_slot", "best_guess"):
                    first = best_single(guess=settings.shared_search == "best_guess")
                    X_new = per_row({**held, **{i: float(first[0, i]) for i in shared}})
                elif settings.shared_search == "both":
                    X_new = optimize_shared(make, encoder, n, shared, held, settings, seed, device,
                                            pending=X_pending, box=box, per_row=per_row, also_shared=best_single(),
                                            joint_rows=joint)
                else:
                    X_new = optimize_shared(make, encoder, n, shared, held, settings, seed, device,
                                            pending=X_pending, box=box, per_row=per_row, joint_rows=joint)
                batch_fixed = {**held, **{i: float(X_new[0, i]) for i in shared}}
                # nor the control recipe as this furnace run makes it
                X_new = replace_repeats(make, encoder, X_new, batch_fixed, _with_control(encoder, X_avoid, control,
                                        batch_fixed), X_pending, seed, device)
                how = [how_shared] * n
            else:
                explore = None
                if settings.explore_untried and n > 1:
                    untried = untried_values(encoder, X_avoid, fixed_model, settings.explore_untried)
                    explore = (untried[0][0], untried[0][1]) if untried else None
                X_new, how = optimize_space(make, encoder, n, fixed_model, X_taken, settings, seed, device,
                                            X_near=_best_measured(surrogates, config), pending=X_pending,
                                            best_guess_slot=guess, region_width=region.width, explore=explore)
            values = sequential_values(make, X_new, X_pending, device)
        row_strategy = [strategy if h == "acquisition" else h for h in how]
        if make.incumbent is not None and X_cand is None and settings.trust_region_width is not None:
            centre = encoder.decode(make.incumbent[None, :]).iloc[0]
            model_settings["trust_region"] = {
                "centre": {k: (v.item() if hasattr(v, "item") else v) for k, v in centre.items()},
                "mode": settings.trust_region,
                **region.to_dict(),
            }
        logger.info("proposing %d recipe(s) by %s", n, strategy)
    if built is None:
        row_strategy = [strategy] * n
        if model_settings.get("start_at_reference"):
            row_strategy[0] = "reference"
    if X_cand is not None:
        strategy += "+candidates"
        row_strategy = [s + "+candidates" for s in row_strategy]
    if control is not None:  # the control recipe, in the batch's furnace run and with its held values
        free = [k for k in config.batch_shared if k not in fixed]
        try:
            X_control = _control_row(config, encoder, control, X_new[0], fixed, fixed_model)
        except ProposalError:  # the run chosen breaks the control: the batch again, in the control's own run
            if not free:  # (values the engineer held: said)
                raise
            logger.info("the furnace run chosen makes the control recipe break a constraint; the batch is "
                        "proposed again in the control recipe's own furnace run %s", {k: control[k] for k in free})
            again = propose(config, experiments, n + 1, pending=pending, fixed={**fixed, **{k: control[k] for k in free}},
                            candidates=candidates, seed=seed, settings=settings, surrogates=surrogates, design=design)
            again.model_settings["furnace_run_of_the_control"] = True
            return again
        X_new = np.vstack([X_new, X_control])
        values = np.append(values, np.nan)
        row_strategy = [*row_strategy, "control"]
        model_settings["control_recipe"] = dict(control)
    lattice = Lattice(encoder)
    recipes = lattice.exact(encoder.decode(X_new), skip=set(fixed))
    for name, value in fixed.items():  # exact fixed values, not a round trip through the encoding
        p = config.parameter(name)
        recipes[name] = str(value) if isinstance(p, CategoricalParameter) else float(value)
    if candidates is not None:  # each candidate's own values, never moved onto the grid into another recipe
        own = dict(zip(encoder.recipe_keys(candidates), candidates[config.parameter_names].to_dict("records"),
                       strict=True))
        for r, key in enumerate(encoder.keys(X_new)):
            if key in own:
                recipes.loc[recipes.index[r], config.parameter_names] = [own[key][name] for name in config.parameter_names]
    if model_settings.get("start_at_reference"):  # the reference's own values exactly (gridded: the grid's)
        gridded = {p.name for p in lattice.dims.values()}
        for name, value in (config.reference_recipe() or {}).items():
            if name not in fixed and name not in gridded:
                recipes.loc[0, name] = value
    if control is not None:  # the control's own values exactly, but for the batch's shared (and fixed) ones
        for name, value in control.items():
            if name not in fixed and name not in config.batch_shared:
                recipes.loc[len(recipes) - 1, name] = value
    predictions = surrogates.predict_encoded(X_new)
    model_settings["gp_approximation"] = surrogates.approximations()
    model_settings["gp_warm_start"] = surrogates.warm_starts()
    table = pd.concat([recipes, predictions], axis=1)
    table["acquisition_value"] = np.asarray(values, dtype=float)
    table["strategy"] = row_strategy
    return Proposal(recipes=table, strategy=strategy, model_settings=model_settings)


def _control_row(config: CampaignConfig, encoder: Encoder, control: dict[str, Any], first: np.ndarray,
                 fixed: dict[str, Any], fixed_model: dict[int, float]) -> np.ndarray:
    """The control recipe as the batch's last model-space row ``(1, d)``: with the batch's shared
    values (those of its first row ``first``) and every fixed value, as every row of the batch.

    Raises:
        ProposalError: those values make the control recipe break a linear constraint.
    """
    own = encoder.encode(pd.DataFrame([control]))
    X_control = own.copy()
    furnace = [encoder.names.index(k) for k in config.batch_shared]  # held (fixed) values included
    X_control[0, furnace] = first[furnace]
    for i, value in fixed_model.items():
        X_control[0, i] = value
    # the control recipe as configured was checked with the config's tolerance: only values
    # the batch gives it are checked here
    if np.array_equal(X_control, own) or encoder.feasible(X_control)[0]:
        return X_control
    slack = encoder.constraint_slack(X_control)[0]
    broken = [con for con, s, tol in zip(encoder.linear_constraints, slack, encoder.constraint_tolerance(), strict=True)
              if s < -tol]
    on = {encoder.names[i] for con in broken for i in con.indices}
    where = []
    if furnace:
        where.append(f"in this batch's furnace run ({encoder.decode(X_control).iloc[0][list(config.batch_shared)].to_dict()})")
    if held := {k: v for k, v in fixed.items() if k in on and k not in config.batch_shared}:
        where.append(f"with the fixed values {held}")
    raise ProposalError(f"control_recipe: {' '.join(where)} the control recipe breaks the constraint "
                        f"{' and '.join(repr(con.text) for con in broken)}; hold values that suit it (fixed=) "
                        "or change the control recipe")


def _with_control(encoder: Encoder, X_avoid: np.ndarray, control: dict[str, Any] | None,
                  held: dict[int, float]) -> np.ndarray:
    """``X_avoid`` and, with a ``control`` recipe, its row with the batch's ``held`` model-space
    values (as the batch makes it): rows a batch's other recipes must not repeat."""
    if control is None:
        return X_avoid
    X_control = encoder.encode(pd.DataFrame([control]))
    for i, value in held.items():
        X_control[0, i] = value
    return np.vstack([X_avoid, X_control])


def _constraints_against(encoder: Encoder, fixed: dict[int, float]) -> list[str]:
    """The linear constraints (as written) that leave no recipe with the ``fixed`` model-space
    values: each that they break whatever the free values are, else (only together) every one
    on a fixed parameter."""
    alone, touched = [], []
    for con, tol in zip(encoder.linear_constraints, encoder.constraint_tolerance(), strict=True):
        least = sum(a * fixed[i] if i in fixed else min(a * encoder.bounds[0, i], a * encoder.bounds[1, i])
                    for i, a in zip(con.indices, con.coefficients, strict=True))
        if least > con.rhs + tol:
            alone.append(con.text)
        if any(i in fixed for i in con.indices):
            touched.append(con.text)
    return alone or touched or [con.text for con in encoder.linear_constraints]


def _programme_groups(X_cand: np.ndarray, shared: list[int], n: int) -> np.ndarray:
    """The candidates whose furnace programme (shared values) at least ``n`` candidates share."""
    _, group, size = np.unique(np.round(X_cand[:, shared], 9), axis=0, return_inverse=True, return_counts=True)
    ok = size[group.reshape(-1)] >= n
    if not ok.any():
        raise ProposalError(f"candidates: a batch of {n} needs {n} untested candidates with one furnace programme "
                            f"(batch_shared); at most {int(size.max())} share one")
    return X_cand[ok]


def _reference_start(config: CampaignConfig, encoder: Encoder, settings: EngineSettings, X_avoid: np.ndarray,
                     fixed: dict[int, float], control: dict[str, Any] | None) -> np.ndarray | None:
    """The reference recipe as one model-space row, when ``settings.start_at_reference`` asks
    for it and it is complete, allowed by the constraints and fixed values, not yet finished or
    pending, and not ``control`` (this batch's control recipe, made as its last row); else
    None. A reference off its parameters' resolution grids (0.83 wt% on a 0.1 wt% balance)
    becomes its nearest grid recipe that meets the constraints, as any proposal does, unless
    the published recipe itself was made or is the control."""
    reference = config.reference_recipe() if settings.start_at_reference else None
    if reference is None:
        return None
    table = pd.DataFrame([reference])
    X = X_published = encoder.snap(encoder.encode(table))
    if not (lattice := Lattice(encoder)).on_grid(table)[0]:
        X = lattice.nearest(X)[0]
    if not len(X) or not encoder.feasible(X)[0] or any(abs(X[0, i] - v) > 1e-9 for i, v in fixed.items()):
        return None
    taken = set(encoder.keys(X_avoid)) if len(X_avoid) else set()
    if control is not None:
        taken |= set(encoder.keys(encoder.snap(encoder.encode(pd.DataFrame([control])))))
    return None if {encoder.keys(X)[0], encoder.keys(X_published)[0]} & taken else X


def _trust_region_state(config: CampaignConfig, experiments: pd.DataFrame, settings: EngineSettings) -> TrustRegionState:
    """The trust region of this batch: fixed, or replayed from the history (one objective)."""
    width = settings.trust_region_width
    if width is None or settings.trust_region == "fixed" or len(config.objectives) != 1:
        return TrustRegionState(width=width, successes=0, failures=0, restarts=0)
    objective = config.objectives[0]
    values = (pd.to_numeric(experiments[objective.name], errors="coerce").to_numpy(dtype=float)
              if objective.name in experiments.columns else np.full(len(experiments), np.nan))
    if "failed" in experiments.columns:
        values = np.where(experiments["failed"].fillna(False).astype(bool).to_numpy(), np.nan, values)
    return adapt_trust_region(objective.score(values), initial_width=width,
                              n_initial=settings.design_size(len(config.parameters)), dim=len(config.parameters))


def _shared_candidates(
    make: Any, encoder: Encoder, X_cand: np.ndarray, n: int, shared: list[int], X_pending: np.ndarray, device: Any
) -> np.ndarray:
    """From a finite set: for each combination of shared values offered by at least ``n``
    candidates, the greedy batch among them; the batch with the best joint acquisition wins."""
    import torch

    groups: dict[tuple[float, ...], list[int]] = {}
    for r, row in enumerate(X_cand):
        groups.setdefault(tuple(np.round(row[shared], 12)), []).append(r)
    best, best_value = None, -np.inf
    acqf = make(X_pending if len(X_pending) else None)
    for rows in groups.values():
        if len(rows) < n:
            continue
        picked, _ = choose_candidates(make, X_cand[rows], n, X_pending, device)
        batch = X_cand[rows][picked]
        with torch.no_grad():
            value = float(acqf(torch.as_tensor(batch, dtype=torch.float64, device=device).unsqueeze(0)).reshape(-1)[0])
        if value > best_value:
            best, best_value = batch, value
    if best is None:
        raise ProposalError(
            f"no combination of the shared values {[encoder.names[i] for i in shared]} is offered by {n} "
            "untested candidates; add candidates or ask for fewer"
        )
    return best


def _best_measured(surrogates: Surrogates, config: CampaignConfig, k: int = 8) -> np.ndarray:
    """Up to ``k`` measured recipes with the best value of each modelled objective."""
    rows = []
    for obj in config.objectives:
        if surrogates.kind(obj.name) != "gp":
            continue
        data = surrogates.training_data(obj.name)
        order = np.argsort(-obj.score(data.y))[:k]
        rows.append(data.X[order])
    return np.vstack(rows) if rows else np.zeros((0, surrogates.encoder_.dim))


def _candidate_rows(
    encoder: Encoder, candidates: pd.DataFrame, fixed: dict[int, float], avoid: np.ndarray, n: int
) -> np.ndarray:
    """Model-space rows of the allowed, untested candidates that match the fixed values."""
    usable = candidates.loc[encoder.usable_rows(candidates, "candidate")]
    X = encoder.snap(encoder.encode(usable))
    keep = encoder.feasible(X)
    if (~keep).any():
        logger.info("%d candidate(s) break a linear constraint and are skipped", int((~keep).sum()))
    for i, v in fixed.items():
        keep &= np.abs(X[:, i] - v) <= 1e-9
    taken = set(encoder.keys(avoid)) if len(avoid) else set()
    seen: set[tuple[int, ...]] = set()
    for r, key in enumerate(encoder.recipe_keys(usable)):
        if key in taken or key in seen:
            keep[r] = False
        seen.add(key)
    X = X[keep]
    if len(X) < n:
        raise ProposalError(
            f"only {len(X)} of {len(candidates)} candidate(s) are untested, allowed and match the fixed values, "
            f"but {n} were asked for; add candidates or ask for fewer"
        )
    return X
