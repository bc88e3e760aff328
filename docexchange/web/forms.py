"""WTForms forms for the UI (CSRF tokens come with Flask-WTF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectChoice, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length

__all__ = ["LoginForm", "UserForm"]


class LoginForm(FlaskForm):  # type: ignore[misc]
    """Sign in with a username and password."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


class UserForm(FlaskForm):  # type: ignore[misc]
    """Admin: create an account in a unit."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=100)])
    position = StringField(_l("Position"), validators=[Length(max=100)])
    unit_code = StringField(_l("Unit code"), validators=[DataRequired(), Length(max=13)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    roles = SelectMultipleField(
        _l("Roles"),
        choices=[
            SelectChoice("signer", _l("Signer (leader)")),
            SelectChoice("clerk", _l("Clerk")),
            SelectChoice("specialist", _l("Specialist")),
            SelectChoice("admin", _l("Administrator")),
            SelectChoice("auditor", _l("Auditor")),
        ],
        validators=[DataRequired()],
    )
