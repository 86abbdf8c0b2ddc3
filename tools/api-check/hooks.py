"""The API check's own rule for schema-valid requests (loaded by schemathesis.toml).

schemathesis's `positive_data_acceptance` fails a schema-valid request answered with any
status outside a list, per operation at best. Our document states every rule a schema can
state (docs/http.md, "What the OpenAPI document states and what it cannot"), and the rules
it cannot state are answered 422 `validation_failed` with their own violation codes. So
this check replaces it with a narrower one: a schema-valid request may be refused only

- with 401, 403, 404, 409 or 429 (no session or scope, unknown ids, state conflicts,
  throttling: the same statuses schemathesis allows by default), or
- with 422 whose every violation is a rule the document cannot state and that this
  operation has (`STATE_RULES` below), or `control_character` when the request really
  holds such a character where the document cannot forbid it (the name of a property
  the operation does not declare: OpenAPI 3.0 has no `propertyNames`; every declared
  string field, path and query parameter is declared without control characters).

Anything else (a 400, a 422 for a rule the schema states, a 422 on an operation without
such rules) is a failure: the document promised more than the server accepts.
"""

import schemathesis

# The rules of each operation that a schema cannot state: they depend on the stored
# state (an unknown library, a date relative to today, a Password already used), on
# several fields together (an end before a start), or on lists and checks no pattern
# expresses (common passwords, ISBN check digits, IP ranges). Keep this list exact: a
# code here is a decision, written down in docs/http.md.
STATE_RULES = {
    # Staff and credentials.
    "POST /api/v1/staff/users": {
        "missing_uppercase", "missing_lowercase", "missing_digit", "common_password",
        "contains_personal_info", "context_word",
    },
    "POST /api/v1/patrons": {
        "phone_invalid", "phone_too_short", "email_invalid", "date_of_birth_in_future",
        "unknown_library",
    },
    "PATCH /api/v1/patrons/{card_number}": {
        "phone_invalid", "phone_too_short", "email_invalid", "unknown_library",
    },
    "GET /api/v1/patrons": {"criteria_missing"},
    "PUT /api/v1/me/password": {
        "too_short", "too_long", "missing_uppercase", "missing_lowercase", "missing_digit",
        "common_password", "contains_personal_info", "context_word", "same_as_current",
    },
    "PUT /api/v1/me/pin": {"not_digits", "too_short", "too_long", "trivial_pin", "same_as_current"},
    "PUT /api/v1/me/settings": {"email_invalid", "sms_number_invalid", "no_channel_address"},
    "POST /api/v1/sip2/stations": {"allowed_addresses_invalid", "unknown_library"},
    "PATCH /api/v1/sip2/stations/{username}": {"allowed_addresses_invalid"},
    # Libraries, calendars, hours.
    "POST /api/v1/libraries/{code}/closures": {
        "to_before_from", "move_date_before_closure", "move_date_in_closure",
        "move_date_closed", "move_date_too_late", "no_open_day_after_closure",
    },
    "POST /api/v1/libraries/{code}/closures/preview": {
        "to_before_from", "move_date_before_closure", "move_date_in_closure",
        "move_date_closed", "move_date_too_late", "no_open_day_after_closure",
    },
    "POST /api/v1/libraries/{code}/calendar": {
        "weekday_missing", "month_missing", "day_missing", "from_missing", "to_missing",
        "date_missing", "month_invalid", "no_such_day", "to_before_from",
    },
    "PUT /api/v1/libraries/{code}/hours": {"hours_invalid", "hours_overlap", "hours_too_many"},
    "POST /api/v1/libraries/{code}/special-hours": {
        "to_before_from", "special_pattern_invalid", "hours_invalid", "hours_overlap",
        "hours_too_many",
    },
    "PUT /api/v1/libraries/{code}/sections/{section}": {
        "section_invalid", "to_before_from", "hours_invalid", "hours_overlap", "hours_too_many",
    },
    "POST /api/v1/reopenings": {
        "libraries_missing", "unknown_library", "section_twice", "to_before_from",
        "special_pattern_invalid", "hours_invalid", "hours_overlap", "hours_too_many",
        "title_missing", "body_missing",
    },
    "POST /api/v1/visitors": {"unknown_library", "visited_at_invalid"},
    "POST /api/v1/libraries/{code}/visitors": {"visited_at_invalid"},
    "GET /api/v1/visitors": {"to_before_from", "range_too_long"},
    # Catalogue and circulation.
    "POST /api/v1/catalog/titles": {"isbn_invalid"},
    "POST /api/v1/catalog/items": {"title_id_unknown", "home_library_unknown"},
    "GET /api/v1/catalog/search": {"q_missing", "unknown_library"},
    "POST /api/v1/circulation/checkouts": {"unknown_library"},
    "POST /api/v1/circulation/checkins": {
        "unknown_library", "returned_at_in_future", "returned_at_before_checkout",
    },
    "POST /api/v1/circulation/holds/{id}/collection": {"unknown_library"},
    # A rule's name and value: the rules are a map, by name.
    "PUT /api/v1/circulation/rules": {"unknown_rule", "rule_value_invalid"},
    "POST /api/v1/me/holds": {"unknown_library", "not_needed_after_in_past", "not_needed_after_too_far"},
    "POST /api/v1/patrons/{card_number}/holds": {
        "unknown_library", "not_needed_after_in_past", "not_needed_after_too_far",
    },
    "PATCH /api/v1/me/holds/{id}": {
        "hold_not_queued", "suspended_until_not_after_today", "suspended_until_too_far",
        "not_needed_after_in_past", "not_needed_after_too_far",
    },
    "PATCH /api/v1/patrons/{card_number}/holds/{id}": {
        "hold_not_queued", "suspended_until_not_after_today", "suspended_until_too_far",
        "not_needed_after_in_past", "not_needed_after_too_far",
    },
    # Fines.
    "POST /api/v1/fine-suspensions": {"resumes_on_not_after_starts_on", "unknown_library"},
    "POST /api/v1/fine-suspensions/preview": {"resumes_on_not_after_starts_on", "unknown_library"},
    "PATCH /api/v1/fine-suspensions/{id}": {"resumes_on_not_after_starts_on"},
    "POST /api/v1/patrons/{card_number}/payments": {"amount_exceeds_outstanding"},
    "POST /api/v1/fines/{id}/waiver": {"nothing_outstanding"},
    # Reader services.
    "POST /api/v1/activities": {
        "unknown_library", "ends_at_not_after_starts_at", "starts_at_in_past",
        "registration_closes_after_start",
    },
    "POST /api/v1/enquiries": {"unknown_library"},
    "POST /api/v1/notices": {"unknown_library", "expires_on_before_published_on", "expires_on_in_past"},
    "GET /api/v1/reports/circulation": {"from_missing", "to_missing", "to_before_from", "period_too_long", "unknown_library"},
    "GET /api/v1/reports/fines": {"from_missing", "to_missing", "to_before_from", "period_too_long", "unknown_library"},
    "GET /api/v1/reports/overdue": {"unknown_library"},
    # Study rooms.
    "POST /api/v1/study-room-schemes": {
        "unknown_library", "window_invalid", "validity_invalid", "validity_before_window_closes",
        "extended_hours_invalid",
    },
    "POST /api/v1/study-room-schemes/{id}/applications": {"postmark_in_future"},
    "POST /api/v1/study-room-applications/{id}/decision": {"reason_missing"},
}

# Statuses a schema-valid request may get on any operation (schemathesis's own default
# list, without 2xx/3xx which are acceptance, and without 5xx, which
# `not_a_server_error` reports).
ALLOWED_REFUSALS = {401, 403, 404, 409, 429}


def _refused(c):
    """A character the server refuses in any text (crates/http/src/text.rs)."""
    code = ord(c)
    return (code < 0x20 and c not in "\t\n\r") or 0x7F <= code <= 0x9F


def _holds_refused(value):
    if isinstance(value, str):
        return any(_refused(c) for c in value)
    if isinstance(value, dict):
        return any(_holds_refused(k) or _holds_refused(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_holds_refused(v) for v in value)
    return False


def _request_holds_refused(case):
    return any(
        _holds_refused(part)
        for part in (case.body, case.query, case.path_parameters)
        if part is not None and not isinstance(part, bytes)
    )


@schemathesis.check
def positive_data_refused_only_for_stated_reasons(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    status = response.status_code
    if status < 400 or status >= 500 or status in ALLOWED_REFUSALS:
        return None
    label = f"{case.method.upper()} {case.operation.path}"
    if status == 422:
        try:
            body = response.json()
        except Exception:  # noqa: BLE001 - any unreadable body is a failure below
            body = {}
        violations = set(body.get("violations") or [])
        allowed = set(STATE_RULES.get(label, ()))
        if _request_holds_refused(case):
            allowed.add("control_character")
        if violations and violations <= allowed:
            return None
        unexplained = sorted(violations - allowed) or ["(none)"]
        raise AssertionError(
            f"Schema-valid request refused with 422 {', '.join(unexplained)}: "
            "the document should state this rule (or, if no schema can, "
            "tools/api-check/hooks.py STATE_RULES and docs/http.md should name it)"
        )
    raise AssertionError(f"Schema-valid request refused with {status}")
