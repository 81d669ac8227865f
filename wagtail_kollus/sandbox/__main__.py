"""``python -m wagtail_kollus.sandbox --port 8765``: run the sandbox alone (no Django needed)."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading

from .config import (
    CALLBACK_KINDS,
    DEFAULT_CATEGORY_KEY,
    DEFAULT_CHANNEL_KEY,
    TARGET_KINDS,
    SandboxConfig,
    SandboxKeys,
)
from .testing import SandboxServer


def build_parser() -> argparse.ArgumentParser:
    defaults = SandboxKeys()
    config = SandboxConfig()
    parser = argparse.ArgumentParser(
        prog="python -m wagtail_kollus.sandbox",
        description="Offline emulator of the contents API, the Kollus VOD API, its upload host, callbacks and player.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8765,
        help="port to bind; 0 picks a free one (default: %(default)s)",
    )
    parser.add_argument("--server-key", default=defaults.server_key, help="contents API bearer key")
    parser.add_argument(
        "--access-token", default=defaults.access_token, help="Kollus API access token"
    )
    parser.add_argument(
        "--security-key",
        default=defaults.security_key,
        help="Kollus security key (player JWT secret)",
    )
    parser.add_argument(
        "--custom-key", default=defaults.custom_key, help="Kollus custom (user) key"
    )
    parser.add_argument(
        "--service-account-key",
        default=defaults.service_account_key,
        help="content_provider_key sent in callbacks",
    )
    parser.add_argument(
        "--callback-url",
        action="append",
        default=[],
        metavar="[KIND=]URL",
        help=(
            f"where callbacks go; KIND is one of {', '.join(TARGET_KINDS)} (default: all, "
            "which is every kind but the player's play callback). Repeatable."
        ),
    )
    parser.add_argument(
        "--callback-delay",
        type=float,
        default=config.callback_delay,
        help="seconds from upload to transcoding result (default: %(default)s)",
    )
    parser.add_argument(
        "--callback-retry-interval",
        type=float,
        default=config.callback_retry_interval,
        help="seconds between callback retries (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        "--contents",
        dest="contents",
        type=int,
        default=config.contents,
        metavar="N",
        help="number of seeded content records (default: %(default)s)",
    )
    parser.add_argument(
        "--state-file", default=None, help="JSON file that keeps uploads and edits across restarts"
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="print each request's method and path (never query strings)",
    )
    return parser


def parse_callback_urls(values: list[str]) -> dict[str, str]:
    urls: dict[str, str] = {}
    for value in values:
        kind, sep, url = value.partition("=")
        if sep and kind in (*TARGET_KINDS, "all") and not kind.startswith("http"):
            targets = CALLBACK_KINDS if kind == "all" else (kind,)
        else:
            targets, url = CALLBACK_KINDS, value
        for name in targets:
            urls[name] = url
    return urls


def describe_callback_targets(callback_urls: dict[str, str]) -> str:
    """The configured targets as given: one template shown once, not five expanded copies."""
    if not callback_urls:
        return (
            "none (pass --callback-url http://your-site/kollus/callbacks/{kind}/<CALLBACK_TOKEN>/)"
        )
    platform = {kind: url for kind, url in callback_urls.items() if kind in CALLBACK_KINDS}
    templates = set(platform.values())
    if len(templates) == 1 and set(platform) == set(CALLBACK_KINDS):
        shown = [templates.pop()]
    else:
        shown = [f"{kind}: {url}" for kind, url in platform.items()]
    # The player's play callback, set apart as in Kollus's console.
    shown += [f"{kind}: {url}" for kind, url in callback_urls.items() if kind not in platform]
    return ", ".join(shown)


def banner(server: SandboxServer, contents: int) -> str:
    """What the command prints once it listens. The callback token shown is the one the
    targets carry (the site's), never an example token the site does not use."""
    keys = server.keys
    return (
        f"Kollus sandbox listening on {server.base_url}\n"
        f"  index         {server.base_url}/   (an HTML page of all this and the control API)\n"
        f"  contents API  {server.contents_api_url}   (Bearer {keys.server_key})\n"
        f"  Kollus API    {server.kollus_api_url}       (access_token={keys.access_token})\n"
        f"  upload host   {server.upload_url_prefix}/<token>\n"
        f"  player        {server.player_url}/s?jwt=...&custom_key={keys.custom_key}\n"
        f"  control       {server.base_url}/_sandbox\n"
        f"  security key  {keys.security_key}\n"
        f"  service account key (content_provider_key)  {keys.service_account_key}\n"
        f"  channel {DEFAULT_CHANNEL_KEY}, category {DEFAULT_CATEGORY_KEY}, {contents} seeded contents\n"
        f"  callbacks ->  {describe_callback_targets(server.config.callback_urls)}\n"
        "These are demo keys of a local emulator, not secrets."
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.contents < 0:
        print("--contents must be >= 0", file=sys.stderr)
        return 2
    server = SandboxServer(
        host=args.host,
        port=args.port,
        server_key=args.server_key,
        access_token=args.access_token,
        security_key=args.security_key,
        custom_key=args.custom_key,
        service_account_key=args.service_account_key,
        callback_urls=parse_callback_urls(args.callback_url),
        callback_delay=args.callback_delay,
        callback_retry_interval=args.callback_retry_interval,
        contents=args.contents,
        state_file=args.state_file,
        verbose=args.verbose,
    )
    try:
        server.start()
    except OSError as exc:
        print(f"Cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(banner(server, args.contents), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
