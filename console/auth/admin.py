"""Admin-only views over staff users and API tokens; every change goes through services."""
from __future__ import annotations

from flask import flash, request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_login import current_user
from wtforms import PasswordField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, Length

from console.admin.base import ConsoleModelView
from console.auth import services
from console.auth.models import ROLES, ApiToken, StaffUser
from console.formatting import counted
from console.permissions import MANAGE_USERS, role_title


class StaffUserView(ConsoleModelView):
    permission = MANAGE_USERS
    can_create = True
    can_edit = True
    column_list = ("email", "name", "role", "team", "active", "last_login_at", "created_at")
    column_labels = {"active": "Enabled", "last_login_at": "Last login"}
    column_searchable_list = ("email",)
    column_filters = (FilterEqual(StaffUser.role, "Role", options=[(r, role_title(r)) for r in ROLES]), "active")
    column_formatters = {"role": lambda _view, _context, model, _name: role_title(model.role)}
    column_formatters_detail = column_formatters
    column_default_sort = ("email", False)
    column_details_exclude_list = ("password_hash", "session_version")
    form_columns = ("email", "name", "role", "team", "active", "new_password")
    form_extra_fields = {
        "new_password": PasswordField("New password", validators=[Optional(), Length(min=services.MIN_PASSWORD_LENGTH,
                                                                                       max=500)],
                                      description="Required for a new user; leave empty to keep the current password."),
    }
    form_overrides = {"role": SelectField}
    form_args = {"role": {"choices": [SelectChoice(r, role_title(r)) for r in ROLES]}}

    def create_model(self, form):
        try:
            return services.create_user(self.session, form.email.data, form.role.data, form.new_password.data,
                                        name=form.name.data or "", team=form.team.data or "",
                                        active=bool(form.active.data), actor=current_user.email)
        except services.AccountError as exc:
            return self._refuse(form, exc)

    def update_model(self, form, model: StaffUser) -> bool:
        changes = {name: form[name].data for name in ("email", "name", "team", "role")}
        changes["active"] = bool(form.active.data)
        if form.new_password.data:
            changes["password"] = form.new_password.data
        try:
            services.update_account(self.session, model, changes, actor=current_user.email)
        except services.AccountError as exc:
            return self._refuse(form, exc)
        return True

    def _refuse(self, form, exc: services.AccountError) -> bool:
        """Show the broken rule on its field; nothing was saved."""
        self.session.rollback()
        field = form._fields.get(_FORM_FIELD.get(exc.field, exc.field))
        if field is not None:
            field.errors = [*field.errors, str(exc)]
        flash(f"{exc.field}: {exc}", "error")
        return False


# The form field that shows a rule's error, where the names differ.
_FORM_FIELD = {"password": "new_password"}


class ApiTokenView(ConsoleModelView):
    permission = MANAGE_USERS
    column_list = ("user", "name", "prefix", "issued_by", "created_at", "revoked_at")
    column_labels = {"prefix": "Starts with", "revoked_at": "Revoked", "issued_by": "Issued by"}
    column_default_sort = ("created_at", True)
    column_details_exclude_list = ("token_hash",)
    column_exclude_list = ("token_hash",)

    list_template = "auth/token_list.html"

    @expose("/issue/", methods=("GET", "POST"))
    def issue(self):
        """Issue a token for a staff user; it is shown on this page once and stored only as a hash."""
        email = (request.form.get("email") or "").strip()
        name = (request.form.get("name") or "").strip()
        error = token = None
        if request.method == "POST":
            user = services.find_user(self.session, email)
            if user is None or not user.active:
                error = f"No enabled staff user with the email {email!r}."
            else:
                try:
                    token = services.create_token(self.session, user, name, actor=current_user._get_current_object())
                except services.AccountError as exc:
                    self.session.rollback()
                    error = str(exc)
        users = self.session.query(StaffUser).filter(StaffUser.active.is_(True)).order_by(StaffUser.email).all()
        return self.render("auth/token_issue.html", users=users, email=email, name=name, token=token,
                           error=error), (400 if error else 200)

    @action("revoke", "Revoke", "Revoke the selected tokens? Scripts using them stop working at once.")
    def action_revoke(self, ids):
        count = 0
        for token in self.session.query(ApiToken).filter(ApiToken.id.in_([int(i) for i in ids])):
            if token.revoked_at is None:
                services.revoke_token(self.session, token, actor=current_user.email)
                count += 1
        flash(f"Revoked {counted(count, 'token')}.", "success")
