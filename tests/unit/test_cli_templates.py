"""`orderwire templates lint`: findings printed, exit 1 on errors, 0 for the packaged catalogue."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from orderwire.cli import app

BAD = """name = "order_offer"
category = "UTILITY"
kind = "confirmation"

[languages.en]
body = "{{1}}, get a flat 20% off with coupon {{2}}"
examples = ["Asha"]
"""


def test_lint_passes_the_packaged_catalogue() -> None:
    result = CliRunner().invoke(app, ["templates", "lint"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith(": 0 error(s)")


def test_lint_prints_findings_and_fails_on_errors(tmp_path: Path) -> None:
    (tmp_path / "order_offer.toml").write_text(BAD, encoding="utf-8")
    result = CliRunner().invoke(app, ["templates", "lint", "--catalogue", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert "ERROR   order_offer (en): [placeholder-edge] body may not start or end with a variable" in lines
    assert any("[promotional]" in line and "coupon" in line and "% off" in line for line in lines)
    assert any("[examples] body has 2 variables but 1 examples" in line for line in lines)
    assert lines[-1] == "1 templates, 1 language versions: 3 error(s)"


def test_push_and_sync_need_an_account(tmp_path: Path) -> None:
    env = {"ORDERWIRE_DATABASE_URL": f"sqlite:///{tmp_path}/o.db", "ORDERWIRE_WHATSAPP_TOKEN": "t"}
    result = CliRunner().invoke(app, ["templates", "sync"], env=env)
    assert result.exit_code == 2
    assert "ORDERWIRE_WHATSAPP_WABA_ID" in result.output
