"""English message templates for every error code, marked for gettext extraction.

The English text here is the msgid; the Vietnamese text lives in the catalogue
``docexchange/translations/vi/LC_MESSAGES/messages.po``. Templates use ``{name}``
placeholders filled from the error's params. Nothing here calls gettext: rendering happens at
the edge (:mod:`docexchange.i18n`).
"""

from __future__ import annotations

__all__ = ["FIELD_LABELS", "MESSAGES", "N_"]


def N_(message: str) -> str:
    """Mark a string for extraction without translating it."""
    return message


MESSAGES: dict[str, str] = {
    # configuration
    "config_invalid_value": N_("Setting {name} has an invalid value."),
    "config_unknown_variable": N_("Unknown setting {name}."),
    "config_blob_store_needs_postgresql": N_(
        "DOCEXCHANGE_BLOB_STORE=database needs PostgreSQL; SQLite keeps files in the folder."
    ),
    "config_secret_in_instance": N_(
        "{name} names a file inside the instance folder; keep secrets outside it."
    ),
    "config_missing_secret": N_(
        "No session key: set DOCEXCHANGE_SECRET_KEY or run 'docexchange init' first."
    ),
    "database_not_ready": N_(
        "The database is not at the current schema revision: run 'docexchange init'."
    ),
    # generic request errors
    "invalid_json": N_("The request body must be a JSON object."),
    "storage_unavailable": N_(
        "The server cannot store files right now (disk full or read-only); nothing was lost. "
        "Try again later and tell the administrator."
    ),
    "json_too_deep": N_("The JSON is nested deeper than {limit} levels."),
    "invalid_unicode": N_("The text contains characters that are not valid Unicode."),
    "missing_field": N_("The field '{field}' is required."),
    "invalid_field": N_("The field '{field}' is invalid: {reason}."),
    # reasons inside invalid_field
    "reason_max_length": N_("at most {max_length} characters"),
    "reason_text": N_("text (in quotes), not a number or true/false"),
    "reason_length": N_("{low} to {high} characters"),
    "reason_not_updatable": N_("it cannot be changed"),
    "reason_non_empty_list": N_("a non-empty list is needed"),
    "reason_unit_closed": N_("unit {code} is closed"),
    "invalid_date": N_("The field '{field}' must be a date written YYYY-MM-DD."),
    "payload_too_large": N_("The upload is larger than the limit of {limit} bytes."),
    "route_not_found": N_("There is no such page or API call."),
    "method_not_allowed": N_("This method is not allowed here."),
    "internal_error": N_(
        "An internal error occurred. Quote reference {reference} when reporting it."
    ),
    "csrf_failed": N_("The form has expired or was not sent from this site. Please try again."),
    # authentication and authorisation
    "invalid_credentials": N_("Wrong username or password."),
    "too_many_attempts": N_(
        "Too many failed sign-ins for this account. Try again in {minutes} minutes."
    ),
    "too_many_attempts_client": N_(
        "Too many failed sign-ins from your address. Try again in {minutes} minutes."
    ),
    "authentication_required": N_("You must sign in first."),
    "password_change_required": N_(
        "Your password was reset: choose a new one before anything else."
    ),
    "totp_enrolment_required": N_(
        "Your role requires a second factor: set up an authenticator app before anything else."
    ),
    "totp_required": N_("Enter the code from your authenticator app (or a recovery code)."),
    "totp_invalid": N_("The code from the authenticator app is wrong or has expired."),
    "totp_used": N_("That code has signed in already; wait for the next one in the app."),
    "totp_already_enrolled": N_(
        "A second factor is already in force for this account; an administrator can remove it."
    ),
    "totp_not_enrolled": N_("Start setting up the authenticator app first."),
    "wrong_current_password": N_("Your current password is not right."),
    "cannot_deactivate_self": N_("You cannot stop your own account; ask another administrator."),
    "password_unchanged": N_("The new password must differ from the current one."),
    "token_invalid": N_("The access token is not valid."),
    "token_expired": N_("The access token has expired. Please sign in again."),
    "token_revoked": N_("The access token has been revoked. Please sign in again."),
    "role_required": N_("This action needs one of these roles: {roles}."),
    "unit_forbidden": N_("You may not see or change data of unit {code}."),
    "account_disabled": N_("Wrong username or password."),
    # directory
    "invalid_unit_code": N_(
        "'{code}' is not a valid identifier code (expected CCC.BB.AA.Xnn, e.g. 000.00.00.H45)."
    ),
    "invalid_unit_level": N_(
        "'{level}' is not a unit level (central, province, district, commune, department)."
    ),
    "invalid_parent_level": N_("A unit of level {level} cannot be placed under a {parent_level}."),
    "invalid_validity": N_("valid_to ({valid_to}) is before valid_from ({valid_from})."),
    "unit_not_found": N_("Unit {code} does not exist."),
    "parent_not_found": N_("Parent unit {code} does not exist."),
    "successor_not_found": N_("Successor unit {code} does not exist."),
    "unit_exists": N_("Unit {code} already exists."),
    "unit_cycle": N_("Placing unit {code} there would make the unit tree a cycle."),
    "unit_has_children": N_("Unit {code} still has child units."),
    "invalid_selector": N_(
        "'{selector}' is not a recipient: use a unit code, children:<code>, "
        "communes:<code> or group:<name>."
    ),
    "group_not_found": N_("There is no recipient group named '{name}'."),
    "group_exists": N_("A recipient group named '{name}' already exists."),
    "invalid_group_name": N_(
        "A group name is 1 to 64 letters, digits, '-', '_' or '.' (got '{name}')."
    ),
    "import_malformed": N_("Import file, row {row}: {reason}."),
    "import_not_json": N_("not JSON ({detail})"),
    "import_not_a_list": N_("expected a list of units or an object with 'units'"),
    "import_not_utf8": N_("the file is not UTF-8 text"),
    "import_missing_columns": N_("the header lacks the columns {columns}"),
    "import_bad_csv": N_("broken CSV ({detail})"),
    "import_not_an_object": N_("the row is not an object"),
    "import_too_many_fields": N_("the row has more fields than the header"),
    "import_duplicate_code": N_("unit {code} appears twice in the file"),
    "import_unsupported_format": N_("Import files must be CSV or JSON (got '{format}')."),
    "import_too_many_rows": N_("The import file has more than {limit} rows."),
    "import_empty": N_("The import file contains no units."),
    # accounts
    "user_exists": N_("User {username} already exists."),
    "user_not_found": N_("User {username} does not exist."),
    "invalid_role": N_("'{role}' is not a role (signer, clerk, specialist, admin, auditor)."),
    "invalid_username": N_(
        "A username is 3 to 64 lowercase letters, digits, '.', '_' or '-' (got '{username}')."
    ),
    "weak_password": N_("The password must be at least {min_length} characters long."),
    "common_password": N_(
        "This password is too easy to guess (a common one, or your username): choose another."
    ),
    "admin_credentials_missing": N_(
        "Set DOCEXCHANGE_ADMIN_USERNAME and DOCEXCHANGE_ADMIN_PASSWORD or answer the prompts."
    ),
    "demo_refused": N_(
        "The demo data can only be written to an instance in demo mode or to an empty one."
    ),
    # field reasons (continued)
    "reason_one_of": N_("one of {values}"),
    "reason_boolean": N_("true or false"),
    "reason_integer": N_("a whole number"),
    "reason_list": N_("a list"),
    "reason_object": N_("an object with named fields"),
    "reason_max_items": N_("at most {max_items} items"),
    "reason_at_least": N_("at least {limit}"),
    "reason_at_most": N_("at most {limit}"),
    "reason_format": N_("not in the expected form"),
    "reason_page_number": N_("a page number of the document"),
    "reason_iso_datetime": N_("a date and time with its zone, e.g. 2026-11-26T09:30:00+07:00"),
    # documents
    "invalid_doc_type": N_(
        "'{doc_type}' is not a document type of Decree 30/2020 (e.g. QĐ, TB, CV)."
    ),
    "invalid_character": N_(
        "The request contains a character that cannot be stored (NUL); remove it and try again."
    ),
    "document_not_a_draft": N_(
        "Only a draft can be submitted or returned; this document is already {state}."
    ),
    "document_submitted_to_another": N_(
        "This draft was submitted to another leader; only that leader signs or returns it."
    ),
    "reason_signer_of_unit": N_("a leader (signer) of unit {code}"),
    "signing_batch_stopped": N_(
        "Not signed: the batch stopped because the token failed or its certificate was revoked."
    ),
    "page_not_found": N_("The document has no page {page} that can be shown."),
    "image_not_found": N_("No image has been set yet."),
    "pdf_not_pdf": N_("The file is not a PDF."),
    "pdf_encrypted": N_("The PDF is encrypted; upload it without a password."),
    "pdf_broken": N_("The PDF is damaged and cannot be read."),
    "pdf_malformed": N_(
        "The PDF's page structure is malformed (too deep, circular or too large) and cannot "
        "be signed."
    ),
    "pdf_limits_exceeded": N_(
        "Reading this PDF needed more time or memory than the server allows; it was not stored."
    ),
    "document_not_found": N_("Document {id} does not exist or is not visible to you."),
    "document_not_signable": N_("Document {id} is {state} and can no longer be signed."),
    "document_already_signed": N_("You have already signed document {id}."),
    "document_not_issuable": N_(
        "Document {id} is {state}: only a document signed by its leader can be issued."
    ),
    "document_changed": N_(
        "Document {id} changed while you were signing it; open it again and sign the new version."
    ),
    "numbering_busy": N_("Numbering for unit {code} is busy; please try again."),
    "signing_failed": N_("Document {id} could not be signed."),
    # tokens
    "invalid_pin_format": N_("A PIN is 4 to 32 characters."),
    "pin_incorrect": N_("Wrong PIN. {attempts_left} attempts left before the token is locked."),
    "token_locked": N_("Token {label} is locked after too many wrong PINs; ask an administrator."),
    "token_not_found": N_("Token {label} does not exist or has no signing key."),
    "token_exists": N_("Token {label} already exists."),
    "backup_unsupported_database": N_("This database URL cannot be backed up."),
    "backup_tool_missing": N_("{tool} is not installed (apt-get install postgresql-client)."),
    "backup_tool_failed": N_("{tool} failed: {detail}"),
    "backup_manifest_missing": N_("{path} is not a docexchange backup (no readable manifest)."),
    "backup_damaged": N_("The backup does not verify ({count} problems; first: {first})."),
    "restore_target_not_empty": N_("Restore needs an empty target; {target} is not empty."),
    "restore_kind_differs": N_(
        "The backup holds a {backup} database; the target database is {target}."
    ),
    "restore_schema_differs": N_(
        "The backup holds schema {backup}; set DOCEXCHANGE_DATABASE_SCHEMA={backup} "
        "(the target names {target})."
    ),
    "so_pin_required": N_(
        "Give the security officer's PIN (SO PIN) for the new token: this server keeps none."
    ),
    "so_pin_file_unreadable": N_(
        "The SO PIN file named by DOCEXCHANGE_TOKEN_SO_PIN_FILE cannot be read; ask the operator."
    ),
    "token_unavailable": N_("Token {label} cannot be used right now."),
    "token_not_locked": N_("Token {label} is not locked."),
    "certificate_revoked": N_(
        "The certificate on token {label} has been revoked; signing refused."
    ),
    "invalid_tsa_request": N_("The time-stamp request cannot be read."),
    "certificate_unreadable": N_("A certificate of the chain cannot be read (PEM expected)."),
    "certificate_untrusted": N_("The certificate cannot be used to sign here ({reason})."),
    "signature_invalid": N_(
        "The signature does not match the certificate and the data prepared for it."
    ),
    "signing_session_not_found": N_("Signing session {id} does not exist."),
    "signing_session_closed": N_("Signing session {id} is already closed."),
    "signing_session_expired": N_("Signing session {id} has expired; start again."),
    "image_invalid": N_("The image must be a PNG file of at most 1 MB and 2000 pixels a side."),
    "image_not_transparent": N_("The image must have a transparent background (PNG with alpha)."),
    "trust_store_not_configured": N_("No trust folder is configured."),
    "not_a_ca_certificate": N_("Only a CA certificate (PEM or DER) can be a trust anchor."),
    "anchor_exists": N_("This certificate is trusted already ({fingerprint})."),
    "anchor_not_found": N_("No trusted certificate has the fingerprint {fingerprint}."),
    # exchange
    "peer_unknown": N_("This server does not know the peer presenting this token."),
    "recipient_not_here": N_("None of the recipients ({codes}) is served by this server."),
    "edxml_unsupported": N_("This edXML message is not supported yet: {what}."),
    "reason_non_empty": N_("it must not be empty"),
    "edxml_too_large": N_("The edXML package is larger than {limit} bytes."),
    "edxml_refused": N_("The edXML package is refused: {reason}."),
    "edxml_invalid": N_("The edXML package does not follow the QCVN 102 schema: {reason}."),
    "peer_not_authorised_for_sender": N_(
        "Peer server {peer} may not deliver documents on behalf of unit {code}."
    ),
    "secret_document": N_(
        "Secret documents are never sent electronically; register the paper copy instead."
    ),
    "no_recipients": N_("The document has no recipients to send to."),
    "document_not_issued": N_(
        "Document {id} is not issued yet: it needs its number and the organisation signature."
    ),
    "delivery_not_found": N_("No delivery {id} is visible to you."),
    "delivery_not_failed": N_("Delivery {id} has not failed; there is nothing to retry."),
    "status_move_not_allowed": N_("The status cannot go from {current} to {new}."),
    "invalid_status_code": N_("{code} is not a processing status code."),
    "reason_required_for_return": N_("a reason is required when returning a document"),
    "reason_person_of_unit": N_("a person of unit {code}"),
    "reason_not_in_future": N_("a day not after today"),
    "reason_not_in_past": N_("a day not before today"),
    "invalid_period": N_(
        "The period is not valid ({reason}): give from and to dates (at most three years apart) "
        "or a period: week, month, quarter, year."
    ),
    "reason_required_for_revocation": N_("a reason is required when revoking a document"),
    "forward_not_accepted": N_(
        "Only a document your unit has accepted (status 03 or later) can be forwarded."
    ),
    "forward_outside_subtree": N_(
        "Unit {code} is not under your unit; documents are forwarded to subordinate units only."
    ),
    "document_revoked": N_("Document {id} was revoked by its sender: {reason}"),
    "document_replaced": N_("Document {id} was replaced by a later document; use that one."),
    "document_not_sent": N_("Document {id} has not been sent; there is nothing to revoke."),
    "replaced_document_invalid": N_(
        "Document {id} cannot be replaced: it must be a document your unit sent and did not revoke."
    ),
    # verification reasons (codes in ValidationReport messages)
    "no_valid_personal_signature": N_("No valid personal signature."),
    "no_valid_organisation_signature": N_("No valid organisation signature."),
    "not_verified": N_("The signatures of this file have not been checked."),
    "pdf_unreadable": N_("The file cannot be read as a PDF."),
    "signature_cannot_validate": N_("This signature cannot be validated (damaged or unusual)."),
    "verification_timed_out": N_(
        "Checking this file took longer than the server allows; it is treated as not valid."
    ),
    "verification_limits_exceeded": N_(
        "Checking this file needed more memory than the server allows; it is treated as not valid."
    ),
    "signed_bytes_changed": N_("The signed content was changed after signing."),
    "signature_value_mismatch": N_("The signature value does not match the content."),
    "signature_timestamp_invalid": N_(
        "The signature's time stamp does not belong to this signature (copied or damaged)."
    ),
    "signing_certificate_revoked": N_("The signing certificate is revoked."),
    "changed_after_signing": N_(
        "The document was changed after this signature in a way not allowed."
    ),
    "bytes_after_signed_document": N_("Data was added after the end of the signed document."),
    "drawing_changed_after_signing": N_(
        "A change made after this signature alters how the signed pages are displayed."
    ),
    "signing_certificate_untrusted": N_("The signing certificate is not trusted here."),
    "signing_certificate_expired": N_(
        "The signing certificate has expired and no trusted time stamp proves the signature "
        "was made before."
    ),
    "signing_certificate_not_yet_valid": N_("The signing certificate was not yet valid."),
    "weak_algorithm": N_(
        "The signature uses an algorithm or key size that is no longer accepted (e.g. SHA-1, "
        "RSA-1024)."
    ),
    "revocation_unknown": N_(
        "Whether the signing certificate was revoked cannot be established now; try again later."
    ),
    "document_timestamp_invalid": N_("The document time stamp does not validate."),
    "certificate_not_registered": N_("The signing certificate is not registered to anyone here."),
    "seal_of_another_unit": N_("The organisation certificate belongs to another unit."),
    "signer_not_leader_of_sender": N_(
        "The signer was not a leader (signer) of the sending unit when signing."
    ),
    # audit
    "audit_event_changed": N_("The audit log is broken: event {seq} was changed."),
    "audit_event_inserted": N_("The audit log is broken: event {seq} was inserted."),
    "audit_event_removed": N_("The audit log is broken: event {seq} was removed."),
}


#: How a field is named in messages: never the code's own name (``drafting_unit``).
FIELD_LABELS: dict[str, str] = {
    "abbreviation": N_("abbreviation"),
    "active": N_("only units in force today"),
    "algorithm": N_("key algorithm"),
    "assignee": N_("assignee"),
    "instruction": N_("instruction"),
    "overdue": N_("overdue only"),
    "q": N_("search words"),
    "totp": N_("authenticator code"),
    "current_password": N_("current password"),
    "new_password": N_("new password"),
    "recipient": N_("recipient"),
    "page": N_("page"),
    "per_page": N_("rows per page"),
    "at": N_("moment of checking"),
    "certificate_chain": N_("certificate chain"),
    "certificate_pem": N_("certificate"),
    "code": N_("code"),
    "counterpart": N_("sender or recipient"),
    "date": N_("date"),
    "description": N_("description"),
    "direction": N_("direction (sent or received)"),
    "doc_type": N_("document type"),
    "document_ids": N_("documents to sign"),
    "drafting_unit": N_("drafting unit"),
    "due_date": N_("processing deadline"),
    "file": N_("file"),
    "first": N_("from date"),
    "format": N_("format"),
    "from": N_("from date"),
    "full_name": N_("full name"),
    "kind": N_("kind"),
    "last": N_("to date"),
    "level": N_("administrative level"),
    "members": N_("member units"),
    "metadata": N_("document details"),
    "name": N_("name"),
    "note": N_("note"),
    "number": N_("number and notation"),
    "paper_copy": N_("paper copy"),
    "parent": N_("parent unit"),
    "parent_code": N_("parent unit"),
    "password": N_("password"),
    "period": N_("period"),
    "pin": N_("PIN"),
    "so_pin": N_("security officer's PIN (SO PIN)"),
    "position": N_("position"),
    "RATIO_TARGETS": N_("ratio targets (RATIO_TARGETS)"),
    "reason": N_("reason"),
    "recipients": N_("recipients"),
    "replaces": N_("replaced document"),
    "roles": N_("roles"),
    "rollup": N_("sum up the subtree"),
    "scope": N_("scope"),
    "secrecy": N_("secrecy level"),
    "sender": N_("sender"),
    "signature": N_("signature"),
    "signer": N_("leader who signs"),
    "signature_page": N_("signature page"),
    "state": N_("state"),
    "status": N_("status"),
    "subject": N_("subject (trích yếu)"),
    "successor_code": N_("successor unit"),
    "to": N_("to date"),
    "unit": N_("unit"),
    "unit_code": N_("unit"),
    "urgency": N_("urgency"),
    "username": N_("username"),
    "valid_from": N_("valid from"),
    "valid_to": N_("valid until"),
    "X-Consignment-Id": N_("consignment id (X-Consignment-Id)"),
}
