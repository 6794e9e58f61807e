"""The card's life after the application (reference/desk-process.md, "After the desk"): how far it
got on its way to the person, and when it and its certificates expire.

``card_status`` (none / applied / received) stays the coarse status every report counts; the stage
refines it. A stage is shown only while it agrees with ``card_status`` (see ``card_stage_now``), so
a path that changes the status alone (the staff import, the desk, an edit) never leaves a stale
stage behind it.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

#: The finer states, in the order a card goes through them. ``mailed``: sent by post (申請時来庁方式);
#: ``at_counter``: ready to collect at the counter, also where a card returned to sender (返戻) waits.
CARD_STAGES = ("none", "applied", "mailed", "at_counter", "received")
#: The card_status each stage belongs to.
STAGE_STATUS = {"none": "none", "applied": "applied", "mailed": "applied", "at_counter": "applied",
                "received": "received"}
CARD_STAGE_CHECK = "card_stage IS NULL OR card_stage IN ('none', 'applied', 'mailed', 'at_counter', 'received')"


class CardLife:
    """Columns shared by staff and dependents: the card's stage and its dates."""

    #: Set by services.card_life; None: nothing finer than card_status is known.
    card_stage: Mapped[str | None] = mapped_column(String(12))
    card_stage_on: Mapped[date | None]
    #: The day a mailed card came back to the city uncollected (返戻); it then waits at the counter.
    card_returned_on: Mapped[date | None]
    #: The expiry date printed on the card (the 10th birthday after issue; 5th under 18), and that of
    #: its electronic certificates (the 5th birthday). The card is valid up to and including it.
    card_expires_on: Mapped[date | None] = mapped_column(index=True)
    certificates_expire_on: Mapped[date | None]

    # Declared here, read from the classes that mix this in.
    card_status: str
    card_status_on: date | None

    @property
    def card_stage_now(self) -> str:
        """The stage, or the card status when the stored stage no longer agrees with it."""
        stage = self.card_stage
        if stage and STAGE_STATUS.get(stage) == self.card_status:
            return stage
        return self.card_status

    @property
    def card_stage_since(self) -> date | None:
        return self.card_stage_on if self.card_stage_now == self.card_stage else self.card_status_on

    @property
    def card_returned_now(self) -> date | None:
        """The return date while the returned card still waits at the counter."""
        return self.card_returned_on if self.card_stage_now == "at_counter" else None
