"""Messages stored for editors, translated when they are shown, in the viewer's language.

A worker (django-q2 runs in ``settings.LANGUAGE_CODE``) or a view that stores a sentence for
editors to read later — why a sync failed, why a video failed, what became of a callback — does
not know who will read it. Translated when stored, it reaches an English editor of a Korean
site in Korean, and the log in Korean. So such a sentence is stored as a :class:`Message`: its
msgid and its parameters, translated by :meth:`Message.render` when a screen shows it.

How a message is stored: **two columns**. The row keeps its text column (``error_message``,
``last_error``) with the message in English, the msgid with its parameters filled in, and gains
a JSON column named after it with ``_i18n`` (``error_message_i18n``) holding the message
itself (:meth:`Message.as_json`). :func:`columns` gives both values for an ``update()``, a
``create()`` or a lease release; :func:`assign` sets them on an instance. The text column stays
a plain string because site code, the Django shell, the logs and the signals read it (a
receiver of ``video_failed`` reads ``instance.error_message``), and because rows written before
this module existed have only the text.

How a message is shown: :func:`shown` (``shown(row.error_message, row.error_message_i18n)``,
or the models' ``*_display`` properties). The JSON column is a translation of the text column,
used only while the two agree: a row whose text was written by code that knows nothing of the
JSON column (an older version, a site's own code, a helper that only cleared the text) shows
its text, never a stale message.

Three kinds of message:

* ``Message.gettext(msgid, **params)`` — the plugin's own words. Written like a ``gettext``
  call (``makemessages`` extracts it under the same name), ``%(name)s`` placeholders filled
  from ``params`` when shown.
* ``Message.ngettext(singular, plural, number, **params)`` — the same with plural forms.
* ``Message.verbatim(text)`` — words that came from outside: an API's own error text (the
  contents API's 422 message), a file name, an exception's text. Stored as they came and shown
  as they are. A plain string given as a parameter is verbatim too; a parameter that must be
  translated is itself a :class:`Message` (``reason=Message.gettext(...)``).

Logs stay English: log :meth:`Message.english`, never ``render()`` or ``str()`` (which, like a
lazy string, translate into the active language).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils import translation

logger = logging.getLogger(__name__)

#: The suffix of the JSON column that holds a text column's message.
I18N_SUFFIX = "_i18n"

Param = str | int | float | bool | None


@dataclass(frozen=True)
class Message:
    """One sentence for editors: a msgid and its parameters, or verbatim text."""

    msgid: str = ""
    plural: str = ""
    number: int | None = None
    params: Mapping[str, Param | Message] = field(default_factory=dict)
    text: str = ""

    # --- building ---------------------------------------------------------------------------
    @classmethod
    def gettext(cls, msgid: str, /, **params: Any) -> Message:
        """The plugin's own sentence, translated with ``gettext`` when shown."""
        return cls(msgid=msgid, params=_clean(params))

    @classmethod
    def ngettext(cls, singular: str, plural: str, number: int, /, **params: Any) -> Message:
        """A sentence with plural forms, translated with ``ngettext(…, number)`` when shown."""
        return cls(msgid=singular, plural=plural, number=int(number), params=_clean(params))

    @classmethod
    def verbatim(cls, text: str) -> Message:
        """Words from outside (an API's error text): stored and shown as they are."""
        return cls(text=str(text))

    # --- showing ----------------------------------------------------------------------------
    def render(self) -> str:
        """The message in the active language (the viewer's, in an admin view)."""
        return self._render(translate=True)

    def english(self) -> str:
        """The message in English, the language of the code: for logs and the text column."""
        return self._render(translate=False)

    def __str__(self) -> str:
        # Like a lazy translation: a template or a format string gets the active language.
        return self.render()

    def _render(self, *, translate: bool) -> str:
        if not self.msgid:
            return self.text
        values = {
            name: value._render(translate=translate) if isinstance(value, Message) else value
            for name, value in self.params.items()
        }
        english = self.plural if self.plural and self.number != 1 else self.msgid
        template = english
        if translate and self.plural:
            template = translation.ngettext(self.msgid, self.plural, self.number or 0)
        elif translate:
            template = translation.gettext(self.msgid)
        if not values:
            return template
        try:
            return template % values
        except (KeyError, ValueError, TypeError):
            # A catalogue whose placeholders do not match the msgid (another version's .po):
            # the English sentence rather than a 500 page.
            logger.warning("Stored message %r does not match its parameters", self.msgid)
        try:
            return english % values
        except (KeyError, ValueError, TypeError):
            return english

    # --- storing ----------------------------------------------------------------------------
    def as_json(self) -> dict[str, Any]:
        if not self.msgid:
            return {"text": self.text}
        data: dict[str, Any] = {"msgid": self.msgid}
        if self.plural:
            data.update(plural=self.plural, number=self.number)
        if self.params:
            data["params"] = {
                name: value.as_json() if isinstance(value, Message) else value
                for name, value in self.params.items()
            }
        return data

    @classmethod
    def from_json(cls, data: Any) -> Message | None:
        """The message stored by :meth:`as_json`; ``None`` for anything else (an empty column)."""
        if not isinstance(data, Mapping):
            return None
        if "msgid" not in data:
            return cls.verbatim(data["text"]) if isinstance(data.get("text"), str) else None
        msgid, plural, params = data.get("msgid"), data.get("plural") or "", data.get("params")
        if not isinstance(msgid, str) or not msgid or not isinstance(plural, str):
            return None
        values: dict[str, Param | Message] = {}
        for name, value in (params if isinstance(params, Mapping) else {}).items():
            if isinstance(value, Mapping):
                nested = cls.from_json(value)
                if nested is None:
                    return None
                values[str(name)] = nested
            else:
                values[str(name)] = value
        number = data.get("number")
        if plural and not isinstance(number, int):
            return None
        return cls(msgid=msgid, plural=plural, number=number if plural else None, params=values)


def _clean(params: Mapping[str, Any]) -> dict[str, Param | Message]:
    """Parameters as JSON can keep them: a message stays a message, anything else that is not a
    number or ``None`` becomes its text now (an exception, a lazy string), as it would print."""
    return {
        name: value
        if isinstance(value, Message | int | float | bool) or value is None
        else str(value)
        for name, value in params.items()
    }


def as_message(value: Message | str | None) -> Message | None:
    """``value`` as a message: a plain string is verbatim, an empty one is no message."""
    if value is None or isinstance(value, Message):
        return value
    return Message.verbatim(value) if value else None


def columns(field_name: str, value: Message | str | None) -> dict[str, Any]:
    """The values of text column ``field_name`` and of its ``_i18n`` column, for ``update()``,
    ``create()`` or a lease release: ``columns("error_message", None)`` clears both."""
    message = as_message(value)
    if message is None:
        return {field_name: "", field_name + I18N_SUFFIX: {}}
    return {field_name: message.english(), field_name + I18N_SUFFIX: message.as_json()}


def assign(instance: Any, field_name: str, value: Message | str | None) -> list[str]:
    """Set both columns on ``instance``; returns their names, for ``save(update_fields=...)``."""
    values = columns(field_name, value)
    for name, column_value in values.items():
        setattr(instance, name, column_value)
    return list(values)


def shown(text: str, data: Any) -> str:
    """What an editor reads for a stored message: translated into the active language while the
    JSON column ``data`` agrees with the text column ``text``, else the text as it is."""
    if not text:
        return ""
    message = Message.from_json(data)
    if message is None or message.english() != text:
        return text
    return message.render()


__all__ = ["I18N_SUFFIX", "Message", "as_message", "assign", "columns", "shown"]
