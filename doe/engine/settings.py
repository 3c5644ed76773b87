"""Engine settings: device, optimiser effort, Monte-Carlo samples, initial design size."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

from doe.domain.values import is_integer, is_real_number
from doe.errors import ProposalError

PRIOR_FIELDS = ("lengthscale_prior", "noise_prior")
"""The ``(loc, scale)`` fields: validated, stored and given as text (``loc,scale``) alike."""

CUDA_AUTO_MIN_ROWS = 1000
"""History rows above which ``device="auto"`` uses CUDA when there is one. Provisional: set
from the CPU figures and BoTorch's usual crossover; ``scripts/gpu_check.sh`` measures both
devices side by side (``benchmarks/results/gpu.md``) and this follows its crossover."""


@dataclass(frozen=True)
class EngineSettings:
    """How hard the engine works, and where.

    Defaults were chosen by measurement on the HfO2 template (2-core CPU): ``propose(3)``
    about 1.5 s at 30 experiments, 6 s at 300; on the simulated single-objective campaign
    (``benchmarks/bench_sample_efficiency.py``), twice the optimiser effort did not find
    better coatings, while the trust region and the best-guess slot did (see
    ``benchmarks/results/engine_variants.md``). The kernel and its lengthscale prior were
    chosen on the public materials datasets (``benchmarks/results/materials.md``).

    Attributes:
        device: ``"auto"`` uses CUDA when ``torch.cuda.is_available()`` and the history has
            more than :data:`CUDA_AUTO_MIN_ROWS` rows (below that the CPU is as fast: kernel
            launches and copies cost more than the small matrix products save), else the
            CPU; the choice is logged and stored in each batch's ``model_settings``.
        dtype: ``"float64"``, or ``"float32"`` for the conditioned GPs' predictions (the
            n-sized kernel products; fits, factorisations and the optimiser stay float64).
            float32 pays on a GPU (CUDA float64 is much slower) and agrees with float64 to
            about 1e-3 of an outcome's spread or better (``tests/engine/test_large_n.py``).
        exact_gp_max_rows: an outcome with more measurements than this is conditioned on
            ``inducing_points`` inducing recipes (a sparse DTC GP, :mod:`doe.engine.gp`)
            instead of all of them; ``None``: always exact. Default chosen by time and
            held-out accuracy on the HfO2 template (``benchmarks/results/large_n.md``, 2-core
            CPU): ``suggest(3)`` at n = 1,500 took 6.1 s exact against 4.7 s sparse, at
            n = 3,000 25 s and 1.46 GB against 8.5 s and 0.63 GB, with held-out RMSE within
            1-2 % (n = 1,500) and 2-5 % (n = 3,000) of the exact GP's.
        inducing_points: inducing recipes of the sparse GP.
        num_restarts: starting points refined by the acquisition optimiser, per batch slot.
        raw_samples: random recipes scored to pick the starting points.
        mc_samples: quasi-Monte-Carlo samples of the posterior in the acquisition.
        initial_design_size: finished experiments with a measured objective needed before
            the engine trusts a model; ``None``: ``max(4, ceil(d / 2) + 1)`` for ``d``
            parameters (6 for the 9-parameter HfO2 template).
        fit_maxiter: L-BFGS iterations per GP hyperparameter fit (caps the time at large n).
        maxiter_alternating: rounds of local search over discrete values and labels, each
            followed by a continuous refinement.
        lbfgs_maxiter: L-BFGS-B iterations when refining the continuous parameters.
        trust_region_width: one objective only: every recipe is searched for in a box around
            the best measured recipe (a trust region, as in TuRBO), this fraction of each
            continuous parameter's range wide; discrete values and labels stay free.
            ``None`` searches the whole space. Several objectives always search the whole
            space (there is no single best recipe to centre on).
        trust_region: ``"fixed"``: the box keeps ``trust_region_width``; ``"adaptive"``: it
            grows after improvements, shrinks after runs that did not improve and restarts
            over the whole space when it collapses (TuRBO-style, replayed from the history:
            :func:`doe.engine.trust.adapt_trust_region`), starting at ``trust_region_width``.
            One objective only; the default is the one the paired benchmark supports
            (``benchmarks/results/search_v2_virtual.md``: neither mode, nor the untried-label slot, beat the fixed box significantly over 20 paired seeds).
        whole_space_slots: one objective with a trust region: the last this many slots of
            a batch of two or more (every slot when it is at least the batch size) are
            searched over the whole space (the acquisition over every recipe) instead of the
            trust region; not in furnace-shared batches (``batch_shared``), whose rows stay
            in the region; ``0`` switches this off. Off by default: ``1`` was level with the
            default on the virtual lab (20 paired seeds, final CE p = 1.0, experiments to
            beat the study 13 against 12, p = 0.57), and on the needle lab (the virtual lab
            mirrored, its CE floored) it left the floor in 1 seed of 20 against the default's
            3, too few for the paired test to decide
            (``benchmarks/results/search_v2_*_round8.md``).
        explore_untried: batches of two or more give their first slot to a categorical label
            or discrete value that fewer than this many finished or pending experiments
            have used (the least used first, its other values chosen by the acquisition);
            ``0`` switches this off.
        best_guess: one objective: every second batch of one is the model's best guess
            (highest predicted objective, weighted by the probabilities of meeting the
            outcome constraints and of the run succeeding) within ``best_guess_width`` of
            the best measured recipe, instead of the recipe with the most expected
            improvement; batches of two or more are all expected improvement (see
            :func:`doe.engine.optimize.best_guess_turn`). When a measured, pending or chosen
            recipe is already there, the slot goes back to the acquisition.
        best_guess_width: width of the best guess's box, as for ``trust_region_width``.
        kernel: GP covariance: ``"rbf"`` (squared exponential) or ``"matern52"`` (Matern,
            nu = 5/2: rougher functions, the usual choice for physical responses).
        lengthscale_prior: ``(loc, scale)`` of the log-normal prior of every lengthscale,
            shifted by ``log(D) / 2`` for ``D`` parameters as in BoTorch: lengthscale ~
            LogNormal(loc + log(D) / 2, scale) in units of each parameter's range. The
            default ``(-1.4, 0.55)`` keeps lengthscales near half the range (0.3-0.9 for 4
            parameters, 0.4-1.3 for 9, one standard deviation); BoTorch's ``(sqrt(2), sqrt(3))`` lets them grow to
            tens of ranges, so a few points look like a smooth trend. On the materials
            datasets the short prior found the best recipes sooner
            (``benchmarks/results/materials.md``); on the simulated HfO2 campaign it was a
            little worse (``benchmarks/results/engine_variants.md``). ``(-1.0, 0.55)`` won on
            the P3HT dataset (40 seeds, p = 0.0002) but lost on the virtual lab (not
            significantly) and on the three test datasets (60 pairs, p = 0.03;
            ``benchmarks/results/materials_round6*.md``).
        noise_prior: ``(loc, scale)`` of the log-normal prior of each outcome's noise variance
            in standardised units (the outcome's variance over the measured experiments is 1):
            noise ~ LogNormal(loc, scale). The default ``(-4, 1)`` is BoTorch's: a noise sd
            near 0.1 of the outcome's spread, up to about 0.2 within one prior sd. The fit is
            the MAP in noise units, whose prior mode is ``exp(loc - scale^2)``: a wider
            ``scale`` at the same ``loc`` pulls the noise lower, not higher. ``(-4, 2)`` (mode
            ``exp(-8)``) lost on the AgNP dataset (60 seeds, p = 4e-05) and was level on P3HT
            (``benchmarks/results/materials_round7.md``).
        start_at_reference: while the space-filling initial design is in use, its first
            recipe is the configuration's reference recipe (every parameter's ``reference``
            value, e.g. the published or current process) when no finished or pending
            experiment has it yet, it is on its parameters' resolution grids, satisfies the
            constraints and fixed values, and is not the ``control_recipe`` (which every batch
            of two or more makes anyway); the rest of the batch fills the space around it.
            The model's search then starts from the known recipe (as Ax's status quo arm or a
            JMP centre point at the current conditions). Nothing changes for a configuration
            without a full reference recipe. On by default: on the simulated HfO2 campaign
            (the tuning problem) it beat the study's recipe in a median of 12 experiments
            against 22 and ended 1.5 CE points higher
            (20 paired seeds, Wilcoxon p = 0.003 for both); on the second simulated lab (a test
            problem, where the reference recipe is a poor one) the difference was not
            significant (p = 0.28); see ``benchmarks/results/search_v2_*.md``.
        shared_search: how a batch with ``batch_shared`` parameters (one furnace run) gets
            its shared values. ``"joint"``: chosen together with every row's own values to
            maximise the batch's joint acquisition (:func:`doe.engine.shared.optimize_shared`).
            ``"first_slot"``: from the best single recipe (the batch's first slot, searched
            alone as a batch of one would be), then every row placed by the sequential greedy
            batch with those shared values held (the joint acquisition of the rows given the
            shared values). ``"best_guess"``: as ``"first_slot"``, but from the recipe the model
            expects to be best (the best guess of a batch of one, searched in the ``best_guess_width``
            box around the incumbent; as ``"first_slot"`` where the best guess repeats a
            measured or pending recipe, and with several objectives, where there is none):
            behind ``"joint"`` on the virtual lab (40 paired seeds, -0.62 CE points, p = 0.0013)
            and the mirror lab (-3.92, p = 0.0004), where the programme hardly moves.
            ``"both"``: the two searches of ``"joint"`` and ``"first_slot"`` (the per-row search twice and a
            batch of one), the batch with the higher joint acquisition wins (level with
            ``"joint"`` on the virtual lab, 40 paired seeds, p = 0.40; behind it on the coupled
            lab, 20 seeds, p = 0.08, and on the second lab, 20 seeds, p = 0.015). Measured
            (``benchmarks/results/furnace*.md``): neither ``"joint"`` nor ``"first_slot"`` beats
            "free batch, then every row gets the first row's anneal" significantly; on the
            second simulated lab ``"joint"`` is behind it (100 seeds, p = 0.03).
            ``"thompson"``: as ``"first_slot"``, but from the recipe that maximises one joint
            posterior sample of the objective over 1,024 space-filling recipes and the recipes
            already run (one objective, or the weighted objective; as ``"joint"`` with a Pareto
            search; the pending recipes and ``shared_region`` not read), leaving out a recipe whose
            sampled outcome breaks an outcome constraint or whose run is predicted to fail more
            often than not: behind ``"joint"`` on the virtual lab (40 paired seeds, -0.73 CE points,
            p = 0.0005) and the mirror lab (-1.95, p = 0.0008), its drawn programmes putting whole
            furnace runs in poor regions (benchmark round 14, ``benchmarks/README.md``).
        shared_explore_untried: a model-based batch with ``batch_shared`` parameters (one
            furnace run) holds a label or discrete value of a shared parameter that no finished
            or pending experiment has used (the first in column order; one per batch; its rows'
            strategy reads ``explore_untried``; not with a candidate pool), and
            ``shared_search`` chooses every other value given it. Without it, on the virtual
            and mirror labs, the first model-based furnace run took one of the two
            atmospheres of the initial design and every later run kept it (rounds 12 and 13,
            ``benchmarks/README.md``). Off by default: on against off, 40 paired seeds per lab, it
            was level on the mirror lab (whose best atmosphere was often never tried; p = 0.88)
            and a little behind on the virtual lab (-0.15 CE points, p = 0.066).
        shared_region: where the joint search (``shared_search="joint"`` or ``"both"``) looks for the
            continuous shared values: ``"space"``, the whole range (the rows' own values stay
            in the trust region); ``"trust_region"``, the trust region around the incumbent,
            as the rows' own values (a value on a resolution grid may lie one grid step
            outside it). ``"trust_region"`` did not win on the virtual lab
            (40 paired seeds, p = 0.83), so the default stays ``"space"``.
    """

    device: Literal["auto", "cpu", "cuda"] = "auto"
    dtype: Literal["float64", "float32"] = "float64"
    exact_gp_max_rows: int | None = 1000
    inducing_points: int = 800
    num_restarts: int = 4
    raw_samples: int = 128
    mc_samples: int = 64
    initial_design_size: int | None = None
    fit_maxiter: int = 150
    maxiter_alternating: int = 1
    lbfgs_maxiter: int = 12
    trust_region_width: float | None = 0.4
    trust_region: Literal["fixed", "adaptive"] = "fixed"
    explore_untried: int = 0
    whole_space_slots: int = 0
    best_guess: bool = True
    best_guess_width: float = 0.2
    kernel: Literal["rbf", "matern52"] = "rbf"
    lengthscale_prior: tuple[float, float] = (-1.4, 0.55)
    noise_prior: tuple[float, float] = (-4.0, 1.0)
    shared_search: Literal["joint", "first_slot", "best_guess", "both", "thompson"] = "joint"
    shared_explore_untried: bool = False
    shared_region: Literal["space", "trust_region"] = "space"
    start_at_reference: bool = True

    def __post_init__(self) -> None:
        if self.device not in ("auto", "cpu", "cuda"):
            raise ProposalError(f"EngineSettings.device: must be 'auto', 'cpu' or 'cuda', got {self.device!r}")
        if self.dtype not in ("float64", "float32"):
            raise ProposalError(f"EngineSettings.dtype: must be 'float64' or 'float32', got {self.dtype!r}")
        for name in ("num_restarts", "raw_samples", "mc_samples", "fit_maxiter", "lbfgs_maxiter", "inducing_points"):
            value = getattr(self, name)
            if not is_integer(value) or value < 1:
                raise ProposalError(f"EngineSettings.{name}: must be a whole number >= 1, got {value!r}")
        if self.raw_samples < self.num_restarts:
            raise ProposalError(
                f"EngineSettings.raw_samples ({self.raw_samples}) must be at least num_restarts ({self.num_restarts})"
            )
        if self.exact_gp_max_rows is not None and (not is_integer(self.exact_gp_max_rows)
                                                   or self.exact_gp_max_rows < self.inducing_points):
            raise ProposalError(f"EngineSettings.exact_gp_max_rows: must be None or a whole number >= inducing_points "
                                f"({self.inducing_points}), got {self.exact_gp_max_rows!r}")
        if not is_integer(self.maxiter_alternating) or self.maxiter_alternating < 0:
            raise ProposalError(f"EngineSettings.maxiter_alternating: must be a whole number >= 0, got {self.maxiter_alternating!r}")
        for name in ("trust_region_width", "best_guess_width"):
            value = getattr(self, name)
            if value is None and name == "trust_region_width":
                continue
            if not is_real_number(value) or not 0.0 < value <= 1.0:
                raise ProposalError(f"EngineSettings.{name}: must be a fraction in (0, 1]"
                                    f"{' or None' if name == 'trust_region_width' else ''}, got {value!r}")
        if self.trust_region not in ("fixed", "adaptive"):
            raise ProposalError(f"EngineSettings.trust_region: must be 'fixed' or 'adaptive', got {self.trust_region!r}")
        for name in ("explore_untried", "whole_space_slots"):
            if not is_integer(getattr(self, name)) or getattr(self, name) < 0:
                raise ProposalError(f"EngineSettings.{name}: must be a whole number >= 0, got {getattr(self, name)!r}")
        for name in ("best_guess", "start_at_reference", "shared_explore_untried"):
            if not isinstance(getattr(self, name), bool):
                raise ProposalError(f"EngineSettings.{name}: must be True or False, got {getattr(self, name)!r}")
        if self.kernel not in ("rbf", "matern52"):
            raise ProposalError(f"EngineSettings.kernel: must be 'rbf' or 'matern52', got {self.kernel!r}")
        for name in PRIOR_FIELDS:
            prior = getattr(self, name)
            if (not isinstance(prior, tuple | list) or len(prior) != 2
                    or not all(is_real_number(v) and math.isfinite(v) for v in prior)
                    or prior[1] <= 0):
                raise ProposalError(
                    f"EngineSettings.{name}: must be (loc, scale) with finite numbers and scale > 0, got {prior!r}"
                )
            object.__setattr__(self, name, (float(prior[0]), float(prior[1])))
        if self.shared_search not in ("joint", "first_slot", "best_guess", "both", "thompson"):
            raise ProposalError("EngineSettings.shared_search: must be 'joint', 'first_slot', 'best_guess', "
                                f"'both' or 'thompson', got {self.shared_search!r}")
        if self.shared_region not in ("space", "trust_region"):
            raise ProposalError(
                f"EngineSettings.shared_region: must be 'space' or 'trust_region', got {self.shared_region!r}")
        size = self.initial_design_size
        if size is not None and (not is_integer(size) or size < 2):
            raise ProposalError(f"EngineSettings.initial_design_size: must be None or a whole number >= 2, got {size!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, stored with each batch as provenance."""
        return asdict(self)

    def with_text(self, texts: Mapping[str, str]) -> EngineSettings:
        """These settings with fields replaced by values given as text (``{"trust_region":
        "adaptive", "explore_untried": "2"}``; ``none`` for an optional field, ``loc,scale``
        for ``lengthscale_prior`` and ``noise_prior``), as the ``doe`` command's ``--engine NAME=VALUE`` gives them.

        Raises:
            ProposalError: an unknown field or a value that does not fit it, naming the field.
        """
        known = {f.name: getattr(self, f.name) for f in fields(self)}
        changes: dict[str, Any] = {}
        for name, text in texts.items():
            if name not in known:
                raise ProposalError(f"engine setting {name!r} does not exist; settings: {', '.join(known)}")
            current, raw = known[name], str(text).strip()
            try:
                if raw.lower() == "none" and name in ("initial_design_size", "trust_region_width", "exact_gp_max_rows"):
                    changes[name] = None
                elif name in PRIOR_FIELDS:
                    changes[name] = tuple(float(v) for v in raw.split(","))
                elif isinstance(current, bool):
                    if raw.lower() not in ("true", "false"):
                        raise ValueError(raw)
                    changes[name] = raw.lower() == "true"
                elif name in ("initial_design_size", "exact_gp_max_rows") or isinstance(current, int):
                    changes[name] = int(raw)
                elif name == "trust_region_width" or isinstance(current, float):
                    changes[name] = float(raw)
                else:
                    changes[name] = raw
            except ValueError:
                raise ProposalError(f"engine setting {name}: {raw!r} is not a value of its type "
                                    f"(now {current!r})") from None
        return replace(self, **changes)

    @classmethod
    def fast(cls) -> EngineSettings:
        """Small restarts and samples: for tests and quick looks."""
        return cls(num_restarts=2, raw_samples=32, mc_samples=32, fit_maxiter=50, maxiter_alternating=1, lbfgs_maxiter=15)

    def design_size(self, n_parameters: int) -> int:
        """Experiments needed before the model is used (see ``initial_design_size``)."""
        if self.initial_design_size is not None:
            return self.initial_design_size
        return max(4, math.ceil(n_parameters / 2) + 1)

    def torch_device(self, n_rows: int | None = None) -> Any:
        """The ``torch.device`` to compute on, for a history of ``n_rows`` rows (``None``: any size)."""
        import torch

        if self.device == "auto":
            large = n_rows is None or n_rows > CUDA_AUTO_MIN_ROWS
            return torch.device("cuda" if large and torch.cuda.is_available() else "cpu")
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ProposalError("EngineSettings.device: 'cuda' was asked for but no CUDA device is available; use 'auto' or 'cpu'")
        return torch.device(self.device)

    def torch_dtype(self) -> Any:
        """The ``torch.dtype`` of the conditioned GPs' predictions."""
        import torch

        return torch.float32 if self.dtype == "float32" else torch.float64
