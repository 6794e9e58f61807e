"""On PostgreSQL, `flask backup` says to use pg_dump (docs/deploy.md) rather than half-doing it."""
from __future__ import annotations

from conftest_helpers import requires_postgres


@requires_postgres
def test_on_postgresql_backup_points_at_pg_dump(runner, tmp_path):
    result = runner.invoke(args=["backup", str(tmp_path / "b")])
    assert result.exit_code != 0
    assert "pg_dump" in result.output and "docs/deploy.md" in result.output
