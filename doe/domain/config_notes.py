"""Notes on a valid campaign configuration: settings that it accepts but that do not act as
written. ``doe init``, the Campaigns page (with the selected campaign's configuration, and
after creating one) and the engine's log (a warning) show them."""

from __future__ import annotations

from doe.domain.config import CampaignConfig
from doe.domain.parameters import ContinuousParameter


def config_notes(config: CampaignConfig) -> list[str]:
    """One plain-text note per setting of ``config`` that is accepted but not applied: a
    ``log_scale`` parameter in a linear constraint is encoded on a linear scale (a constraint
    that is linear in the value is not linear in its logarithm, and the search keeps linear
    constraints exactly)."""
    notes = []
    for p in config.parameters:
        if isinstance(p, ContinuousParameter) and p.log_scale:
            texts = [con.text() for con in config.linear_constraints if p.name in con.coefficients]
            if texts:
                notes.append(f"{p.name}: log_scale is not applied, because the parameter is in the linear constraint "
                             f"{' and '.join(repr(t) for t in texts)}; the designs, the model and the search treat "
                             f"{p.name} on a linear scale (drop it from the constraint to keep the log scale)")
    return notes


__all__ = ["config_notes"]
