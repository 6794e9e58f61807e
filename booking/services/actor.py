"""Who acts: the party every service that changes state is given, and that its audit event names."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ..models import Staff, User

#: How the act reached the system: an HTML page, the JSON API, the command line, or the
#: system itself (a scheduled job, a cascade of another act).
Channel = Literal["page", "api", "cli", "system"]
CHANNELS: tuple[Channel, ...] = ("page", "api", "cli", "system")


@dataclass(frozen=True)
class Actor:
    """An office user, a booker (staff member acting through their own link), or nobody."""

    channel: Channel
    user: User | None = None
    staff: Staff | None = None
    address: str = ""
    #: Who acted when there is no account to name: the username typed at a failed sign-in.
    name: str = ""

    @property
    def label(self) -> str:
        """What the audit log's actor column says."""
        if self.user is not None:
            return self.user.username
        if self.staff is not None:
            return f"booker:{self.staff.staff_number}"
        if self.name:
            return self.name[:100]
        return "cli" if self.channel == "cli" else "system"

    @classmethod
    def command_line(cls) -> Actor:
        return cls("cli")

    @classmethod
    def system(cls) -> Actor:
        return cls("system")
