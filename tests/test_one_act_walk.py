"""Every JSON API call and command that changes state is walked by a one-act test.

The test_one_act_*.py files call each of them and assert that it wrote exactly one audit event
with actor, channel and address, and that the page doing the same act writes the same action.
This keeps that walk complete: a new state-changing route or command fails here until a one-act
test calls it.
"""
from __future__ import annotations

import re
from pathlib import Path

#: Commands that change no record (they read, copy or replace the whole database) or that are
#: no act of a person (the schema migrations; the demo seeding, audited act by act inside).
# worker and run-due-jobs run the scheduled jobs, whose acts are walked through their own commands
# (mark-no-shows, purge-photos, purge-personal-data, snapshot) and the mail tests (tests/mail).
NO_ACT_COMMANDS = {"backup", "check", "db", "restore", "seed-demo", "worker", "run-due-jobs"}


def _one_act_sources() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(Path(__file__).parent.glob("test_one_act_*.py")))


def _as_pattern(rule: str) -> re.Pattern[str]:
    """/api/v1/checkins/<int:check_in_id>/photo matches /api/v1/checkins/{check_in_id}/photo or …/{id}/photo."""
    parts = re.split(r"<[^>]+>", rule)
    placeholder = r"(?:\{[^}]*\}|[^\"'/\s{}]+)"  # an f-string's {expression} or a value written out
    return re.compile(placeholder.join(re.escape(part) for part in parts) + r"[\"'?]")


def test_every_state_changing_api_route_is_walked(app):
    sources = _one_act_sources()
    rules = [r.rule for r in app.url_map.iter_rules()
             if r.rule.startswith("/api/") and r.methods and r.methods & {"POST", "PUT", "PATCH", "DELETE"}]
    assert len(rules) >= 10
    missing = [rule for rule in rules if not _as_pattern(rule).search(sources)]
    assert missing == []


def test_every_state_changing_command_is_walked(app):
    sources = _one_act_sources()
    commands = set(app.cli.list_commands(app.app_context())) - NO_ACT_COMMANDS
    assert {"create-user", "mark-no-shows", "purge-photos"} <= commands
    missing = sorted(c for c in commands if f'"{c}"' not in sources)
    assert missing == []
