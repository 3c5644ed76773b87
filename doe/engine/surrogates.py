"""Surrogate models: one Gaussian process per outcome, plus the feasibility model.

Each outcome gets its own GP, trained on the experiments where that outcome was measured
(retention arrives weeks after Coulomb efficiency, so outcomes have different training sets).
Inputs are in the model space of :class:`~doe.engine.encoding.Encoder` (unit cube, log scale
where asked, categories as indices), outcomes are standardised, and all computation is float64.

Model: :class:`~doe.engine.gp.ExactGP`, an RBF (or Matern-5/2) kernel with one lengthscale
per parameter (ARD) on the encoded numbers and on the Hamming distance of the labels, a
dimension-scaled log-normal lengthscale prior as in BoTorch (``EngineSettings.kernel`` and
``lengthscale_prior``) and a log-normal noise prior; the acquisition
sees the GPs through :meth:`Surrogates.acquisition_model` (a BoTorch ``Model``, see
:mod:`doe.engine.botorch_model`). The training data of each outcome is readable through
:meth:`Surrogates.training_data` (an :class:`OutcomeData`).

Few or awkward data never crash a fit:

* no or one measurement of an outcome: no model, predictions NaN (logged);
* a constant outcome (all measurements equal): a constant model, sd 0 (logged);
* duplicate recipes: the GP's noise term absorbs them; replicate cells of one experiment
  arrive as their mean with ``<outcome>_n``/``<outcome>_sd`` and count as ``n`` cells
  (noise variance divided by ``n``, their scatter informs the noise);
* a failed hyperparameter fit (not positive definite, no evaluable point): refitted with a
  higher noise floor (a warning names the outcome and the error), then, if that fails too, the
  prior's typical hyperparameters (a warning says so); never raised.

Earlier campaigns (``sources`` given to :meth:`Surrogates.fit`): each outcome that a source
measured is also fitted as a multi-task GP with the sources' rows and kept only when it predicts
the target's own measurements better (:mod:`doe.engine.transfer`); predictions, LOO and the
acquisition then use the target task's posterior. :meth:`Surrogates.transfer_report` says
which sources inform which outcome and their learned correlation.

Outcomes that the acquisition needs (objectives, constrained outcomes) are fitted in
:meth:`Surrogates.fit`; the other outcomes are fitted on first use (predictions).
"""

from __future__ import annotations

import contextlib
import logging
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from doe.domain.config import CampaignConfig
from doe.domain.fade import truncated
from doe.domain.model_states import ModelStateMemory
from doe.engine.encoding import Encoder
from doe.engine.feasibility import FeasibilityModel
from doe.engine.gp import MIN_NOISE, ExactGP
from doe.engine.outcome_data import OutcomeData, outcome_data
from doe.engine.settings import EngineSettings
from doe.engine.transfer import TransferChoice, fit_transfer, source_rows, transfer_table
from doe.engine.warm import (
    WARM_START_MIN_ROWS,
    fitted_states,
    previous_warm_starts,
    stored_warm_starts,
)
from doe.errors import ProposalError

if TYPE_CHECKING:
    from doe.engine.botorch_model import GPModel

logger = logging.getLogger(__name__)

LAZY_FIT_MAXITER = 60
"""L-BFGS iterations for outcomes outside the acquisition (fitted on first use)."""


def acquisition_outcomes(config: CampaignConfig) -> list[str]:
    """Outcomes the acquisition uses: objectives, then outcomes with a constraint."""
    names = list(config.objective_names)
    for con in config.outcome_constraints:
        if con.outcome not in names:
            names.append(con.outcome)
    return names


@contextlib.contextmanager
def seeded(seed: int, device: Any = None) -> Iterator[None]:
    """Seed torch inside, restore the global RNG state (CPU and the CUDA device) after."""
    import torch

    devices = [device] if device is not None and getattr(device, "type", "cpu") == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """One torch and one BLAS thread inside, restored after.

    The engine's tensors are small (tens to hundreds of rows); with several threads each
    operation waits for the others to wake up, which on a busy 2-core machine costs
    milliseconds per operation and made a proposal ten times slower.
    """
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def numerics() -> Iterator[None]:
    """Quiet BoTorch's advisory warnings (category ``BotorchWarning``: numerics, optimisation
    stops, bad initial candidates) inside; other warnings pass."""
    from botorch.exceptions.warnings import BotorchWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=BotorchWarning)
        yield


class Surrogates:
    """GP surrogates for every outcome and a feasibility model, in estimator style.

    Args:
        config: the validated campaign configuration.
        settings: engine settings (device, fit iterations); defaults if None.

    Attributes (after :meth:`fit`):
        fitted_outcomes_: outcomes with a model (GP or constant), in config order.
        n_train_: measurements used per outcome (every outcome, 0 if none).
        feasibility_: the :class:`~doe.engine.feasibility.FeasibilityModel`.
        encoder_: the :class:`~doe.engine.encoding.Encoder`.
        X_: model-space recipes of the usable rows, ``(n, d)``.
        failed_: which of those rows gave no result, ``(n,)`` bool.
    """

    def __init__(self, config: CampaignConfig, settings: EngineSettings | None = None) -> None:
        self.config = config
        self.settings = settings if settings is not None else EngineSettings()

    # ------------------------------------------------------------------ fitting
    @single_thread()
    def fit(self, experiments: pd.DataFrame, seed: int = 0, sources: Mapping[str, pd.DataFrame] | None = None,
            previous: Surrogates | None = None, memory: ModelStateMemory | None = None) -> Surrogates:
        """Fit the feasibility model and the GPs the acquisition needs; returns ``self``.

        Args:
            experiments: finished experiments: parameter columns, any outcome columns (NaN =
                not measured; the mean of an experiment's replicate cells), optional bool
                ``failed``, optional ``<outcome>_n`` (cells behind the mean; missing or NaN:
                one) and ``<outcome>_sd`` (their sample sd; missing or NaN: 0). A mean of
                several cells gets a proportionally smaller noise variance in its GP
                (see :meth:`doe.engine.gp.ExactGP.fit`). Optional ``<outcome>_pred_sd``: the
                sd of a predicted value (a cell still cycling, :mod:`doe.domain.curves`), its
                square added to that row's noise variance. A column of one of these names that
                is a parameter of the configuration is that parameter's, never a count or sd.
            seed: seeds the hyperparameter fits (which rows form the fitting subset above
                :data:`~doe.engine.gp.FIT_SUBSET` measurements) and the feasibility features.
            sources: earlier campaigns' successful experiments by campaign name, each with
                every parameter column of this campaign and the outcomes it shares
                (:func:`doe.domain.transfer.source_training`); None or empty: no transfer.
            previous: surrogates fitted on an earlier history of the same campaign: with more
                than :data:`WARM_START_MIN_ROWS` measurements an outcome's hyperparameter fit
                starts from its earlier optimum (a warm start: it converges to the same
                optimum in fewer iterations); smaller histories always start cold, so their
                batches do not depend on what was fitted before.
            memory: the campaign's stored hyperparameters (:mod:`doe.engine.warm`): read for
                warm starts when ``previous`` is None, and given every fit worth keeping
                (more than :data:`WARM_START_MIN_ROWS` measurements); None: neither.
        """
        encoder = Encoder(self.config)
        usable = encoder.usable_rows(experiments)
        table = experiments.loc[usable]
        X = encoder.encode(table)
        outcomes = self.config.outcome_names
        Y = np.column_stack(
            [table[o].to_numpy(dtype=float) if o in table.columns else np.full(len(table), np.nan) for o in outcomes]
        ) if len(outcomes) else np.zeros((len(table), 0))
        failed = (
            table["failed"].fillna(False).astype(bool).to_numpy() if "failed" in table.columns
            else np.zeros(len(table), dtype=bool)
        )
        no_result = np.isnan(Y).all(axis=1) if Y.shape[1] else np.ones(len(table), dtype=bool)
        self.encoder_ = encoder
        self.device_ = self.settings.torch_device(len(X))
        logger.info("engine device: %s for %d rows (EngineSettings.device=%r, dtype %s)", self.device_, len(X),
                    self.settings.device, self.settings.dtype)
        self._warm = previous_warm_starts(previous, self.config, self.settings)
        self._warm_origin: Literal["previous", "stored"] = "previous"
        self._started: dict[str, Literal["cold", "previous", "stored"]] = {}
        self._memory = memory
        self.seed_ = int(seed)
        self.positions_ = np.flatnonzero(usable)
        self.X_ = X
        self.failed_ = failed | no_result
        self.feasibility_ = FeasibilityModel().fit(encoder.to_features(X), self.failed_, seed=seed)
        self._models: dict[str, Any] = {}
        self.sources_: dict[str, pd.DataFrame] = dict(sources or {})
        self.transfer_: dict[str, TransferChoice] = {}
        self._data: dict[str, OutcomeData] = outcome_data(table, self.config, X, Y, ~self.failed_, self.positions_)
        self.n_train_: dict[str, int] = {name: len(data.y) for name, data in self._data.items()}
        self.fitted_outcomes_ = [o for o in outcomes if self._data[o].kind != "none"]
        if previous is None and memory is not None and max(self.n_train_.values(), default=0) > WARM_START_MIN_ROWS:
            self._warm, self._warm_origin = stored_warm_starts(memory.load(), self.config, self.settings, encoder.dim), "stored"
        for name in acquisition_outcomes(self.config):
            self.model(name)
        self._keep_states(acquisition_outcomes(self.config))
        return self

    def _keep_states(self, outcomes: Sequence[str]) -> None:
        """Give the fits of ``outcomes`` worth keeping to the campaign's memory (if any)."""
        states = fitted_states(self.hyperparameters(), self.n_train_, outcomes, self.config, self.settings,
                               self.encoder_.dim)
        if self._memory is not None and states:
            self._memory.save(states)

    def check_fitted(self) -> None:
        """Raise :class:`~doe.errors.ProposalError` unless :meth:`fit` has run."""
        if not hasattr(self, "fitted_outcomes_"):
            raise ProposalError("these surrogates are not fitted yet: call fit() first")

    def kind(self, outcome: str) -> Literal["none", "constant", "gp"]:
        """How ``outcome`` is modelled: ``"gp"``, ``"constant"`` or ``"none"`` (too little data)."""
        self.check_fitted()
        return self._data[outcome].kind

    def training_data(self, outcome: str) -> OutcomeData:
        """The training data of ``outcome`` (read-only arrays).

        Raises:
            ProposalError: not fitted yet, or ``outcome`` is not an outcome of the campaign.
        """
        self.check_fitted()
        if outcome not in self._data:
            raise ProposalError(f"outcome {outcome!r}: not an outcome of this campaign; outcomes: {list(self._data)}")
        return self._data[outcome]

    def acquisition_model(self, outcomes: Sequence[str]) -> GPModel:
        """The GPs of ``outcomes`` (each of kind ``"gp"``) as one BoTorch ``Model``, outputs in that order."""
        from doe.engine.botorch_model import GPModel

        gps = []
        for name in outcomes:
            gp = self.model(name)
            if gp is None:
                raise ProposalError(f"outcome {name!r} has no GP (kind {self.kind(name)!r}); it cannot enter the acquisition")
            gps.append(gp)
        return GPModel(gps)

    def model(self, outcome: str) -> ExactGP | None:
        """The fitted :class:`ExactGP` of ``outcome`` (fitted now if needed); None unless kind is gp."""
        self.check_fitted()
        data = self._data[outcome]
        if data.kind != "gp":
            return None
        if outcome not in self._models:
            index = self.config.outcome_names.index(outcome)
            # outcomes outside the acquisition only feed predictions: a shorter fit is plenty
            needed = outcome in acquisition_outcomes(self.config)
            maxiter = self.settings.fit_maxiter if needed else min(self.settings.fit_maxiter, LAZY_FIT_MAXITER)
            seed = self.seed_ * 1009 + index
            with single_thread():
                gp = self._fit_gp(outcome, data, seed, maxiter)
                rows = source_rows(self.encoder_, outcome, self.sources_) if self.sources_ else None
                if rows is not None and rows.names:
                    gp, self.transfer_[outcome] = fit_transfer(outcome, gp, data.X, data.y, rows, self._new_gp,
                                                               maxiter, seed)
                self._models[outcome] = gp
            if not needed:  # the acquisition's outcomes are kept together at the end of fit()
                self._keep_states([outcome])
        return self._models[outcome]

    def transfer(self, outcome: str) -> TransferChoice | None:
        """How ``outcome`` used the earlier campaigns (None: no source measured it, or no GP)."""
        self.check_fitted()
        self.model(outcome)
        return self.transfer_.get(outcome)

    def transfer_report(self) -> pd.DataFrame:
        """Which earlier campaigns inform which outcome (see :func:`doe.engine.transfer.transfer_table`);
        fits every modelled outcome first. Empty without sources."""
        self.check_fitted()
        for name in self.fitted_outcomes_:
            self.model(name)
        return transfer_table(self.transfer_)

    def _new_gp(self) -> ExactGP:
        return ExactGP(self._cat_sizes(), self.encoder_.dim, self.device_, kernel=self.settings.kernel,
                       lengthscale_prior=self.settings.lengthscale_prior, dtype=self.settings.torch_dtype(),
                       max_exact=self.settings.exact_gp_max_rows, n_inducing=self.settings.inducing_points,
                       noise_prior=self.settings.noise_prior)

    def hyperparameters(self) -> dict[str, np.ndarray]:
        """Fitted ``theta_`` (log lengthscales, log noise, constant) of every GP fitted so far."""
        self.check_fitted()
        return {name: gp.theta_.copy() for name, gp in self._models.items() if gp is not None}

    def warm_starts(self) -> dict[str, str]:
        """Where each fitted GP's hyperparameter fit started: ``"cold"`` (the prior's mode),
        ``"previous"`` (this process's earlier fit) or ``"stored"`` (the campaign's stored state)."""
        self.check_fitted()
        return dict(self._started)

    def approximations(self) -> dict[str, str]:
        """How each fitted GP conditions on its rows: ``"exact"`` or ``"dtc(m)"`` (inducing recipes)."""
        self.check_fitted()
        return {name: gp.approximation_ for name, gp in self._models.items() if gp is not None}

    def _cat_sizes(self) -> dict[int, int]:
        return {i: len(v) for i, v in self.encoder_.cat_dims.items()}

    def _fit_gp(self, outcome: str, data: OutcomeData, seed: int, maxiter: int) -> ExactGP:
        X, y = data.X, data.y
        last_error: Exception | None = None
        for noise_floor in (MIN_NOISE, 1e-3, 1e-2):
            try:
                gp = self._new_gp()
                warm = self._warm.get(outcome) if len(y) > WARM_START_MIN_ROWS else None
                self._started[outcome] = "cold" if warm is None else self._warm_origin
                gp.fit(X, y, maxiter=maxiter, seed=seed, noise_floor=noise_floor, cells=data.cells,
                       within_ss=data.within_ss, extra_var=data.extra_var, theta0=warm)
                if noise_floor != MIN_NOISE:
                    logger.warning("outcome %r: GP refitted with a noise floor of %g after: %s", outcome, noise_floor, last_error)
                return gp
            except (RuntimeError, ValueError, np.linalg.LinAlgError) as err:
                last_error = err
                logger.debug("outcome %r: GP fit failed (noise floor %g): %s", outcome, noise_floor, err)
        logger.warning(
            "outcome %r: GP hyperparameters could not be fitted (%s); using the prior's typical "
            "lengthscale with a noise variance of 0.1", outcome, last_error,
        )
        gp = self._new_gp()
        mu, sigma = gp.ls_prior
        return gp.set_hyperparameters(np.full(self.encoder_.dim, math.exp(mu - sigma**2)), 0.1, 0.0, X, y,
                                      cells=data.cells, extra_var=data.extra_var)

    # ------------------------------------------------------------------ prediction
    def _posterior_mean_sd(self, outcome: str, X_np: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import torch

        data = self._data[outcome]
        n = len(X_np)
        if data.kind == "none":
            return np.full(n, np.nan), np.full(n, np.nan)
        if data.kind == "constant":
            return np.full(n, data.constant), np.zeros(n)
        gp = self.model(outcome)
        assert gp is not None  # kind is "gp"
        means, sds = [], []
        with torch.no_grad(), single_thread():
            for start in range(0, n, 2048):
                X = torch.as_tensor(X_np[start : start + 2048], dtype=torch.float64, device=self.device_)
                mean, var = gp.mean_cov(X, full_cov=False)
                means.append(mean.cpu().numpy())
                sds.append(var.sqrt().cpu().numpy())
        if not means:
            return np.zeros(0), np.zeros(0)
        return np.concatenate(means), np.concatenate(sds)

    def predict_encoded(self, X: np.ndarray) -> pd.DataFrame:
        """:meth:`predict` for model-space recipes ``(n, d)``."""
        from scipy.stats import norm

        self.check_fitted()
        X = np.asarray(X, dtype=float).reshape(-1, self.encoder_.dim)
        out: dict[str, np.ndarray] = {}
        for name in self.config.outcome_names:
            out[f"{name}_mean"], out[f"{name}_sd"] = self._posterior_mean_sd(name, X)
        prob = self.feasibility_.probability(self.encoder_.to_features(X))
        limits: list[tuple[str, str, float]] = [(c.outcome, c.operator, c.bound) for c in self.config.outcome_constraints]
        if len(self.config.objectives) == 1:  # one objective's threshold or tolerance: a limit, as in the acquisition
            obj = self.config.objectives[0]
            limits += [(obj.name, op, b) for op, b in zip((">=", "<="), obj.acceptable_range, strict=True) if b is not None]
        for outcome, operator, bound in limits:
            mean, sd = out[f"{outcome}_mean"], out[f"{outcome}_sd"]
            if np.isnan(mean).all():
                continue
            with np.errstate(divide="ignore", invalid="ignore"):
                z = (bound - mean) / sd if operator == "<=" else (mean - bound) / sd
            p = np.where(sd > 0, norm.cdf(z), (z >= 0).astype(float))
            p = np.where(np.isnan(mean), 1.0, p)
            prob = prob * p
        out["probability_feasible"] = prob
        for name in self.config.outcome_names:  # shown as a curve's are: truncated to the valid_range
            out[f"{name}_mean"], out[f"{name}_sd"] = truncated(out[f"{name}_mean"], out[f"{name}_sd"],
                                                               self.config.valid_range_of(name))
        return pd.DataFrame(out)

    def predict(self, recipes: pd.DataFrame) -> pd.DataFrame:
        """Posterior mean and sd of every outcome, and the probability that a run is feasible.

        Args:
            recipes: ``(n, ...)`` table with every parameter column (engineer units).

        Returns:
            ``(n, 2 * n_outcomes + 1)`` table, index as ``recipes``: ``{outcome}_mean`` and
            ``{outcome}_sd`` (sd of the latent mean, without measurement noise; NaN when the
            outcome has too little data), truncated to the outcome's ``valid_range`` (the
            truncated normal's; the probability uses it whole), and ``probability_feasible``: the feasibility
            model's success probability times the probability of meeting each outcome
            constraint and, with one objective, its threshold or set-point tolerance (an
            unmodelled constrained outcome counts as 1).
        """
        self.check_fitted()
        X = self.encoder_.encode(recipes)
        result = self.predict_encoded(X)
        result.index = recipes.index
        return result

    # ------------------------------------------------------------------ diagnostics
    def cross_validate(self) -> pd.DataFrame:
        """Leave-one-out predictions of every modelled outcome, with the fitted hyperparameters.

        Uses the closed form ``mu_-i = y_i - [K^-1 y]_i / [K^-1]_ii``, ``var_-i = 1 / [K^-1]_ii``
        (``K`` includes the noise, so ``predicted_sd`` is the sd of a new measurement).

        Returns:
            Long table with columns ``experiment_index`` (row position in the table given
            to :meth:`fit`), ``outcome``, ``measured``, ``predicted_mean``, ``predicted_sd``.
        """
        import torch

        self.check_fitted()
        frames = []
        for name in self.fitted_outcomes_:
            data = self._data[name]
            if data.kind == "constant":
                mean, sd = np.full(len(data.y), data.constant), np.zeros(len(data.y))
            else:
                gp = self.model(name)
                assert gp is not None  # kind is "gp"
                with torch.no_grad(), single_thread():
                    mean, sd = gp.loo()
                # a multi-task model's rows: the target's first, then the sources'
                mean, sd = mean[: len(data.y)], sd[: len(data.y)]
            frames.append(
                pd.DataFrame(
                    {"experiment_index": data.positions.astype(int), "outcome": name, "measured": data.y,
                     "predicted_mean": mean, "predicted_sd": sd}
                )
            )
        if not frames:
            return pd.DataFrame(columns=["experiment_index", "outcome", "measured", "predicted_mean", "predicted_sd"])
        return pd.concat(frames, ignore_index=True)

    def feature_importance(self, n_base: int = 64, n_grid: int = 9) -> pd.DataFrame:
        """Share of each parameter in the variation of each GP-modelled outcome, within the
        recipes the outcome was measured on.

        Method: total-effect variance of the posterior mean. For ``n_base`` space-filling
        base recipes inside the measured region, one parameter at a time is swept over the
        values it took in the training data (``n_grid`` points between its smallest and
        largest measured value in the model space, or every measured allowed value or
        label) with the others held; the variance of the posterior mean along the sweep,
        averaged over the base recipes, is the parameter's raw importance
        (``E[Var_{x_p}(mu | x_-p)]``, Jansen's total-effect numerator). Each column is
        normalised to sum to 1 (all zero when nothing varied).

        Sweeping only what was measured keeps the measure fair to categorical parameters:
        the model's mean at an untried label falls back towards the average, which would
        otherwise count as importance. A parameter that never varied has exactly zero
        importance.

        Returns:
            Table with index = parameter names, one column per GP-modelled outcome.
        """
        self.check_fitted()
        enc = self.encoder_
        outcomes = [o for o in self.fitted_outcomes_ if self._data[o].kind == "gp"]
        result = {}
        for name in outcomes:
            raw = self._measured_sweep_variance(name, n_base, n_grid)
            total = raw.sum()
            result[name] = raw / total if total > 0 else np.zeros(enc.dim)
        return pd.DataFrame(result, index=pd.Index(enc.names, name="parameter"), columns=outcomes)

    def _measured_sweep_variance(self, outcome: str, n_base: int, n_grid: int) -> np.ndarray:
        """Raw total-effect variance of each parameter for ``outcome`` over its measured values."""
        from torch.quasirandom import SobolEngine

        enc = self.encoder_
        X = np.asarray(self._data[outcome].X)
        grids: list[np.ndarray] = []
        for i in range(enc.dim):
            seen = np.unique(X[:, i])
            if i in enc.cat_dims or i in enc.discrete_dims or len(seen) == 1:
                grids.append(seen)
            else:
                grids.append(np.linspace(seen.min(), seen.max(), n_grid))
        unit = SobolEngine(enc.dim, scramble=True, seed=self.seed_).draw(n_base).double().numpy()
        base = np.column_stack([
            grid[np.minimum((unit[:, i] * len(grid)).astype(int), len(grid) - 1)]
            if i in enc.cat_dims or i in enc.discrete_dims or len(grid) == 1
            else grid.min() + unit[:, i] * (grid.max() - grid.min())
            for i, grid in enumerate(grids)])
        blocks = []
        for i, grid in enumerate(grids):
            block = np.repeat(base, len(grid), axis=0)
            block[:, i] = np.tile(grid, n_base)
            blocks.append(block)
        mean, _ = self._posterior_mean_sd(outcome, np.vstack(blocks))
        raw, start = [], 0
        for grid in grids:
            size = n_base * len(grid)
            raw.append(0.0 if len(grid) == 1 else float(mean[start:start + size].reshape(n_base, len(grid)).var(axis=1).mean()))
            start += size
        return np.asarray(raw)
