"""Simulation: the virtual coating lab that stands in for real experiments.

``VirtualLab`` turns recipes of the ``hfo2-ncm85`` template into noisy measurements (and the
occasional failed run), so optimisers can be tested and compared in closed loop.
"""

from doe.simulate.variants import LabVariant
from doe.simulate.virtual_lab import (
    NOISE_SD,
    OPERATOR,
    OUTCOMES,
    TEMPLATE,
    VirtualLab,
    expected_outcomes,
)

__all__ = ["NOISE_SD", "OPERATOR", "OUTCOMES", "TEMPLATE", "LabVariant", "VirtualLab", "expected_outcomes"]
