"""The Kollus video lifecycle inside Wagtail: library, upload, callbacks, replace, delete.

See ``docs/media.md`` (editors and site developers) and ``docs/callbacks.md`` (operators).
"""
