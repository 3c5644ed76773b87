"""Reading YAML written by people: plain data only, nothing that can blow up or hide a mistake.

:func:`load_yaml` is PyYAML's safe loader with six more refusals:

* anchors and aliases (``&a`` / ``*a``): a few hundred bytes of nested aliases expand to
  gigabytes ("billion laughs"); a campaign configuration never needs them;
* more than :data:`MAX_NODES` nodes or :data:`MAX_CHARS` characters;
* a key given twice in one mapping (PyYAML silently keeps the last one);
* a ``!!timestamp`` tag on text that is not a date (PyYAML fails on it with a raw error);
* numbers that YAML 1.1 reads other than they look: ``6:00`` and ``1:30`` (base 60: 360 and
  90) and ``010`` (octal: 8);
* anything that is not plain data (safe loading already refuses tags such as ``!!python``).

:func:`load_yaml_file` reads a file (a campaign template) the same way, refusing one over 1 MB
or not UTF-8 text. Every refusal is a :class:`~doe.errors.ConfigError` that names the line.
(A number in exponent form without a decimal point, ``1e-3``, stays text, as YAML 1.1 reads it:
the configuration's writer leaves such text unquoted, so a label ``12E3`` must read back as
text; a number field holding it says how to write the number.)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from doe.errors import ConfigError, shorten, shorten_text

MAX_CHARS = 1_000_000
MAX_NODES = 100_000


class _RefusedYaml(yaml.YAMLError):
    """Raised inside the loader; turned into a ConfigError by :func:`load_yaml`."""


class StrictLoader(yaml.SafeLoader):
    """SafeLoader without aliases, anchors or duplicate keys, and with a node budget."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.nodes_composed = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            raise _RefusedYaml(f"line {line}: aliases (*{shorten_text(str(event.anchor), 40)}) are not allowed; "
                               "write the value out")
        if getattr(event, "anchor", None) is not None:
            raise _RefusedYaml(f"line {line}: anchors (&{shorten_text(str(event.anchor), 40)}) are not allowed; "
                               "write the value out")
        self.nodes_composed += 1
        if self.nodes_composed > MAX_NODES:
            raise _RefusedYaml(f"line {line}: more than {MAX_NODES} values; is it the right file?")
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key; PyYAML reports it below
                    continue
                if first is not None:
                    raise _RefusedYaml(f"line {line}: key {shorten(key, 60)} is given twice "
                                       f"(first on line {first}); keep one")
                seen[key] = line
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        """A date or time; a ``!!timestamp`` tag on text that is none is refused naming the line
        (PyYAML itself fails on it with an AttributeError)."""
        if not isinstance(node, yaml.ScalarNode) or self.timestamp_regexp.match(node.value) is None:
            text = shorten(node.value, 60) if isinstance(node, yaml.ScalarNode) else "a list or mapping"
            raise _RefusedYaml(f"line {node.start_mark.line + 1}: {text} is not a date or time")
        return super().construct_yaml_timestamp(node)


    def construct_yaml_int(self, node: yaml.ScalarNode) -> Any:
        _refuse_misread_number(node)
        return super().construct_yaml_int(node)

    def construct_yaml_float(self, node: yaml.ScalarNode) -> Any:
        _refuse_misread_number(node)
        return super().construct_yaml_float(node)


_OCTAL = re.compile(r"[-+]?0[0-7_]+")


def _refuse_misread_number(node: yaml.ScalarNode) -> None:
    """Refuse a plain number that YAML 1.1 reads as another: base 60 (``6:00`` is 360) or octal
    (``010`` is 8). A tagged or quoted value is no plain number."""
    text = str(node.value)
    if node.style is not None or node.tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
        return
    line = node.start_mark.line + 1
    if ":" in text:
        raise _RefusedYaml(f"line {line}: {shorten_text(text, 40)} is read by YAML as a base-60 number "
                           "(6:00 as 360); write the number you mean in the parameter's unit (1.5 for 1 h 30 min, "
                           f"in hours), or put text in quotes ('{shorten_text(text, 40)}')")
    if _OCTAL.fullmatch(text):
        raise _RefusedYaml(f"line {line}: {shorten_text(text, 40)} starts with 0, which YAML reads as an octal "
                           f"number (010 as 8); write it without the leading zero, or put text in quotes "
                           f"('{shorten_text(text, 40)}')")


StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", StrictLoader.construct_yaml_timestamp)
StrictLoader.add_constructor("tag:yaml.org,2002:int", StrictLoader.construct_yaml_int)
StrictLoader.add_constructor("tag:yaml.org,2002:float", StrictLoader.construct_yaml_float)


def load_yaml(text: str, what: str = "configuration") -> Any:
    """Plain data from YAML ``text``; a :class:`ConfigError` naming ``what`` and the line if refused."""
    if not isinstance(text, str):
        raise ConfigError(f"the {what} must be YAML text, got {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise ConfigError(f"the {what} is longer than {MAX_CHARS} characters; is it the right file?")
    try:
        loader = StrictLoader(text)  # the reader already refuses control characters here
    except yaml.YAMLError as err:
        raise ConfigError(f"the {what} is not valid YAML: {shorten_text(str(err), 400)}") from None
    try:
        return loader.get_single_data()
    except _RefusedYaml as err:
        raise ConfigError(f"the {what} is refused: {err}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"the {what} is not valid YAML: {shorten_text(str(err), 400)}") from None
    except (ValueError, TypeError, OverflowError) as err:  # a tagged value PyYAML cannot build (!!float x)
        raise ConfigError(f"the {what} holds a value that cannot be read: {shorten_text(str(err), 200)}") from None
    except RecursionError:
        raise ConfigError(f"the {what} is nested too deeply to be a campaign configuration") from None
    finally:
        loader.dispose()


def load_yaml_file(path: Path, what: str) -> Any:
    """Plain data from the YAML file at ``path``, read as :func:`load_yaml` reads text.

    A file larger than :data:`MAX_CHARS` bytes is refused before it is read, and one that is
    not UTF-8 text is refused naming ``what``; every refusal is a :class:`ConfigError`.
    """
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_CHARS + 1)  # a bounded read, so a huge file is never read whole
    except OSError as err:
        raise ConfigError(f"the {what} cannot be read: {shorten_text(str(err), 200)}") from None
    if len(raw) > MAX_CHARS:
        raise ConfigError(f"the {what} is larger than 1 MB; is it the right file?")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"the {what} is not UTF-8 text (byte {err.start + 1} is not); "
                          "save it as UTF-8") from None
    return load_yaml(text, what)


class TextDumper(yaml.SafeDumper):
    """PyYAML's safe dumper, writing text that holds U+0085, U+2028 or U+2029 in double quotes,
    where they are escaped (``\\N``, ``\\L``, ``\\P``): written raw, as the other styles write
    them, YAML reads them back as line breaks folded to a space, and the text read back is not
    the text written."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = '"' if any(ch in text for ch in "\x85\u2028\u2029") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


TextDumper.add_representer(str, _represent_text)


def dump_yaml(data: Any) -> str:
    """``data`` (plain data) as YAML text that :func:`load_yaml` reads back the same, keys in
    their order, non-ASCII text written as it is."""
    return yaml.dump(data, Dumper=TextDumper, sort_keys=False, allow_unicode=True)


__all__ = ["MAX_CHARS", "MAX_NODES", "StrictLoader", "TextDumper", "dump_yaml", "load_yaml", "load_yaml_file"]
