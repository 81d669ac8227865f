"""Views of the plugin: one module per feature (``player``, ``callbacks``, ``chooser``…)."""
