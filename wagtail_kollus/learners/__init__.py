"""The admin side of learner progress: reports, the page editor's panel, and privacy (retention
purge, one learner's data export). The progress itself is recorded by ``wagtail_kollus.progress``."""
