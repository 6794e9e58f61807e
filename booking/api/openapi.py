"""GET /api/v1/openapi.json: the OpenAPI 3.1 document, built from the schemas in schemas.py."""
from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from flask import Response, jsonify
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from . import bp
from . import schemas as s

REF = "#/components/schemas/{model}"


def _ref(model: type[BaseModel]) -> dict:
    return {"$ref": REF.format(model=model.__name__)}


def _json(model_or_schema: type[BaseModel] | dict) -> dict:
    schema = _ref(model_or_schema) if isinstance(model_or_schema, type) else model_or_schema
    return {"content": {"application/json": {"schema": schema}}}


def _error(description: str, model: type[BaseModel] = s.Error) -> dict:
    return {"description": description, **_json(model)}


def _op(summary: str, responses: dict, *, body: type[BaseModel] | dict | None = None, secured: bool = False,
        params: Iterable[dict] = (), tag: str = "booking") -> dict:
    op: dict[str, object] = {"summary": summary, "tags": [tag], "responses": responses}
    if body is not None:
        op["requestBody"] = {"required": True, **(_json(body) if isinstance(body, type) else body)}
        responses.setdefault("422", _error("Invalid fields or individual number refused"))
        responses.setdefault("413", _error("Body too large"))
    if secured:
        op["security"] = [{"bearer": []}]
        responses.setdefault("401", _error("Missing or invalid token"))
        responses.setdefault("403", _error("Role not allowed"))
    if params:
        parameters = list(params)
        op["parameters"] = parameters
        if any(param["in"] == "query" for param in parameters):
            # web.refuse_nul_characters: PostgreSQL cannot compare a NUL, so it never reaches a query.
            responses.setdefault("400", _error("bad_request: a query value holds a NUL character"))
    return op


def _path_param(name: str, schema: dict) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema}


CAMPAIGN_ID = _path_param("campaign_id", {"type": "integer", "minimum": 1})
STAFF_NUMBER = _path_param("staff_number", {"type": "string", "minLength": 1, "maxLength": 32})
CHECK_IN_ID = _path_param("check_in_id", {"type": "integer", "minimum": 1})
TOKEN = _path_param("token", {"type": "string", "minLength": 1, "maxLength": 64})
CSV_BODY = {"content": {"text/csv": {"schema": {"type": "string"}}}}
READINESS = {"content": {"application/json": {"schema": {
    "type": "object", "required": ["status", "failed", "checks"],
    "properties": {"status": {"type": "string", "enum": ["ready", "unavailable"]},
                   "failed": {"type": "array", "items": {"type": "string"}},
                   "checks": {"type": "object", "additionalProperties": {"type": "string"}}}}}}}


def _card_paths() -> dict:
    """The card's life (issue 18): the staff member's and a dependent's card."""
    dependent_id = _path_param("dependent_id", {"type": "integer", "minimum": 1})
    paths = {}
    for path, params, who in (("/api/v1/staff/{staff_number}/card", [STAFF_NUMBER], "A staff member's"),
                              ("/api/v1/staff/{staff_number}/dependents/{dependent_id}/card",
                               [STAFF_NUMBER, dependent_id], "A dependent's")):
        answer = {"200": {"description": "The card", **_json(s.CardOut)}, "404": _error("No such person")}
        paths[path] = {
            "get": _op(f"{who} card: stage, dates and the delivery the desk decided (roles admin, chief, hq)",
                       dict(answer), secured=True, params=params, tag="cards"),
            "post": _op(f"{who} card: record its next step and/or its expiry dates (roles admin, chief)",
                        {**answer, "409": _error("The card cannot take that step from its stage "
                                                 "(invalid_transition)")},
                        body=s.CardIn, secured=True, params=params, tag="cards"),
        }
    return paths


@cache
def document() -> dict:
    models: list[type[BaseModel]] = [
        s.UnitIn, s.DependentIn, s.VenueIn, s.CampaignIn, s.SessionIn, s.ReservationIn, s.RescheduleIn,
        s.Error, s.ImportErrorOut, s.UnitOut, s.ImportOut, s.InvitationOut, s.DependentOut, s.VenueOut,
        s.CampaignOut, s.SessionOut, s.NewSessionOut, s.ReservationOut, s.AlreadyReservedOut, s.MessageOut,
        s.CheckInIn, s.CheckInOut, s.PhotoOut, s.AlreadyCheckedInOut,
        s.ApplicationIn, s.ApplicationOut, s.IdentityDocumentOut, s.LegalRepresentativeIn, s.CardIn, s.CardOut,
        s.WaitlistIn, s.WaitlistEntryOut,
    ]
    _, defs = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    components = defs.get("$defs", {})
    campaign_brief = {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["id", "title", "booking_opens_at", "booking_closes_at"],
            "properties": {
                "id": {"type": "integer"},
                "title": {"type": "string"},
                "booking_opens_at": {"type": "string", "format": "date-time"},
                "booking_closes_at": {"type": "string", "format": "date-time"},
            },
        },
    }
    paths = {
        "/healthz": {"get": _op("Liveness", {"200": {"description": "ok"}}, tag="ops")},
        "/readyz": {"get": _op("Readiness: the database and, when configured, Redis", {
            "200": {"description": "Ready", **READINESS},
            "503": {"description": "Not ready: `failed` names the checks that failed", **READINESS}}, tag="ops")},
        "/api/v1/units": {"post": _op(
            "Create a unit", {"201": {"description": "The unit", **_json(s.UnitOut)},
                              "409": _error("Unit code taken")},
            body=s.UnitIn, secured=True, tag="setup")},
        "/api/v1/staff/import": {"post": _op(
            "Import staff from CSV (all or nothing)",
            {"200": {"description": "Counts", **_json(s.ImportOut)},
             "422": _error("Line errors; nothing imported", s.ImportErrorOut),
             "413": _error("Body too large")},
            body=CSV_BODY, secured=True, tag="setup")},
        "/api/v1/staff/{staff_number}/invitation": {"get": _op(
            "A staff member's invitation", {"200": {"description": "Code and link", **_json(s.InvitationOut)},
                                             "404": _error("No such staff member")},
            secured=True, params=[STAFF_NUMBER], tag="setup")},
        "/api/v1/staff/{staff_number}/dependents": {"post": _op(
            "Add a dependent", {"201": {"description": "The dependent", **_json(s.DependentOut)},
                                "404": _error("No such staff member")},
            body=s.DependentIn, secured=True, params=[STAFF_NUMBER], tag="setup")},
        **_card_paths(),
        "/api/v1/venues": {"post": _op(
            "Create a venue", {"201": {"description": "The venue", **_json(s.VenueOut)}},
            body=s.VenueIn, secured=True, tag="setup")},
        "/api/v1/campaigns": {
            "get": _op("Published campaigns", {"200": {"description": "Campaigns", **_json(campaign_brief)}}),
            "post": _op("Create a campaign", {"201": {"description": "The campaign", **_json(s.CampaignOut)}},
                        body=s.CampaignIn, secured=True, tag="setup"),
        },
        "/api/v1/campaigns/{campaign_id}/sessions": {
            "get": _op("A published campaign's sessions and slots",
                       {"200": {"description": "Sessions", **_json({"type": "array", "items": _ref(s.SessionOut)})},
                        "401": _error("Invalid token"),
                        "404": _error("No such published campaign")}, params=[CAMPAIGN_ID]),
            "post": _op("Add a session and its slots",
                        {"201": {"description": "The session, with warnings (an overlap at the venue, a start in "
                                                "the past): it is saved all the same", **_json(s.NewSessionOut)},
                         "404": _error("No such campaign")},
                        body=s.SessionIn, secured=True, params=[CAMPAIGN_ID], tag="setup"),
        },
        "/api/v1/reservations": {"post": {
            **_op("Book a slot (invitation code, or admin token for a phone booking)",
                  {"201": {"description": "The reservation", **_json(s.ReservationOut)},
                   "401": _error("Invalid token"),
                   "403": _error("Wrong invitation or not allowed"),
                   "404": _error("No such slot or staff member"),
                   "409": {"description": "slot_full or already_reserved",
                           **_json({"oneOf": [_ref(s.AlreadyReservedOut), _ref(s.Error)]})},
                   "429": _error("Too many wrong invitation codes")},
                  body=s.ReservationIn),
            "security": [{}, {"bearer": []}],
        }},
        "/api/v1/reservations/{token}": {"get": _op(
            "A reservation by its manage token",
            {"200": {"description": "The reservation", **_json(s.ReservationOut)},
             "404": _error("Unknown or tampered token"),
             "429": _error("Too many unknown tokens from this address")}, params=[TOKEN])},
        "/api/v1/reservations/{token}/cancel": {"post": _op(
            "Cancel", {"200": {"description": "Cancelled", **_json(s.ReservationOut)},
                       "404": _error("Unknown or tampered token"),
                       "409": _error("Already used at the desk"),
                       "429": _error("Too many unknown tokens from this address")}, params=[TOKEN])},
        "/api/v1/reservations/{token}/reschedule": {"post": _op(
            "Move to another slot", {"200": {"description": "Moved", **_json(s.ReservationOut)},
                                     "404": _error("Unknown token or slot"),
                                     "409": _error("slot_full; the booking is unchanged"),
                                     "429": _error("Too many unknown tokens from this address")},
            body=s.RescheduleIn, params=[TOKEN])},
        "/api/v1/waitlist": {"post": {
            **_op("Join a full session's waiting list with the whole party (invitation code, or admin token "
                  "for a caller)",
                  {"201": {"description": "The place on the list", **_json(s.WaitlistEntryOut)},
                   "401": _error("Invalid token"),
                   "403": _error("Wrong invitation or not allowed"),
                   "404": _error("No such session or staff member"),
                   "409": _error("seats_free: the party can book a time in the session now; already_waiting; "
                                 "already_reserved: the booking is in this session; booking_closed"),
                   "429": _error("Too many wrong invitation codes")},
                  body=s.WaitlistIn, tag="waitlist"),
            "security": [{}, {"bearer": []}],
        }},
        "/api/v1/waitlist/{token}": {"get": _op(
            "A place on a waiting list by its token: the place, or the offer and until when it holds",
            {"200": {"description": "The place", **_json(s.WaitlistEntryOut)},
             "404": _error("Unknown or tampered token"),
             "429": _error("Too many unknown tokens from this address")}, params=[TOKEN], tag="waitlist")},
        "/api/v1/waitlist/{token}/leave": {"post": _op(
            "Leave the list (seats held for the party go to the next one at once)",
            {"200": {"description": "The place, withdrawn", **_json(s.WaitlistEntryOut)},
             "404": _error("Unknown or tampered token"),
             "429": _error("Too many unknown tokens from this address")}, params=[TOKEN], tag="waitlist")},
        "/api/v1/waitlist/{token}/accept": {"post": _op(
            "Book the offered seats (or move the booking held in the campaign to them), with every rule of "
            "booking; accepting again answers with the same booking",
            {"200": {"description": "The reservation", **_json(s.ReservationOut)},
             "404": _error("Unknown or tampered token"),
             "409": _error("offer_closed (no open offer), offer_expired, or a booking refusal"),
             "429": _error("Too many unknown tokens from this address")}, params=[TOKEN], tag="waitlist")},
        "/api/v1/messages": {"get": _op(
            "The mail messages about a booking (or the newest, filtered by kind and status)",
            {"200": {"description": "Messages, oldest first", **_json({"type": "array", "items": _ref(s.MessageOut)})},
             "422": _error("invalid: an unknown kind or status")},
            secured=True, tag="setup", params=[
                {"name": "reservation_code", "in": "query", "required": False, "schema": {"type": "string"}},
                {"name": "kind", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": ["confirmation", "changed", "cancelled", "reminder", "approval", "address",
                                                    "digest", "waitlist_offer"]}},
                {"name": "status", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": ["queued", "sent", "failed", "not_sent"]}},
            ])},
        "/api/v1/checkins": {"post": _op(
            "Check in a reservation by its QR text or code (everyone on it unless people says who)",
            {"201": {"description": "Checked in", **_json(s.CheckInOut)},
             "400": _error("invalid_qr: not one of our QR codes, or altered"),
             "404": _error("not_found: no reservation has this code"),
             "409": {"description": "already_checked_in (with when and by whom), cancelled, or already_reserved "
                                    "(a no-show who has booked again; reservation_code is the new booking)",
                     **_json({"anyOf": [_ref(s.AlreadyCheckedInOut), _ref(s.Error)]})}},
            body=s.CheckInIn, secured=True, tag="desk")},
        "/api/v1/checkins/{check_in_id}/photo": {
            "post": _op(
                "Store the application photo of a checked-in person (a retake replaces it)",
                {"201": {"description": "The stored JPEG's size", **_json(s.PhotoOut)},
                 "404": _error("No such check-in"),
                 "413": _error("Body over the size limit (refused from Content-Length)"),
                 "422": _error("invalid_photo: not an image, too small, too large to decode or blank"),
                 "503": _error("photo_storage_full: the server's photo storage is full; nothing was saved")},
                body={"content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["photo"],
                    "properties": {"photo": {"type": "string", "format": "binary"}}}}}},
                secured=True, params=[CHECK_IN_ID], tag="desk"),
            "get": _op(
                "Download the stored photo (audited; Cache-Control: no-store)",
                {"200": {"description": "JPEG", "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}},
                 "404": _error("No such check-in or no photo")},
                secured=True, params=[CHECK_IN_ID], tag="desk"),
        },
        "/api/v1/identity-documents": {"get": _op(
            "The identity documents the desk records (A, B, notice): the built-in list with the section's changes",
            {"200": {"description": "The documents", **_json({"type": "array", "items": _ref(s.IdentityDocumentOut)})}},
            secured=True, tag="desk")},
        "/api/v1/checkins/{check_in_id}/application": {
            "post": _op(
                "Record what the clerk checked for the application (only the fields given); submitted: true "
                "hands it in (needs the 申請書ID and a photo, none under 1) and makes the card status applied",
                {"200": {"description": "The record, with mail or counter and why", **_json(s.ApplicationOut)},
                 "404": _error("No such check-in"),
                 "409": _error("application_incomplete: missing lists what handing in still needs"),
                 "422": _error("invalid (fields.application_id: not 23 digits, or recorded for someone else; "
                               "unknown documents) or individual_number_refused")},
                body=s.ApplicationIn, secured=True, params=[CHECK_IN_ID], tag="desk"),
            "get": _op(
                "The application record of a check-in, with mail or counter as things stand",
                {"200": {"description": "The record", **_json(s.ApplicationOut)}, "404": _error("No such check-in")},
                secured=True, params=[CHECK_IN_ID], tag="desk"),
        },
        # Rosters and reports (chief, admin, hq): CSV, UTF-8 with BOM; a chief's rows stop at their units.
        "/api/v1/sessions/{session_id}/roster.csv": {"get": _op(
            "A session's roster: one row per person in time order (time, code, staff_number, name, kana, "
            "unit, crew, kind, status). Roles chief (their units' people), admin and hq (everyone)",
            {"200": {"description": "CSV, UTF-8 with BOM", "content": {"text/csv": {"schema": {"type": "string"}}}},
             "404": _error("No such session")},
            secured=True, params=[_path_param("session_id", {"type": "integer", "minimum": 1})], tag="reports")},
        "/api/v1/reports/status.csv": {"get": _op(
            "Card status per unit as of a day (unit_code, unit, staff, staff_applied, staff_received, dependents, "
            "dependents_applied, dependents_received, application_rate, acquisition_rate); applied counts "
            "holders too, rates are percentages of staff and dependents with one decimal. Roles chief (their "
            "units), admin and hq (every unit)",
            {"200": {"description": "CSV, UTF-8 with BOM", "content": {"text/csv": {"schema": {"type": "string"}}}},
             "422": _error("as_of is not a date, or expiring_months not 1 to 120")},
            secured=True, params=[{"name": "as_of", "in": "query", "required": False,
                                   "schema": {"type": "string", "format": "date"}},
                                  {"name": "expiring_months", "in": "query", "required": False,
                                   "description": "The window of the columns after API.md's (issue 18): "
                                                  "staff_valid_card, staff_card_expiring, staff_certificates_due, "
                                                  "dependents_valid_card, dependents_card_expiring, "
                                                  "dependents_certificates_due; default 3",
                                   "schema": {"type": "integer", "minimum": 1, "maximum": 120}}],
            tag="reports")},
        "/api/v1/openapi.json": {"get": _op("This document", {"200": {"description": "OpenAPI 3.1"}}, tag="ops")},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Outreach Desk API",
            "version": "1",
            "description": "On-site My Number card application desks: setting up, browsing and booking.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


@bp.get("/openapi.json")
def openapi_document() -> Response:
    return jsonify(document())
