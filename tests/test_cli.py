"""The operator CLI, run as a user runs it, with ``--json`` output parsed.

Invariants locked here: ``accounts create`` prints ``account_id`` and ``api_key`` once and the key
works over HTTP; ``credits add``/``show`` move money through the ledger; ``keys create``/``list``/
``revoke`` manage keys (a revoked key is refused); ``models list``/``show`` read the catalog; a
broken catalog file stops the command with a message naming the model and the field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from videostudio.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VIDEOSTUDIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VIDEOSTUDIO_DATABASE_URL", database_url)
    monkeypatch.delenv("VIDEOSTUDIO_CATALOG_PATH", raising=False)
    return tmp_path


def run(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_account_key_and_credit_lifecycle(env: Path) -> None:
    created = run("accounts", "create", "acme", "--credits", "250")
    assert set(created) >= {"account_id", "api_key"}
    assert created["api_key"].startswith("vs_live_") and created["credits_balance"] == 250
    assert run("credits", "add", "acme", "50", "--reason", "bonus")["credits_balance"] == 300
    shown = run("credits", "show", created["account_id"])
    assert shown["credits_balance"] == 300
    assert [(e["amount"], e["reason"]) for e in shown["ledger"]] == [
        (50, "bonus"),
        (250, "starting credits"),
    ]
    assert [a["name"] for a in run("accounts", "list")] == ["acme"]
    key = run("keys", "create", "acme", "--name", "ci")
    keys = run("keys", "list", "acme")
    assert {k["name"] for k in keys} == {"default", "ci"}
    assert all(not k["prefix"] or key["api_key"] != k["prefix"] for k in keys)
    revoked = run("keys", "revoke", key["key_id"])
    assert revoked["revoked_at"]
    assert [k["active"] for k in run("keys", "list", "acme") if k["key_id"] == key["key_id"]] == [
        False
    ]
    duplicate = runner.invoke(app, ["accounts", "create", "acme"])
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    too_much = runner.invoke(app, ["credits", "add", "--reason", "oops", "acme", "--", "-1000"])
    assert too_much.exit_code == 1 and "cannot remove 1000" in too_much.output


def test_models_commands(env: Path) -> None:
    models = run("models", "list")
    assert len(models) == 10
    kling = run("models", "show", "kling_3_0")
    assert kling["quality_modes"] == ["std", "pro"]
    assert runner.invoke(app, ["models", "show", "nope"]).exit_code == 1


def test_bad_catalog_names_model_and_field(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib import resources

    text = resources.files("videostudio.catalog").joinpath("builtin.toml").read_text()
    bad = env / "catalog.toml"
    bad.write_text(text.replace("durations = [5, 10, 15]", 'durations = "five"'))
    monkeypatch.setenv("VIDEOSTUDIO_CATALOG_PATH", str(bad))
    result = runner.invoke(app, ["models", "list"])
    assert result.exit_code == 2
    assert "model 'wan_2_6', field durations" in result.output
