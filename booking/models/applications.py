"""The application at the desk (reference/desk-process.md): what the clerk checked, and where
people are registered, which decides whether the card can be mailed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, String, Table, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model, db
from ..localtime import utcnow
from .organisation import User
from .reservations import CheckIn
from .types import UTCDateTime

#: Groups of identity documents (本人確認書類): A photo IDs issued by a public office, B other
#: documents with name and birth date or address, and the notification card or notice.
DOCUMENT_GROUPS = ("A", "B", "notice")
#: Old cards an applicant can hand in at the desk.
SURRENDERED_CARDS = ("notification_card", "juki_card", "my_number_card")
#: The age groups a clerk confirms for a dependent whose birth date is not on file.
AGE_GROUPS = ("under_1", "under_15", "adult")
DELIVERIES = ("mail", "counter")


class IdentityDocument(Model):
    """The section's change to the list of identity documents: a document of its own, or a
    built-in one (services.applications.STANDARD_DOCUMENTS) renamed, regrouped or switched off.

    The built-in list needs no row, so a new database (and every test) starts with it."""

    __tablename__ = "identity_documents"
    __table_args__ = (CheckConstraint("document_group IN ('A', 'B', 'notice')", name="document_group"),)

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    document_group: Mapped[str] = mapped_column(String(10))
    is_active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=1000)


class Municipality(Model):
    """A municipality people are registered in (住民登録地), by its local government code
    (全国地方公共団体コード: five digits and a check digit)."""

    __tablename__ = "municipalities"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    #: The section's own municipality: what a campaign's desks verify for mailing unless the
    #: campaign names others.
    is_home: Mapped[bool] = mapped_column(default=False, server_default=false())


#: The municipalities whose residents a campaign's desks can verify for mailing (Tochigi's
#: prefecture-office desks served several towns); none listed means the home municipality.
campaign_mailing_municipalities = Table(
    "campaign_mailing_municipalities",
    db.metadata,
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("municipality_code", ForeignKey("municipalities.code", ondelete="CASCADE"), primary_key=True),
)


class Application(Model):
    """The card application of one checked-in person (交付申請): what the clerk recorded, and,
    once handed in, how the card will reach them."""

    __tablename__ = "applications"
    __table_args__ = (
        CheckConstraint("delivery IS NULL OR delivery IN ('mail', 'counter')", name="delivery"),
        CheckConstraint("age_group IS NULL OR age_group IN ('under_1', 'under_15', 'adult')", name="age_group"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    check_in_id: Mapped[int] = mapped_column(ForeignKey("check_ins.id", ondelete="CASCADE"), unique=True)
    #: 申請書ID: 23 digits printed on the form and in its QR code. Not an individual number.
    application_id: Mapped[str | None] = mapped_column(String(23), unique=True)
    #: Codes of the identity documents the clerk saw.
    identity_documents: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The applicant entered the PIN at the desk (the one-A-document combination).
    pin_entered: Mapped[bool] = mapped_column(default=False)
    #: The sealed PIN request (暗証番号設定依頼書) was handed in.
    pin_form: Mapped[bool] = mapped_column(default=False)
    #: Old cards handed in (SURRENDERED_CARDS).
    surrendered: Mapped[list[str]] = mapped_column(JSON, default=list)
    address_change_planned: Mapped[bool] = mapped_column(default=False)
    #: An adult ward (成年被後見人) applies through a legal representative, like a child under 15.
    adult_ward: Mapped[bool] = mapped_column(default=False)
    #: Confirmed by the clerk for a dependent without a birth date on file.
    age_group: Mapped[str | None] = mapped_column(String(10))
    representative_name: Mapped[str] = mapped_column(String(100), default="")
    representative_relation: Mapped[str] = mapped_column(String(30), default="")
    representative_documents: Mapped[list[str]] = mapped_column(JSON, default=list)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Decided when handed in: mail, or counter with the reasons (codes) why not mail.
    delivery: Mapped[str | None] = mapped_column(String(10))
    delivery_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    check_in: Mapped[CheckIn] = relationship()
    submitted_by: Mapped[User | None] = relationship()

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None
