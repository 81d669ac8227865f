"""What a headless front end needs to play a Kollus video (``docs/headless.md``).

* :mod:`.player` — the block's ``player`` output, shared by Wagtail's API v2 and GraphQL: a
  player URL minted for the requesting viewer (the playback policy asked), or the cache-safe
  reference and the token endpoint;
* :mod:`.api` — ``KollusPagesAPIViewSet``: Wagtail's pages endpoint, telling the block which
  page it is on and keeping per-viewer answers out of shared caches;
* :mod:`.graphql` — the wagtail-grapple type of ``KollusVideoBlock`` (``pip install
  wagtail-kollus[graphql]``), registered when grapple is installed.
"""
