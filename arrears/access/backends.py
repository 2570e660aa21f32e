"""Sign-in: Django's model backend, reading the user and the user's profile (role, firm) in one
hand-written query (see core.sql) on every request; `selectors.profile_of` uses what it read."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from arrears.access.models import Profile
from arrears.core import sql


class ProfileBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        users = get_user_model()
        found = list(
            users._default_manager.raw(
                f"SELECT u.*, p.id AS profile_pk, p.role AS profile_role, p.firm AS profile_firm"
                f" FROM {sql.table(users)} u LEFT JOIN {sql.table(Profile)} p ON p.user_id = u.id"
                " WHERE u.id = %s",
                [user_id],
            )
        )
        if not found or not self.user_can_authenticate(found[0]):
            return None
        user = found[0]
        pk, role, firm = (getattr(user, f"profile_{n}") for n in ("pk", "role", "firm"))
        user.arrears_profile = (
            None if pk is None else Profile(id=pk, user=user, role=role, firm=firm)
        )
        return user
