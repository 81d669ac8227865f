"""Who may see learner progress: Django's own "view" permission of ``LearnerProgress``.

Apart from the views so that the page editor's panel (imported by page models) can ask
without importing the admin's report views.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

PROGRESS_PERMISSION = "wagtail_kollus.view_learnerprogress"


def user_can_view_progress(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    return bool(user and user.is_active and user.has_perm(PROGRESS_PERMISSION))
