"""MkDocs hook: the ``doe`` command's help, command by command, in place of a marker."""

from __future__ import annotations

from typing import Any

import click

MARKER = "<!-- doe-cli-reference -->"


def on_page_markdown(markdown: str, **_: Any) -> str:
    if MARKER not in markdown:
        return markdown
    from doe.cli import cli

    root = click.Context(cli, info_name="doe")
    parts = ["```text", cli.get_help(root), "```"]
    for name in cli.list_commands(root):
        command = cli.get_command(root, name)
        if command is None:
            continue
        context = click.Context(command, info_name=name, parent=root)
        parts += [f"\n## doe {name}\n", "```text", command.get_help(context), "```"]
        if isinstance(command, click.Group):
            for sub in command.list_commands(context):
                subcommand = command.get_command(context, sub)
                if subcommand is not None:
                    sub_context = click.Context(subcommand, info_name=sub, parent=context)
                    parts += [f"\n### doe {name} {sub}\n", "```text", subcommand.get_help(sub_context), "```"]
    return markdown.replace(MARKER, "\n".join(parts))
