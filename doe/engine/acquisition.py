"""Acquisition functions: what a batch of recipes is worth, given the surrogates.

* One objective: ``qLogNoisyExpectedImprovement``; its ``threshold`` (worst acceptable
  value) is also a constraint: the objective should reach it.
* Several objectives: ``qLogNoisyExpectedHypervolumeImprovement`` with the reference point
  at the objectives' thresholds (inferred from the observed values where a threshold is
  missing: 10 % of the observed range below the worst observed value).
* Objective scores follow ``Objective.goal`` (everything is maximised internally): ``y``,
  ``-y``, or ``-|y - target|`` for a set point. The GP models the measured ``y``; the score
  is taken of each posterior *sample* (an MC objective), so qLogNEI and qLogNEHVI see the
  distance to the set point with the model's uncertainty (a sample on either side of the
  target counts as a miss), not a GP fitted on a folded, kinked transform of the data.
  A set point's ``tolerance`` plays the role of a threshold (reference point, and for a
  single objective two outcome constraints ``target - tolerance <= y <= target + tolerance``).
* ``objective_mode: weighted`` with several objectives: qLogNEI on the weighted desirability
  of each sample (:class:`doe.domain.objectives.Desirability`, anchored on the training
  data), so the weights steer the search; the Pareto search is the default.
* Outcome constraints (``coating_thickness_nm <= 15``) are BoTorch ``constraints=``
  callables on the model outputs: each sample's improvement is weighted by a smooth
  feasibility indicator, so the acquisition uses the probability of meeting them.
* Failed runs: when the feasibility model is active, ``log p(success | x)`` of each recipe
  in the batch is added to the log-acquisition (:class:`FeasibilityWeighted`). With the
  sequential-greedy batch construction this multiplies each new recipe's improvement by its
  own success probability.

* The best guess (one objective): :class:`PredictedBest` scores a recipe by its predicted
  objective in units of the observed spread, plus ``log P(constraint met)`` for each outcome
  constraint and ``log p(success)``: the recipe the model expects to be best, without a
  bonus for uncertainty. :mod:`doe.engine.optimize` uses it for the last slot of a batch.

Outcomes without a model (too little data, constant) are left out with a log message; an
objective left out leaves the remaining ones (none left: the caller falls back to the
initial design).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from doe.domain.config import CampaignConfig
from doe.domain.objectives import Desirability, Objective
from doe.engine import baseline
from doe.engine.encoding import Encoder
from doe.engine.feasibility import FeasibilityModel
from doe.engine.surrogates import Surrogates

if TYPE_CHECKING:
    from botorch.acquisition import AcquisitionFunction
    from torch import Tensor

logger = logging.getLogger(__name__)

SMALL_SPREAD = 1e-2
"""An objective whose measured scores spread (sd) less than this goes into the log-EI acquisitions
divided by its spread (BoTorch's fixed tolerances are up to 1e-2 in the objective's units)."""

INFERRED_REFERENCE_MARGIN = 0.1


@dataclass
class AcquisitionSpec:
    """What was built, for provenance."""

    name: str
    objectives: list[str]
    constraints: list[str]
    reference_point: dict[str, float] | None = None
    dropped: list[str] = field(default_factory=list)
    feasibility_weighted: bool = False


def _feasibility_weighted_class() -> Any:
    from botorch.acquisition import AcquisitionFunction

    class FeasibilityWeighted(AcquisitionFunction):
        """``base(X) + sum_q log p(success | x_q)`` for a log-scale acquisition ``base``."""

        def __init__(self, base: Any, feasibility: FeasibilityModel, encoder: Encoder) -> None:
            super().__init__(model=base.model)
            self.base = base
            self.feasibility = feasibility
            self.encoder = encoder

        @property
        def X_pending(self) -> Any:
            return self.base.X_pending

        @X_pending.setter
        def X_pending(self, value: Any) -> None:
            # the base class assigns X_pending in __init__; keep it on the base acquisition
            if "base" in self._modules:
                self.base.set_X_pending(value)

        def set_X_pending(self, X_pending: Any = None) -> None:
            self.base.set_X_pending(X_pending)

        def forward(self, X: Any) -> Any:
            log_p = self.feasibility.torch_log_probability(self.encoder.to_features_torch(X)).sum(-1)
            return self.base(X) + log_p

    return FeasibilityWeighted


@dataclass
class AcquisitionFactory:
    """Builds the acquisition functions of one batch.

    BoTorch's noisy acquisitions cache pending recipes incrementally (they can grow, not
    shrink), so calling the factory with model-space recipes ``X_pending`` ``(m, d)`` (or
    None) builds a fresh acquisition for them.

    Attributes:
        build: ``X_pending -> acquisition``.
        build_best_guess: ``() -> PredictedBest`` (one objective), else None.
        sample_best: ``X (n, d) -> row index``: the model-space recipe of ``X`` that maximises
            one joint posterior sample of the scalar objective (torch's seeded generator),
            among those whose sampled outcomes meet the outcome constraints and whose run is
            predicted to succeed at least half the time (among all where none is); None with a
            Pareto search.
        incumbent: model-space recipe ``(d,)`` at the centre of the trust region: the best
            measured value of the single objective among the recipes that meet the measured
            outcome constraints (all recipes if none does); None with several objectives.
    """

    build: Callable[[np.ndarray | None], Any]
    build_best_guess: Callable[[], Any] | None = None
    incumbent: np.ndarray | None = None
    sample_best: Callable[[np.ndarray], int] | None = None

    def __call__(self, X_pending: np.ndarray | None) -> Any:
        return self.build(X_pending)

    def best_guess(self) -> Any:
        """The best-guess acquisition, or None where there is none (several objectives)."""
        return None if self.build_best_guess is None else self.build_best_guess()


def _predicted_best_class() -> Any:
    from botorch.acquisition import AcquisitionFunction

    class PredictedBest(AcquisitionFunction):
        """``sum_q [score(mean) / spread + sum_c log P(constraint c met)]`` of ``X (b, q, d)``.

        Args:
            model: the BoTorch model of the used outcomes.
            score: the scalar objective of the posterior mean ``(..., q, m) -> (..., q)``
                (the same objective as the acquisition's, applied to the mean: the
                recipe the model expects to be best, without a bonus for uncertainty).
            spread: observed standard deviation of the score (puts the mean on the
                scale of the log-probabilities).
            limits: ``(output, operator, bound)`` per outcome constraint.
        """

        def __init__(self, model: Any, score: Callable[[Any], Any], spread: float,
                     limits: list[tuple[int, str, float]]) -> None:
            super().__init__(model=model)
            self.score, self.spread, self.limits = score, spread, limits

        def forward(self, X: Any) -> Any:
            from torch.special import log_ndtr

            posterior: Any = self.model.posterior(X)  # doe's or BoTorch's posterior: both have mean and variance
            mean = posterior.mean
            sd = posterior.variance.clamp_min(1e-12).sqrt()
            value = self.score(mean) / self.spread
            for k, op, bound in self.limits:
                margin = bound - mean[..., k] if op == "<=" else mean[..., k] - bound
                value = value + log_ndtr(margin / sd[..., k])
            return value.sum(-1)

    return PredictedBest


def _measured_rows(surrogates: Surrogates, names: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Model-space recipes ``(n, d)``, their positions ``(n,)`` and values ``(n, len(names))``
    of the training rows where every outcome of ``names`` was measured."""
    first = surrogates.training_data(names[0])
    columns = [dict(zip(surrogates.training_data(n).positions.tolist(),
                        surrogates.training_data(n).y.tolist(), strict=True)) for n in names]
    keep = [r for r, p in enumerate(first.positions.tolist()) if all(p in c for c in columns)]
    positions = first.positions[keep]
    values = np.array([[c[p] for c in columns] for p in positions.tolist()], dtype=float).reshape(len(keep), len(names))
    return first.X[keep], positions, values


def _incumbent(
    surrogates: Surrogates,
    names: list[str],
    score: Callable[[np.ndarray], np.ndarray],
    limits: list[tuple[str, str, float, str]],
) -> np.ndarray | None:
    """Best measured recipe by ``score`` (of the values of ``names``, ``(n, k) -> (n,)``)
    among those meeting the measured outcome constraints on other outcomes."""
    X, positions, values = _measured_rows(surrogates, names)
    if not len(X):
        return None
    meets = np.ones(len(X), dtype=bool)
    for name, op, bound, _ in limits:
        if name in names:
            continue
        other = surrogates.training_data(name)
        measured = dict(zip(other.positions.tolist(), other.y.tolist(), strict=True))
        for r, position in enumerate(positions.tolist()):
            value = measured.get(position)
            if value is not None and not (value <= bound if op == "<=" else value >= bound):
                meets[r] = False
    if not meets.any():
        meets[:] = True
    ranked = np.where(meets, score(values), -np.inf)
    return X[int(np.argmax(ranked))].copy()


def _score_torch(objective: Objective, Y: Tensor) -> Tensor:
    """:meth:`Objective.score` of model outputs ``Y`` (any shape) of ``objective``."""
    if objective.goal == "target":
        return -(Y - float(objective.target)).abs()  # type: ignore[arg-type]
    return objective.sign * Y


def _desirability_torch(desirability: Desirability, index: list[int]) -> Callable[[Tensor], Tensor]:
    """``Y (..., m) -> (...)``: :meth:`Desirability.value` of the outputs ``index``."""
    weights = desirability.weights
    total_weight = sum(weights)

    def value(Y: Tensor) -> Tensor:
        total: Any = 0.0
        for i, (o, k) in enumerate(zip(desirability.objectives, index, strict=True)):
            offset, span = desirability.scale(i)
            total = total + weights[i] * ((_score_torch(o, Y[..., k]) - offset) / span).clamp_min(0.0)
        return total / total_weight

    return value


def build_acquisition(
    surrogates: Surrogates,
    config: CampaignConfig,
    mc_samples: int,
    seed: int,
) -> tuple[AcquisitionFactory, AcquisitionSpec] | None:
    """The acquisition factory for the next batch, or None if no objective has a model.

    Args:
        surrogates: fitted surrogates.
        config: the campaign configuration.
        mc_samples: quasi-MC samples.
        seed: seeds the quasi-MC base samples.
    """
    import torch
    from botorch.acquisition.logei import qLogNoisyExpectedImprovement
    from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
    from botorch.acquisition.multi_objective.objective import GenericMCMultiOutputObjective
    from botorch.acquisition.objective import GenericMCObjective
    from botorch.sampling import SobolQMCNormalSampler

    device = surrogates.device_
    kw = {"dtype": torch.float64, "device": device}
    dropped: list[str] = []
    objectives: list[Objective] = []
    for obj in config.objectives:
        kind = surrogates.kind(obj.name)
        if kind == "gp":
            objectives.append(obj)
        else:
            dropped.append(obj.name)
            why = "is constant" if kind == "constant" else "has too little data"
            logger.warning("objective %r %s; the acquisition leaves it out for now", obj.name, why)
    if not objectives:
        return None

    used: list[str] = [o.name for o in objectives]
    # constraints: (outcome, operator, bound, label)
    limits: list[tuple[str, str, float, str]] = []
    for con in config.outcome_constraints:
        kind = surrogates.kind(con.outcome)
        if kind == "gp":
            limits.append((con.outcome, con.operator, con.bound, con.text()))
        elif kind == "constant":
            value = surrogates.training_data(con.outcome).constant
            if not con.satisfied(value):
                logger.warning(
                    "constraint %s: every measurement (%g) violates it and the outcome does not vary; "
                    "the acquisition cannot use it", con.text(), value,
                )
            dropped.append(con.text())
        else:
            logger.info("constraint %s: %r has too little data for a model; not used yet", con.text(), con.outcome)
            dropped.append(con.text())
    if len(config.objectives) == 1:
        obj = objectives[0]
        lower, upper = obj.acceptable_range
        label = f"{obj.name} {'tolerance' if obj.goal == 'target' else 'threshold'}"
        if lower is not None:
            limits.append((obj.name, ">=", float(lower), label))
        if upper is not None:
            limits.append((obj.name, "<=", float(upper), label))
    for name, *_ in limits:
        if name not in used:
            used.append(name)

    model = surrogates.acquisition_model(used)

    # baseline: successful recipes where any used outcome was measured
    measured = np.zeros(len(surrogates.X_), dtype=bool)
    positions = {int(p): r for r, p in enumerate(surrogates.positions_)}
    for name in used:
        for p in surrogates.training_data(name).positions:
            measured[positions[int(p)]] = True
    X_baseline = torch.as_tensor(surrogates.X_[measured], **kw)
    if len(X_baseline) > baseline.MIN_ROWS:
        X_baseline = _prune_baseline(model, X_baseline, objectives, [used.index(o.name) for o in objectives],
                                     [(used.index(name), op, bound) for name, op, bound, _ in limits])

    constraints: list[Callable[[Tensor], Tensor]] = []
    etas = []
    for name, op, bound, _ in limits:
        # the sigmoid's width in the outcome's own units, so that a constraint on a small quantity (a
        # thickness in mm, a crack fraction) steers as much as one on a large; a constant outcome has
        # no spread, and then its values' (or the bound's) magnitude sets the width
        y = surrogates.training_data(name).y
        spread = float(np.std(y)) or max(float(np.abs(y).max(initial=0.0)), abs(bound)) or 1.0
        etas.append(1e-2 * spread)
        constraints.append(_constraint_slack(used.index(name), op, bound))
    eta = torch.tensor(etas, **kw) if etas else 1e-3

    index = [used.index(o.name) for o in objectives]
    names = [o.name for o in objectives]
    pareto = len(objectives) > 1 and not config.weighted
    # the one number a scalar search maximises: of model outputs (torch) and of measured values (numpy)
    scalar_torch: Callable[[Tensor], Tensor]
    scalar_numpy: Callable[[np.ndarray], np.ndarray]
    desirability: Desirability | None = None
    if len(objectives) == 1:
        single = objectives[0]

        def scalar_torch(Y: Tensor) -> Tensor:
            return _score_torch(single, Y[..., index[0]])

        def scalar_numpy(values: np.ndarray) -> np.ndarray:
            return single.score(values[:, 0])
    else:
        desirability = Desirability.from_measured(objectives, [surrogates.training_data(n).y for n in names])
        scalar_torch = _desirability_torch(desirability, index)

        def scalar_numpy(values: np.ndarray) -> np.ndarray:
            assert desirability is not None
            return desirability.value(list(values.T))

    spec = AcquisitionSpec(
        name="qlognehvi" if pareto else ("qlognei" if len(objectives) == 1 else "qlognei-desirability"),
        objectives=names,
        constraints=[label for *_, label in limits],
        dropped=dropped,
    )
    reference = _reference_point(surrogates, objectives) if pareto else None
    # in the outcome's unit; for a set point, the largest distance from the target
    spec.reference_point = None if reference is None else {
        o.name: (-v if o.goal == "target" else o.sign * v)
        for o, v in zip(objectives, reference, strict=True)
    }
    weighted = surrogates.feasibility_.active_
    spec.feasibility_weighted = weighted
    # BoTorch's log-EI and log-EHVI smooth with fixed tolerances in the objective's units (1e-6, and
    # 1e-2 or 1e-3 for the max over a batch): an objective whose scores spread over less than
    # SMALL_SPREAD (the largest tolerance) goes in divided by that spread, so a diffusivity of 1e-12
    # is searched as one of 1; others go in as they are (their batches, and the benchmarks measured
    # with them, unchanged: the materials datasets' objectives spread over 0.2 and more); the
    # weighted desirability has no unit and goes in as it is
    gains = [1.0 / spread if 0.0 < (spread := float(np.std(o.score(surrogates.training_data(o.name).y)))) < SMALL_SPREAD
             else 1.0 for o in objectives] if len(objectives) == 1 or pareto else [1.0]

    def make(X_pending: np.ndarray | None) -> Any:
        sampler = SobolQMCNormalSampler(sample_shape=torch.Size([mc_samples]), seed=seed)
        pending = torch.as_tensor(X_pending, **kw) if X_pending is not None and len(X_pending) else None
        acqf: AcquisitionFunction
        if not pareto:

            def scalar_objective(Y: Tensor, X: Tensor | None = None) -> Tensor:
                return scalar_torch(Y) * gains[0]

            acqf = qLogNoisyExpectedImprovement(
                model=model,
                X_baseline=X_baseline,
                sampler=sampler,
                objective=GenericMCObjective(scalar_objective),
                constraints=constraints or None,
                eta=eta,
                X_pending=pending,
                prune_baseline=True,
                cache_root=False,
            )
        else:
            assert reference is not None

            def scored_objectives(Y: Tensor, X: Tensor | None = None) -> Tensor:
                return torch.stack([_score_torch(o, Y[..., k]) * gain
                                    for o, k, gain in zip(objectives, index, gains, strict=True)], -1)

            _skip_fused_kernel_compilation()
            acqf = qLogNoisyExpectedHypervolumeImprovement(
                model=model,
                ref_point=torch.tensor(reference, **kw) * torch.tensor(gains, **kw),
                X_baseline=X_baseline,
                sampler=sampler,
                objective=GenericMCMultiOutputObjective(scored_objectives),
                constraints=constraints or None,
                eta=eta,
                X_pending=pending,
                prune_baseline=True,
                cache_root=False,
            )
        if weighted:
            acqf = _feasibility_weighted_class()(acqf, surrogates.feasibility_, surrogates.encoder_)
        return acqf

    if pareto:
        return AcquisitionFactory(make), spec

    _, _, values = _measured_rows(surrogates, names)
    spread = float(np.std(scalar_numpy(values))) if len(values) else 0.0
    spread = spread or 1.0
    output_limits = [(used.index(name), op, bound) for name, op, bound, _ in limits]

    def make_best_guess() -> Any:
        acqf = _predicted_best_class()(model, scalar_torch, spread, output_limits)
        if weighted:
            acqf = _feasibility_weighted_class()(acqf, surrogates.feasibility_, surrogates.encoder_)
        return acqf

    def sample_best(X: np.ndarray) -> int:
        with torch.no_grad():
            Y = model.posterior(torch.as_tensor(X, **kw)).rsample(torch.Size([1]))[0]  # (n, m)
            value = scalar_torch(Y).cpu().numpy().astype(float)
            keep = np.ones(len(X), dtype=bool)
            for k, op, bound in output_limits:
                y = Y[:, k].cpu().numpy()
                keep &= (y <= bound) if op == "<=" else (y >= bound)
        if weighted:
            keep &= surrogates.feasibility_.probability(surrogates.encoder_.to_features(X)) >= 0.5
        return int(np.argmax(np.where(keep, value, -np.inf)) if keep.any() else np.argmax(value))

    return AcquisitionFactory(make, make_best_guess, _incumbent(surrogates, names, scalar_numpy, limits),
                              sample_best), spec


def _prune_baseline(model: Any, X: Tensor, objectives: list[Objective], index: list[int],
                    limits: list[tuple[int, str, float]], chunk: int = 1024) -> Tensor:
    """The baseline recipes worth BoTorch's joint pruning (:mod:`doe.engine.baseline`), from
    the marginal posterior of each used output at each recipe."""
    import torch

    with torch.no_grad():
        means, sds = [], []
        for s in range(0, len(X), chunk):
            posterior = model.posterior(X[s : s + chunk].unsqueeze(-2))
            means.append(posterior.mean[:, 0])
            sds.append(posterior.variance[:, 0].clamp_min(0.0).sqrt())
        mean, sd = torch.cat(means), torch.cat(sds)
        lo, hi = mean - baseline.SIGMAS * sd, mean + baseline.SIGMAS * sd
        lower, upper = [], []
        for o, k in zip(objectives, index, strict=True):
            ends = torch.stack([_score_torch(o, lo[:, k]), _score_torch(o, hi[:, k])], -1)
            top = ends.max(-1).values
            if o.goal == "target":  # -|y - target| peaks inside the interval when it holds the target
                target = float(o.target)  # type: ignore[arg-type]
                top = torch.where((lo[:, k] <= target) & (target <= hi[:, k]), torch.zeros_like(top), top)
            lower.append(ends.min(-1).values)
            upper.append(top)
        certain = torch.ones(len(X), dtype=torch.bool, device=X.device)
        for k, op, bound in limits:
            certain &= (hi[:, k] <= bound) if op == "<=" else (lo[:, k] >= bound)
        keep = baseline.keep_rows(torch.stack(lower, -1), torch.stack(upper, -1), certain)
    logger.info("baseline: %d of %d measured recipes kept for the acquisition's pruning", len(keep), len(X))
    return X[keep]


def _constraint_slack(output: int, operator: str, bound: float) -> Callable[[Tensor], Tensor]:
    """BoTorch's constraint callable for ``output <= bound`` or ``>= bound``: feasible where it is <= 0."""
    if operator == "<=":
        return lambda Y: Y[..., output] - bound
    return lambda Y: bound - Y[..., output]


def _skip_fused_kernel_compilation() -> None:
    """Use BoTorch's pure-PyTorch qLogNEHVI, never its just-in-time C++ kernel.

    BoTorch 0.18 compiles a fused C++ kernel the first time a process builds qLogNEHVI
    (unless a compiled copy is cached in ``~/.cache/torch_extensions``): about 40 s on two
    cores, and a C++ compiler at run time. Measured on the HfO2 template at n = 30, the
    kernel saves about 0.2 s of a 1.5 s ``suggest(3)``: not worth a first batch that seems
    to hang on every fresh machine or container. Results are the same either way.
    """
    from botorch.acquisition.multi_objective import logei

    if getattr(logei, "_load_attempted", True) is False:
        logei._load_attempted = True


def _reference_point(surrogates: Surrogates, objectives: list[Any]) -> list[float]:
    """Reference point in score space (:meth:`Objective.score`: larger is better)."""
    ref = []
    for o in objectives:
        worst = o.worst_score
        if worst is not None:
            ref.append(worst)
            continue
        values = o.score(surrogates.training_data(o.name).y)
        span = float(values.max() - values.min())
        value = float(values.min()) - INFERRED_REFERENCE_MARGIN * (span if span > 0 else max(1.0, abs(float(values.min()))))
        logger.info("objective %r has no threshold; reference point inferred at score %g", o.name, value)
        ref.append(value)
    return ref
