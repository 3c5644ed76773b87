"""Templates: the built-in hfo2-ncm85, user templates, and names that try to escape the folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import doe
from doe import templates
from doe.campaign import list_campaigns
from doe.domain import CampaignConfig
from doe.errors import ConfigError


def test_builtin_template_holds_the_study_recipe() -> None:
    assert "hfo2-ncm85" in templates.names()
    config = CampaignConfig.from_dict(templates.load("hfo2-ncm85"))
    recipe = config.reference_recipe()
    assert recipe == {"hfo2_loading_wt_pct": 0.83, "anneal_temperature_c": 400.0, "anneal_time_h": 2.0,
                      "anneal_atmosphere": "O2", "solid_content_mg_per_ml": 20.0,
                      "ligand_to_np_mass_ratio": 0.3, "dispersion_solvent": "chloroform",
                      "sonication_time_min": 15.0, "evaporation_bath_temperature_c": 60.0}
    assert config.parameter("anneal_time_h").log_scale
    assert config.unit_of("first_cycle_discharge_capacity_mah_per_g") == "mAh/g"
    assert [c.text() for c in config.outcome_constraints] == ["coating_thickness_nm <= 15"]


def test_user_templates_are_saved_and_listed(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DOE_HOME", str(tmp_path))
    config = templates.resolve_config("hfo2-ncm85").replace(name="my-line")
    path = templates.save("my-line", config)
    assert path.parent == tmp_path / "templates"
    assert "my-line" in templates.names()
    assert templates.resolve_config("my-line") == config
    with pytest.raises(ConfigError, match="exists already"):
        templates.save("my-line", config)
    with pytest.raises(ConfigError, match="built-in template"):
        templates.save("hfo2-ncm85", config)


def test_a_template_name_with_a_line_break_at_its_end_is_refused(tmp_path, monkeypatch) -> None:
    """The name pattern ended in "$", which matches before a last line break: save("my-line\n")
    wrote a file whose name ends in a line break."""
    monkeypatch.setenv("DOE_HOME", str(tmp_path))
    config = templates.resolve_config("hfo2-ncm85").replace(name="my-line")
    with pytest.raises(ConfigError, match=r"template name 'my-line\\n' is not allowed"):
        templates.save("my-line\n", config)
    assert not list((tmp_path / "templates").glob("*"))


def test_resolve_config_takes_a_name_a_path_a_mapping_or_a_config(tmp_path) -> None:
    config = templates.resolve_config("hfo2-ncm85")
    assert len(config.parameters) == 9
    assert config.objective_names == ["first_cycle_ce_pct", "capacity_retention_pct"]
    path = config.replace(name="from-file").save_yaml(tmp_path / "hfo2-ncm85.yaml")
    assert templates.resolve_config(path).name == "from-file"  # a path is a file, never a name
    assert templates.resolve_config(str(path)).name == "from-file"
    assert templates.resolve_config(config.to_dict()) == config
    assert templates.resolve_config(config) is config
    assert doe.load_config("hfo2-ncm85") == config  # the public API keeps taking names
    with pytest.raises(ConfigError, match="no template named 'nope'"):
        templates.resolve_config("nope")


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "a/b", "..", "x\\y", "", "hfo2-ncm85\n"])
def test_template_names_cannot_leave_the_templates_folder(name: str) -> None:
    with pytest.raises(ConfigError, match="not allowed"):
        templates.load(name)


def test_unknown_template_lists_the_available_ones() -> None:
    with pytest.raises(ConfigError, match=r"no template named 'nope'; available: \['hfo2-ncm85'"):
        templates.load("nope")


# ------------------------------------------------------- user templates read as strictly as --config
_BODY = ("parameters:\n  - {name: x, type: continuous, bounds: [0, 10]}\n"
         "  - {name: t_h, type: continuous, bounds: [0.5, 2]}\nobjectives:\n  - {name: ce, goal: maximize}\n")
_LAUGHS = "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 5)}]\n" for i in range(1, 4))

BAD_TEMPLATES: dict[str, tuple[bytes, str]] = {
    "twice": (b"name: first\nname: twice\n" + _BODY.encode(), r"line 2: key 'name' is given twice"),
    "octal": (b"name: octal\n" + _BODY.replace("[0, 10]", "[0, 010]").encode(), r"010 starts with 0.*octal"),
    "base60": (b"name: base60\n" + _BODY.replace("[0.5, 2]", "[0.5, 1:30]").encode(), r"1:30 is read by YAML as a "
               "base-60 number"),
    "laughs": (("name: laughs\nl0: &l0 [lol]\n" + _LAUGHS + _BODY).encode(), r"line 2: anchors \(&l0\) are not allowed"),
    "huge": (b"name: huge\n" + _BODY.encode() + b"description: " + b"x" * 1_000_001 + b"\n", r"larger than 1 MB"),
    "latin": ("name: café\n".encode("latin-1") + _BODY.encode(), r"is not UTF-8 text"),
}
"""A user template each, as its file's bytes, and what the refusal says (as ``doe init --config``
says of the same file)."""


def _write_bad_templates(home: Path) -> Path:
    folder = home / "templates"
    folder.mkdir(parents=True, exist_ok=True)
    for name, (content, _) in BAD_TEMPLATES.items():
        (folder / f"{name}.yaml").write_bytes(content)
    return folder


@pytest.mark.parametrize("name", list(BAD_TEMPLATES))
def test_a_user_template_is_read_as_strictly_as_a_configuration_file(name: str, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Templates were read with plain yaml.safe_load: a duplicate key, 010 (read as 8), 1:30 (read as
    90), aliases (a billion laughs expands) and files over 1 MB were accepted, and a Latin-1 file
    failed with a UnicodeDecodeError instead of the refusal that ``--config`` gives."""
    monkeypatch.setenv("DOE_HOME", str(tmp_path))
    folder = _write_bad_templates(tmp_path)
    expected = BAD_TEMPLATES[name][1]
    names_file = rf"template '{name}' \({re.escape(str(folder / name))}\.yaml\)"
    for read in (templates.load, templates.resolve_config, doe.load_config):
        with pytest.raises(ConfigError, match=rf"{names_file}.*{expected}"):
            read(name)
    with pytest.raises(ConfigError, match=expected):  # the same file given as a configuration file
        CampaignConfig.from_yaml(folder / f"{name}.yaml")


@pytest.mark.parametrize("name", list(BAD_TEMPLATES))
def test_doe_init_refuses_a_bad_user_template_naming_its_file(name: str, doe_cmd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = _write_bad_templates(tmp_path / "home")
    done = doe_cmd("init", "--template", name, check=False)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    assert re.search(rf"Error: the template '{name}' \({re.escape(str(folder / name))}\.yaml\) .*"
                     rf"{BAD_TEMPLATES[name][1]}", done.stderr), done.stderr
    assert list_campaigns(f"sqlite:///{tmp_path / 'cli.sqlite3'}").empty  # nothing was created


def test_bad_user_templates_are_still_listed_and_the_good_ones_load(tmp_path: Path, doe_cmd) -> None:  # type: ignore[no-untyped-def]
    """Listing reads only the file names, so one bad template neither hides the others nor breaks
    the list (``doe init --template`` names them all when the name is unknown)."""
    home = tmp_path / "home"
    _write_bad_templates(home)
    (home / "templates" / "good.yaml").write_text("name: good\n" + _BODY, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DOE_HOME", str(home))
        listed = templates.names()
        assert listed[0] == "hfo2-ncm85" and sorted(listed[1:]) == sorted([*BAD_TEMPLATES, "good"])
        assert templates.resolve_config("good").parameter("x").bounds == (0.0, 10.0)
    done = doe_cmd("init", "--template", "nope", check=False)
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    assert all(repr(name) in done.stderr for name in [*BAD_TEMPLATES, "good"]), done.stderr
    assert doe_cmd("init", "--template", "good").returncode == 0


def test_every_builtin_template_loads() -> None:
    builtin = sorted(p.stem for p in Path(templates.__file__).parent.glob("*.yaml"))
    assert builtin
    for name in builtin:
        assert CampaignConfig.from_dict(templates.load(name)).parameters
