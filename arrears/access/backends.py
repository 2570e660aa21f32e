"""Sign-in: Django's model backend, reading the user's profile (role, firm) with the user.

Every page asks the user's role; reading the profile in the same query as the user saves a query
on every request (`selectors.profile_of` uses what this loaded)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class ProfileBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        users = get_user_model()._default_manager.select_related("arrears_profile")
        user = users.filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
