"""Viewing statistics in the Wagtail admin (dashboard panel, report, per-video view).

``service`` merges Kollus's live figures with the plugin's own daily snapshots; ``snapshots``
records those; ``charts`` draws SVG; ``views``/``panels``/``hooks`` are the admin side.
"""
