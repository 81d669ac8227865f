"""The sandbox's keys and knobs, shared by the CLI, the in-process server and the Django mount."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# Kinds of Kollus platform callback, as the console names them.
CALLBACK_KINDS = ("upload", "transcoding", "content_update", "channel_add", "channel_delete")
# Player callbacks, set apart in the console (per channel): "all" does not include them.
# "progress" is Kollus's LMS callback (sandbox/lms.py).
PLAYER_CALLBACK_KINDS = ("play", "progress")
TARGET_KINDS = CALLBACK_KINDS + PLAYER_CALLBACK_KINDS

DEFAULT_CHANNEL_KEY = "sandbox-channel"
SECURE_CHANNEL_KEY = "sandbox-secure-channel"
DEFAULT_CATEGORY_KEY = "sandbox-category"


@dataclass
class SandboxKeys:
    """Demo credentials. They are not secret: the sandbox is a local emulator."""

    server_key: str = "sandbox-server-key"
    access_token: str = "sandbox-access-token"
    security_key: str = "sandbox-security-key"
    custom_key: str = "sandbox-custom-key"
    service_account_key: str = "sandbox-account"

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class SandboxConfig:
    keys: SandboxKeys = field(default_factory=SandboxKeys)
    contents: int = 300  # how many seeded content records
    seed: int = 20260101  # random seed of the generated records
    callback_urls: dict[str, str] = field(default_factory=dict)  # kind → URL
    callback_delay: float = 2.0  # seconds from upload to the transcoding callback
    callback_retry_interval: float = 300.0  # Kollus retries every 5 minutes
    callback_max_retries: int = 3  # ... up to 3 more times
    callback_timeout: float = 3.0  # Kollus wants an answer within 3 s
    state_file: str | None = None
    verbose: bool = False
