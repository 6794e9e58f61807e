"""Setting up (role admin): units, staff, dependents, venues, campaigns, sessions."""
from __future__ import annotations

from flask import abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from ..localtime import naive_as_tokyo
from ..services import campaigns, directory, invitations, staff_import
from ..web import request_actor
from . import bp, serialize
from .common import body, office
from .schemas import CampaignIn, DependentIn, SessionIn, UnitIn, VenueIn


@bp.post("/units")
@office("admin")
def create_unit() -> ResponseReturnValue:
    data = body(UnitIn)
    unit = directory.create_unit(request_actor(), code=data.code, name=data.name, parent_code=data.parent_code)
    return jsonify(serialize.unit(unit)), 201


@bp.post("/staff/import")
@office("admin")
def import_staff() -> ResponseReturnValue:
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if (request.content_length or 0) > limit:
        abort(413)
    # Without a Content-Length (chunked), Werkzeug stops reading at the limit
    # silently: read one byte more, so that a cut file is refused whole instead
    # of importing the lines before the cut (rule 9, all or nothing).
    request.max_content_length = limit + 1
    raw = request.get_data(cache=False)
    if len(raw) > limit:
        abort(413)
    result = staff_import.import_upload(request_actor(), raw)
    return jsonify(created=result.created, updated=result.updated, unchanged=result.unchanged)


@bp.get("/staff/<staff_number>/invitation")
@office("admin")
def staff_invitation(staff_number: str) -> ResponseReturnValue:
    staff = directory.staff_by_number(staff_number)
    return jsonify(code=invitations.code(staff), url=invitations.link_url(staff))


@bp.post("/staff/<staff_number>/dependents")
@office("admin")
def add_dependent(staff_number: str) -> ResponseReturnValue:
    staff = directory.staff_by_number(staff_number)
    data = body(DependentIn)
    dependent = directory.add_dependent(request_actor(), staff, **data.model_dump())
    return jsonify(serialize.dependent(dependent)), 201


@bp.post("/venues")
@office("admin")
def create_venue() -> ResponseReturnValue:
    data = body(VenueIn)
    venue = directory.create_venue(request_actor(), name=data.name, address=data.address,
                                   unit_code=data.unit_code, notes=data.notes)
    return jsonify(serialize.venue(venue)), 201


@bp.post("/campaigns")
@office("admin")
def create_campaign() -> ResponseReturnValue:
    data = body(CampaignIn)
    campaign = campaigns.create_campaign(
        request_actor(),
        title=data.title,
        booking_opens_at=naive_as_tokyo(data.booking_opens_at),
        booking_closes_at=naive_as_tokyo(data.booking_closes_at),
        published=data.published,
        what_to_bring=data.what_to_bring,
        cutoff_minutes=data.cutoff_minutes,
        contact_phone=data.contact_phone,
        no_show_grace_minutes=data.no_show_grace_minutes,
        target_unit_codes=data.target_unit_codes,
        allows_single_photo_id_with_pin=data.allows_single_photo_id_with_pin,
        mailing_municipality_codes=data.mailing_municipality_codes,
        reminder_minutes_before=data.reminder_minutes_before,
        waitlist_offer_minutes=data.waitlist_offer_minutes,
        desk_offline_keep_minutes=data.desk_offline_keep_minutes,
    )
    return jsonify(serialize.campaign(campaign)), 201


@bp.post("/campaigns/<int:campaign_id>/sessions")
@office("admin")
def create_session(campaign_id: int) -> ResponseReturnValue:
    campaign = campaigns.get_campaign(campaign_id)
    data = body(SessionIn)
    made = campaigns.add_session(
        request_actor(), campaign, venue_id=data.venue_id, day=data.date, start=data.start_time,
        end=data.end_time, slot_minutes=data.slot_minutes, desks=data.desks,
    )
    # Saved all the same: an integration cannot tick a box, so it is told what a person would be asked.
    return jsonify({**serialize.session(made.session), "warnings": [w.as_dict() for w in made.warnings]}), 201
