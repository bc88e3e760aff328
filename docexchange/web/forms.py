"""WTForms forms for the UI (CSRF tokens come with Flask-WTF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional

from docexchange.domain.accounts import Role

# WTForms has no Vietnamese catalogue: every message a form can show comes from ours.
_REQUIRED = _l("Please fill in this field.")


def _required() -> DataRequired:
    return DataRequired(message=_REQUIRED)


def _length(*, min: int = -1, max: int = -1) -> Length:
    return Length(min=min, max=max, message=_l("Too long or too short for this field."))


__all__ = [
    "LoginForm",
    "PaperForm",
    "PersonTokenForm",
    "PinForm",
    "TrustAnchorForm",
    "UnitCloseForm",
    "UnitEditForm",
    "UnitForm",
    "UnitTokenForm",
    "UploadForm",
    "UserForm",
]


#: What each role is called on the pages (the API keeps the codes).
ROLE_LABELS = {
    Role.SIGNER: _l("Signer (leader)"),
    Role.CLERK: _l("Clerk"),
    Role.SPECIALIST: _l("Specialist"),
    Role.ADMIN: _l("Administrator"),
    Role.AUDITOR: _l("Auditor"),
}


class LoginForm(FlaskForm):  # type: ignore[misc]
    """Sign in with a username and password."""

    username = StringField(_l("Username"), validators=[_required(), _length(max=64)])
    password = PasswordField(_l("Password"), validators=[_required(), _length(max=1024)])
    totp = StringField(_l("Authenticator code (if enabled)"), validators=[_length(max=64)])


class PasswordChangeForm(FlaskForm):  # type: ignore[misc]
    """Change one's own password."""

    current_password = PasswordField(
        _l("Current password"), validators=[_required(), _length(max=1024)]
    )
    new_password = PasswordField(_l("New password"), validators=[_required(), _length(max=1024)])


class TotpForm(FlaskForm):  # type: ignore[misc]
    """A code from the authenticator app."""

    code = StringField(_l("Code from the app"), validators=[_required(), _length(max=64)])


class UserForm(FlaskForm):  # type: ignore[misc]
    """Admin: create an account in a unit."""

    username = StringField(_l("Username"), validators=[_required(), _length(max=64)])
    full_name = StringField(_l("Full name"), validators=[_required(), _length(max=100)])
    position = StringField(_l("Position"), validators=[_length(max=100)])
    unit_code = StringField(_l("Unit code"), validators=[_required(), _length(max=13)])
    password = PasswordField(_l("Password"), validators=[_required(), _length(max=1024)])
    roles = SelectMultipleField(
        _l("Roles"),
        choices=[SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()],
        validators=[_required()],
    )


class UploadForm(FlaskForm):  # type: ignore[misc]
    """Upload the final PDF of an outgoing document with its metadata."""

    file = FileField(
        _l("PDF file"),
        validators=[
            FileRequired(message=_l("Choose the PDF file.")),
            FileAllowed(["pdf"], _l("PDF only")),
        ],
    )
    subject = StringField(_l("Subject"), validators=[_required(), _length(max=500)])
    doc_type = SelectField(_l("Document type"), choices=[], validators=[_required()])
    drafting_unit = StringField(
        _l("Drafting unit (for official letters)"), validators=[_length(max=20)]
    )
    urgency = SelectField(
        _l("Urgency"),
        choices=[
            SelectChoice("normal", _l("Normal")),
            SelectChoice("khan", _l("Urgent")),
            SelectChoice("thuong_khan", _l("Very urgent")),
            SelectChoice("hoa_toc", _l("Immediate")),
        ],
    )
    secrecy = SelectField(
        _l("Secrecy"),
        choices=[
            SelectChoice("none", _l("Not secret")),
            SelectChoice("mat", _l("Secret (Mật)")),
            SelectChoice("toi_mat", _l("Top secret (Tối mật)")),
            SelectChoice("tuyet_mat", _l("Absolutely secret (Tuyệt mật)")),
        ],
    )
    due_date = StringField(
        _l("Processing deadline"),
        validators=[Optional(), _length(max=10)],
        render_kw={"type": "date"},
    )
    signature_page = IntegerField(
        _l("Page for the signatures (empty: the last page)"),
        validators=[Optional(), NumberRange(min=1, max=9999, message=_l("A page number from 1."))],
    )
    paper_copy = BooleanField(_l("A paper original is also sent"))


class PinForm(FlaskForm):  # type: ignore[misc]
    """The PIN of a token, for one signature."""

    pin = PasswordField(_l("Token PIN"), validators=[_required(), _length(min=4, max=32)])


def _pin_fields() -> tuple[PasswordField, PasswordField, PasswordField]:
    pin = PasswordField(
        _l("PIN for the new token"), validators=[_required(), _length(min=4, max=32)]
    )
    again = PasswordField(
        _l("The same PIN again"),
        validators=[_required(), EqualTo("pin", message=_l("The two PINs are not the same."))],
    )
    officer = PasswordField(
        _l("Security officer's PIN (SO PIN) for the new token"),
        validators=[Optional(), _length(min=4, max=32)],
    )
    return pin, again, officer


class PersonTokenForm(FlaskForm):  # type: ignore[misc]
    """Admin: a personal signing token for someone who has none."""

    # Any account or unit may be named; the service checks it (the list is only an offer).
    owner = SelectField(_l("Person"), choices=[], validators=[_required()], validate_choice=False)
    algorithm = SelectField(
        _l("Key type"),
        choices=[SelectChoice("rsa2048", "RSA 2048"), SelectChoice("ec-p256", "ECDSA P-256")],
    )
    pin, pin_again, so_pin = _pin_fields()


class UnitTokenForm(FlaskForm):  # type: ignore[misc]
    """Admin: a unit's organisation token (its digital seal)."""

    owner = SelectField(_l("Unit"), choices=[], validators=[_required()], validate_choice=False)
    pin, pin_again, so_pin = _pin_fields()


#: What each level is called on the pages.
LEVEL_LABELS = {
    "central": _l("central"),
    "province": _l("province"),
    "district": _l("district"),
    "commune": _l("commune"),
    "department": _l("department"),
}


def _unit_name_fields() -> tuple[StringField, StringField]:
    return (
        StringField(_l("Name"), validators=[_required(), _length(max=200)]),
        StringField(_l("Abbreviation"), validators=[_required(), _length(max=30)]),
    )


class UnitForm(FlaskForm):  # type: ignore[misc]
    """Admin: a new unit under the one on the page."""

    code = StringField(
        _l("Identifier code (e.g. 000.01.12.H45)"), validators=[_required(), _length(max=13)]
    )
    name, abbreviation = _unit_name_fields()
    level = SelectField(_l("Level"), choices=[SelectChoice(v, t) for v, t in LEVEL_LABELS.items()])
    valid_from = StringField(
        _l("In use from"), validators=[Optional(), _length(max=10)], render_kw={"type": "date"}
    )


class UnitEditForm(FlaskForm):  # type: ignore[misc]
    """Admin: rename a unit."""

    name, abbreviation = _unit_name_fields()


class UnitCloseForm(FlaskForm):  # type: ignore[misc]
    """Admin: close a unit on a day, naming the unit that takes over its work."""

    valid_to = StringField(
        _l("Last day in use"), validators=[_required(), _length(max=10)], render_kw={"type": "date"}
    )
    successor = SelectField(
        _l("Successor (takes over its work)"), choices=[], validate_choice=False
    )


class TrustAnchorForm(FlaskForm):  # type: ignore[misc]
    """Admin: trust a CA certificate, pasted as PEM or uploaded (PEM or DER)."""

    certificate_pem = TextAreaField(_l("Certificate (PEM)"), validators=[_length(max=100_000)])
    certificate_file = FileField(
        _l("or a certificate file"),
        validators=[FileAllowed(["pem", "crt", "cer", "der"], _l("A certificate file only"))],
    )


class PaperForm(FlaskForm):  # type: ignore[misc]
    """Clerk: a document sent or received on paper, for the register."""

    direction = SelectField(
        _l("Direction"),
        choices=[SelectChoice("received", _l("Received")), SelectChoice("sent", _l("Sent"))],
    )
    date = StringField(_l("Date (YYYY-MM-DD)"), validators=[_required(), _length(max=10)])
    number = StringField(_l("Number and notation"), validators=[_required(), _length(max=40)])
    subject = StringField(_l("Subject"), validators=[_required(), _length(max=500)])
    counterpart = StringField(
        _l("From / to (the other party)"), validators=[_required(), _length(max=200)]
    )
    secrecy = SelectField(
        _l("Secrecy"),
        choices=[
            SelectChoice("none", _l("Not secret")),
            SelectChoice("mat", _l("Secret (Mật)")),
            SelectChoice("toi_mat", _l("Top secret (Tối mật)")),
            SelectChoice("tuyet_mat", _l("Absolutely secret (Tuyệt mật)")),
        ],
    )
