"""An offline emulator of the contents API, the Kollus VOD API, its upload host, its platform
callbacks and its JWT player. See ``docs/sandbox.md``.

Run it alone with ``python -m wagtail_kollus.sandbox --port 8765``, start it inside tests with
:class:`wagtail_kollus.sandbox.testing.SandboxServer`, or mount it in a Django URLconf with
``path("sandbox/", include("wagtail_kollus.sandbox.urls"))``. It never touches a database.
"""
