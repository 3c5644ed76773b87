"""doe: Bayesian design of experiments for battery cathode coatings.

Importing ``doe`` loads no torch, SQLAlchemy or Streamlit; they load when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from doe.domain import CampaignConfig
from doe.errors import ConfigError, DataError, DoeError, ProposalError, StorageError
from doe.templates import resolve_config
from doe.version import __version__

# the public load_config is the package's edge: it takes a template name too
load_config = resolve_config

if TYPE_CHECKING:
    from doe.calendar_run import run_calendar
    from doe.campaign import Campaign, list_campaigns
    from doe.runner import Stop, run
    from doe.simulate import VirtualLab

_LAZY = {
    "Campaign": ("doe.campaign", "Campaign"),
    "list_campaigns": ("doe.campaign", "list_campaigns"),
    "VirtualLab": ("doe.simulate", "VirtualLab"),
    "run": ("doe.runner", "run"),
    "run_calendar": ("doe.calendar_run", "run_calendar"),
    "Stop": ("doe.runner", "Stop"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'doe' has no attribute {name!r}")


__all__ = [
    "Campaign",
    "CampaignConfig",
    "ConfigError",
    "DataError",
    "DoeError",
    "ProposalError",
    "Stop",
    "StorageError",
    "VirtualLab",
    "__version__",
    "list_campaigns",
    "load_config",
    "resolve_config",
    "run",
    "run_calendar",
]
