"""The optional instance/config.py (README, Configuration) is read, and overrides the environment."""
from __future__ import annotations

import booking
from booking import create_app


def test_instance_config_py_overrides_the_environment(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text('PUBLIC_BASE_URL = "https://desk.example.jp"\n', encoding="utf-8")
    monkeypatch.setattr(booking, "ROOT", tmp_path)
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://from-the-environment")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")

    app = create_app()

    assert app.config["PUBLIC_BASE_URL"] == "https://desk.example.jp"
