"""Templates: the built-in hfo2-ncm85, user templates, and names that try to escape the folder."""

from __future__ import annotations

import pytest

import doe
from doe import templates
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
