"""Admin-only views over staff users and API tokens; every change goes through services."""
from __future__ import annotations

from flask import flash, request
from flask_admin import expose
from flask_admin.actions import action
from flask_login import current_user
from wtforms import PasswordField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, Length

from console.admin.base import ConsoleModelView
from console.auth import services
from console.auth.models import ROLES, ApiToken, StaffUser
from console.auth.permissions import MANAGE_USERS



class StaffUserView(ConsoleModelView):
    permission = MANAGE_USERS
    can_create = True
    can_edit = True
    column_list = ("email", "name", "role", "team", "active", "last_login_at", "created_at")
    column_labels = {"active": "Enabled", "last_login_at": "Last login"}
    column_searchable_list = ("email",)
    column_filters = ("role", "active")
    column_default_sort = ("email", False)
    column_details_exclude_list = ("password_hash", "session_version")
    form_columns = ("email", "name", "role", "team", "active", "new_password")
    form_extra_fields = {
        "new_password": PasswordField("New password", validators=[Optional(), Length(min=services.MIN_PASSWORD_LENGTH,
                                                                                       max=500)],
                                      description="Leave empty to keep the current password."),
    }
    form_overrides = {"role": SelectField}
    form_args = {"role": {"choices": [SelectChoice(r, r.replace("_", " ")) for r in ROLES]}}

    def on_model_change(self, form, model: StaffUser, is_created: bool):
        model.email = services.normalize_email(model.email)
        if form.new_password.data:
            model.password_hash = services.hash_password(form.new_password.data)
        # object_data is the value the form was loaded with, so this is what the admin changed.
        model._changed = {} if is_created else {
            name: form[name].object_data for name in ("role", "active") if form[name].object_data != form[name].data
        }

    def after_model_change(self, form, model: StaffUser, is_created: bool):
        actor = current_user.email
        if is_created:
            services.record_event(self.session, actor=actor, action="user.create", subject_type="user",
                                  subject_id=model.id, details={"email": model.email, "role": model.role})
            return
        changed = getattr(model, "_changed", {})
        if "role" in changed:
            services.end_sessions(self.session, model)
            services.record_event(self.session, actor=actor, action="user.role_change", subject_type="user",
                                  subject_id=model.id,
                                  details={"email": model.email, "from": changed["role"], "to": model.role})
        if "active" in changed:
            services.end_sessions(self.session, model)
            services.record_event(self.session, actor=actor, action="user.enable" if model.active else "user.disable",
                                  subject_type="user", subject_id=model.id, details={"email": model.email})


class ApiTokenView(ConsoleModelView):
    permission = MANAGE_USERS
    column_list = ("user", "name", "prefix", "created_at", "revoked_at")
    column_labels = {"prefix": "Starts with", "revoked_at": "Revoked"}
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
                token = services.create_token(self.session, user, name, actor=current_user.email)
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
        flash(f"Revoked {count} token(s).", "success")
