"""The schema's method list agrees with the catalogue; every shipped config validates."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from fairwash.catalogue import METHODS

REPO = Path(__file__).resolve().parents[1]


def test_schema_method_enum_matches_library():
    schema = yaml.safe_load((REPO / "config" / "schema.yaml").read_text())
    assert schema["$defs"]["methods"]["items"]["enum"] == list(METHODS)


@pytest.mark.parametrize("name", ["config.yaml", "paper.yaml", "paper_raw.yaml"])
def test_shipped_configs_validate(name):
    schema = yaml.safe_load((REPO / "config" / "schema.yaml").read_text())
    jsonschema.validate(yaml.safe_load((REPO / "config" / name).read_text()), schema)


def test_code_mode_overlay_changes_only_the_threshold_rule():
    """config/paper_code_mode.yaml on top of paper.yaml (Snakemake's merge of two config files)."""
    from snakemake.utils import update_config

    schema = yaml.safe_load((REPO / "config" / "schema.yaml").read_text())
    paper = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())
    merged = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())
    update_config(merged, yaml.safe_load((REPO / "config" / "paper_code_mode.yaml").read_text()))
    jsonschema.validate(merged, schema)
    assert merged["battery"]["n_draws"] == 30 and merged["battery"]["rule"] == "mean_std"
    assert "Grad_p" not in merged["battery"]["fairest_methods"]
    changed = ("n_draws", "rule", "fairest_methods")
    kept = {k: v for k, v in merged["battery"].items() if k not in changed}
    assert kept == {k: v for k, v in paper["battery"].items() if k not in changed}
    assert merged["datasets"] == paper["datasets"]


def test_default_config_is_offline():
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    assert {d["source"] for d in cfg["datasets"].values()} <= {"adult", "simulated", "loan"}
