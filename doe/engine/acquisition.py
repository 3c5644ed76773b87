"""Acquisition functions: what a batch of recipes is worth, given the surrogates.

* One objective: ``qLogNoisyExpectedImprovement``; its ``threshold`` (worst acceptable
  value) is also a constraint: the objective should reach it.
* Several objectives: ``qLogNoisyExpectedHypervolumeImprovement`` with the reference point
  at the objectives' thresholds (inferred from the observed values where a threshold is
  missing: 10 % of the observed range below the worst observed value).
* Objective signs follow ``Objective.goal`` (everything is maximised internally).
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
from doe.engine.encoding import Encoder
from doe.engine.feasibility import FeasibilityModel
from doe.engine.surrogates import Surrogates

if TYPE_CHECKING:
    from botorch.acquisition import AcquisitionFunction
    from torch import Tensor

logger = logging.getLogger(__name__)

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
        incumbent: model-space recipe ``(d,)`` at the centre of the trust region: the best
            measured value of the single objective among the recipes that meet the measured
            outcome constraints (all recipes if none does); None with several objectives.
    """

    build: Callable[[np.ndarray | None], Any]
    build_best_guess: Callable[[], Any] | None = None
    incumbent: np.ndarray | None = None

    def __call__(self, X_pending: np.ndarray | None) -> Any:
        return self.build(X_pending)

    def best_guess(self) -> Any:
        """The best-guess acquisition, or None where there is none (several objectives)."""
        return None if self.build_best_guess is None else self.build_best_guess()


def _predicted_best_class() -> Any:
    from botorch.acquisition import AcquisitionFunction

    class PredictedBest(AcquisitionFunction):
        """``sum_q [sign * mean_obj / spread + sum_c log P(constraint c met)]`` of ``X (b, q, d)``.

        Args:
            model: the BoTorch model of the used outcomes.
            index: output of the objective.
            sign: +1 to maximise, -1 to minimise.
            spread: observed standard deviation of the objective (puts the mean on the
                scale of the log-probabilities).
            limits: ``(output, operator, bound)`` per outcome constraint.
        """

        def __init__(self, model: Any, index: int, sign: float, spread: float,
                     limits: list[tuple[int, str, float]]) -> None:
            super().__init__(model=model)
            self.index, self.sign, self.spread, self.limits = index, sign, spread, limits

        def forward(self, X: Any) -> Any:
            from torch.special import log_ndtr

            posterior: Any = self.model.posterior(X)  # doe's or BoTorch's posterior: both have mean and variance
            mean = posterior.mean
            sd = posterior.variance.clamp_min(1e-12).sqrt()
            value = self.sign * mean[..., self.index] / self.spread
            for k, op, bound in self.limits:
                margin = bound - mean[..., k] if op == "<=" else mean[..., k] - bound
                value = value + log_ndtr(margin / sd[..., k])
            return value.sum(-1)

    return PredictedBest


def _incumbent(surrogates: Surrogates, objective: Any, limits: list[tuple[str, str, float, str]]) -> np.ndarray:
    """Best measured recipe of ``objective`` among those meeting the measured outcome constraints."""
    data = surrogates.training_data(objective.name)
    meets = np.ones(len(data.y), dtype=bool)
    for name, op, bound, _ in limits:
        if name == objective.name:
            continue
        other = surrogates.training_data(name)
        measured = dict(zip(other.positions.tolist(), other.y.tolist(), strict=True))
        for r, position in enumerate(data.positions.tolist()):
            value = measured.get(position)
            if value is not None and not (value <= bound if op == "<=" else value >= bound):
                meets[r] = False
    if not meets.any():
        meets[:] = True
    score = np.where(meets, objective.sign * data.y, -np.inf)
    return data.X[int(np.argmax(score))].copy()


def _signed_observed(surrogates: Surrogates, name: str, sign: float) -> np.ndarray:
    return sign * surrogates.training_data(name).y


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
    objectives = []
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
    threshold = objectives[0].threshold
    if len(config.objectives) == 1 and threshold is not None:
        obj = objectives[0]
        limits.append((obj.name, ">=" if obj.sign > 0 else "<=", float(threshold), f"{obj.name} threshold"))
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

    constraints: list[Callable[[Tensor], Tensor]] = []
    etas = []
    for name, op, bound, _ in limits:
        spread = float(np.std(surrogates.training_data(name).y)) or 1.0
        etas.append(max(1e-3, 1e-2 * spread))
        constraints.append(_constraint_slack(used.index(name), op, bound))
    eta = torch.tensor(etas, **kw) if etas else 1e-3

    spec = AcquisitionSpec(
        name="qlognei" if len(objectives) == 1 else "qlognehvi",
        objectives=[o.name for o in objectives],
        constraints=[label for *_, label in limits],
        dropped=dropped,
    )
    reference = _reference_point(surrogates, objectives) if len(objectives) > 1 else None
    spec.reference_point = None if reference is None else {
        o.name: o.sign * v for o, v in zip(objectives, reference, strict=True)
    }
    weighted = surrogates.feasibility_.active_
    spec.feasibility_weighted = weighted

    def make(X_pending: np.ndarray | None) -> Any:
        sampler = SobolQMCNormalSampler(sample_shape=torch.Size([mc_samples]), seed=seed)
        pending = torch.as_tensor(X_pending, **kw) if X_pending is not None and len(X_pending) else None
        acqf: AcquisitionFunction
        if len(objectives) == 1:
            sign = objectives[0].sign

            def signed_objective(Y: Tensor, X: Tensor | None = None) -> Tensor:
                return sign * Y[..., 0]

            acqf = qLogNoisyExpectedImprovement(
                model=model,
                X_baseline=X_baseline,
                sampler=sampler,
                objective=GenericMCObjective(signed_objective),
                constraints=constraints or None,
                eta=eta,
                X_pending=pending,
                prune_baseline=True,
                cache_root=False,
            )
        else:
            assert reference is not None
            idx = [used.index(o.name) for o in objectives]
            signs = torch.tensor([o.sign for o in objectives], **kw)

            def signed_objectives(Y: Tensor, X: Tensor | None = None) -> Tensor:
                return Y[..., idx] * signs

            _skip_fused_kernel_compilation()
            acqf = qLogNoisyExpectedHypervolumeImprovement(
                model=model,
                ref_point=torch.tensor(reference, **kw),
                X_baseline=X_baseline,
                sampler=sampler,
                objective=GenericMCMultiOutputObjective(signed_objectives),
                constraints=constraints or None,
                eta=eta,
                X_pending=pending,
                prune_baseline=True,
                cache_root=False,
            )
        if weighted:
            acqf = _feasibility_weighted_class()(acqf, surrogates.feasibility_, surrogates.encoder_)
        return acqf

    if len(objectives) > 1:
        return AcquisitionFactory(make), spec

    objective = objectives[0]
    index = used.index(objective.name)
    spread = float(np.std(surrogates.training_data(objective.name).y)) or 1.0
    output_limits = [(used.index(name), op, bound) for name, op, bound, _ in limits]

    def make_best_guess() -> Any:
        acqf = _predicted_best_class()(model, index, objective.sign, spread, output_limits)
        if weighted:
            acqf = _feasibility_weighted_class()(acqf, surrogates.feasibility_, surrogates.encoder_)
        return acqf

    return AcquisitionFactory(make, make_best_guess, _incumbent(surrogates, objective, limits)), spec


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
    """Reference point in the maximisation orientation (``sign * value``)."""
    ref = []
    for o in objectives:
        if o.threshold is not None:
            ref.append(o.sign * float(o.threshold))
            continue
        values = _signed_observed(surrogates, o.name, o.sign)
        span = float(values.max() - values.min())
        value = float(values.min()) - INFERRED_REFERENCE_MARGIN * (span if span > 0 else max(1.0, abs(float(values.min()))))
        logger.info("objective %r has no threshold; reference point inferred at %g", o.name, o.sign * value)
        ref.append(value)
    return ref
