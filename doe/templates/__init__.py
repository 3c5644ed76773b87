"""Campaign templates: the built-in ones shipped as YAML beside this module, and the user's own.

User templates live in ``<DOE_HOME>/templates`` (see :mod:`doe.paths`). Template names are
plain identifiers: a name is never treated as a path, so nothing outside these folders is read.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from doe.domain.config import CampaignConfig, load_config
from doe.domain.yaml_text import load_yaml_file
from doe.errors import ConfigError
from doe.paths import user_templates_dir

_BUILTIN_DIR = Path(__file__).resolve().parent
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name:
        raise ConfigError(
            f"template name {name!r} is not allowed: use letters, digits, '-', '_' or '.', "
            "with no path separators (templates are looked up by name only)"
        )
    return name


def _folders() -> list[Path]:
    return [_BUILTIN_DIR, user_templates_dir()]


def names() -> list[str]:
    """Names of every template, built-in first."""
    found: list[str] = []
    for folder in _folders():
        if folder.is_dir():
            for path in sorted(folder.glob("*.yaml")):
                if path.stem not in found:
                    found.append(path.stem)
    return found


def load(name: str) -> dict[str, Any]:
    """The configuration mapping of template ``name``.

    The file is read as a configuration file is (:func:`doe.domain.yaml_text.load_yaml_file`):
    duplicate keys, aliases, numbers YAML reads other than they look (``010``, ``1:30``), files
    over 1 MB and text that is not UTF-8 are refused with a :class:`ConfigError` naming the file.
    """
    _check_name(name)
    for folder in _folders():
        path = (folder / f"{name}.yaml").resolve()
        if path.parent != folder.resolve():
            raise ConfigError(f"template name {name!r} points outside the templates folder")
        if path.is_file():
            data = load_yaml_file(path, f"template {name!r} ({path})")
            if not isinstance(data, dict):
                raise ConfigError(f"template {name!r} ({path}) is not a mapping")
            return data
    raise ConfigError(f"no template named {name!r}; available: {names()}")


def resolve_config(source: CampaignConfig | dict[str, Any] | str | Path) -> CampaignConfig:
    """A configuration from a config object, a mapping, a YAML file path or a template name.

    A string ending in ``.yaml``/``.yml`` (or a :class:`~pathlib.Path`) is a file; any other
    string is a template name (built-in or the user's own, see :func:`load`).
    """
    if isinstance(source, str) and not source.endswith((".yaml", ".yml")):
        return CampaignConfig.from_dict(load(source))
    return load_config(source)


def save(name: str, config: CampaignConfig | dict[str, Any] | str | Path, *, overwrite: bool = False) -> Path:
    """Save ``config`` (anything :func:`resolve_config` takes) as the user template ``name``."""
    _check_name(name)
    if name in [p.stem for p in _BUILTIN_DIR.glob("*.yaml")]:
        raise ConfigError(f"{name!r} is a built-in template; save yours under another name")
    validated = resolve_config(config)
    folder = user_templates_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    if path.exists() and not overwrite:
        raise ConfigError(f"template {name!r} exists already; pass overwrite=True to replace it")
    path.write_text(validated.to_yaml(), encoding="utf-8")
    return path


__all__ = ["load", "names", "resolve_config", "save"]
