"""Wagtail admin registrations. Each feature registers its hooks in its own module, imported here."""
from .chooser import wagtail_hooks as chooser_hooks  # noqa: F401
from .learners import hooks as learner_hooks  # noqa: F401
from .media import hooks as media_hooks  # noqa: F401
from .playback import hooks as playback_hooks  # noqa: F401
from .stats import hooks as stats_hooks  # noqa: F401
from .sync import hooks as sync_hooks  # noqa: F401
