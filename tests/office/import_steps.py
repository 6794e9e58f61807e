"""Following a confirmed staff import to its end through the JSON progress endpoint (tests only)."""
from __future__ import annotations

import threading
import time

from booking.services import import_jobs

#: How long a test waits for a background import before failing (a bound on a hang, not a timing test).
WAIT_SECONDS = 300


def batch_of(location: str) -> str:
    """The batch id in a preview or progress URL."""
    parts = location.rstrip("/").split("/")
    return parts[-2] if parts[-1] in ("progress", "confirm") else parts[-1]


def poll(client, batch_id: str) -> dict:
    response = client.get(f"/office/staff/import/{batch_id}/progress.json")
    assert response.status_code == 200, response.status_code
    return response.get_json()


def wait_for_import(client, batch_id: str, *, seen: list | None = None) -> dict:
    """Poll until the job has finished (done or failed); every answer goes into ``seen``."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        data = poll(client, batch_id)
        if seen is not None:
            seen.append(data)
        if data["finished"]:
            return data
        assert time.monotonic() < deadline, f"the import did not finish: {data}"
        time.sleep(0.05)


class Gate:
    """Holds the background import after a given chunk until released (between chunks: no transaction open)."""

    def __init__(self, monkeypatch, after: int = 1):
        self.after, self.chunks = after, 0
        self.reached, self.go = threading.Event(), threading.Event()
        monkeypatch.setattr(import_jobs, "between_chunks", self._between)

    def _between(self):
        self.chunks += 1
        if self.chunks == self.after:
            self.reached.set()
            assert self.go.wait(120), "the test never released the import"

    def wait(self):
        assert self.reached.wait(120), "the import never reached the gate"
