"""The Bayesian optimisation engine: encoding, GP surrogates, designs, acquisition, search.

Works on pandas tables in engineer units and a validated :class:`~doe.domain.CampaignConfig`;
torch, GPyTorch and BoTorch are imported only inside this package.

Modules:
    encoding: engineer units <-> model space (unit cube, log scale, category indices).
    gp: the exact GP of one outcome (plain torch), fitted by MAP.
    botorch_model: the GPs as one BoTorch ``Model`` with its ``Posterior`` (imported lazily).
    surrogates: one GP per outcome, the feasibility model, LOO and importance.
    outcome_data: each outcome's training rows, replicate cells and known variances.
    feasibility: kernel logistic regression of run success (failed runs).
    design: seeded space-filling designs that respect the whole space.
    acquisition: qLogNEI / qLogNEHVI with outcome constraints and feasibility weighting.
    optimize: mixed-space and finite-set acquisition optimisation.
    propose: :func:`propose` and :class:`Proposal`.
"""

from doe.engine.propose import Proposal, propose
from doe.engine.settings import EngineSettings
from doe.engine.surrogates import Surrogates

__all__ = ["EngineSettings", "Proposal", "Surrogates", "propose"]
