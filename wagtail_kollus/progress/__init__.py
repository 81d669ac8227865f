"""Learner progress from Kollus's LMS (progress) callback: per learner, video and lesson page.

``lms``: the callback's format (the assumptions about it, in one place) and its parsing;
``intervals``: merging watched seconds; ``store``: the one upsert per callback and the signals;
``callback``: the endpoint; ``lessons``: what the player and the template tags ask (resume
points, a page's videos and progress). See ``docs/progress.md``.
"""
