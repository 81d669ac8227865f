"""``manage.py kollus_progress_export --user <id|username>``: one learner's progress, the data
a learner may ask for, as JSON (default) or CSV, to a file or the standard output.
"""

from __future__ import annotations

import csv
import json
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.management.base import BaseCommand, CommandError, CommandParser

from wagtail_kollus.learners import privacy


def find_user(value: str) -> AbstractBaseUser:
    """The user whose username is ``value``, else whose id is ``value``."""
    User = get_user_model()
    manager = User._default_manager
    user = manager.filter(**{User.USERNAME_FIELD: value}).first()
    if user is None and value.isdigit():
        user = manager.filter(pk=int(value)).first()
    if user is None:
        raise CommandError(f"No user with the username or id {value!r}.")
    return user


class Command(BaseCommand):
    help = "Write one learner's progress (every lesson and video) as JSON or CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="The learner's username or id.")
        parser.add_argument("--format", choices=("json", "csv"), default="json")
        parser.add_argument("--output", "-o", help="File to write (default: standard output).")

    def handle(self, *args: Any, **options: Any) -> None:
        user = find_user(options["user"])
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8", newline="") as handle:
                count = self.write(user, options["format"], handle)
            self.stderr.write(f"Wrote {count} progress row(s) to {options['output']}.")
        else:
            self.write(user, options["format"], self.stdout)

    def write(self, user, fmt: str, handle) -> int:
        if fmt == "json":
            data = privacy.learner_data(user)
            handle.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
            return len(data["progress"])
        writer = csv.DictWriter(handle, fieldnames=privacy.DATA_FIELDS)
        writer.writeheader()
        count = 0
        for row in privacy.learner_rows(user):
            writer.writerow({**row, "watched_intervals": json.dumps(row["watched_intervals"])})
            count += 1
        return count
