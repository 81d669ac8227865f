"""The video chooser: browse the contents API live, copy the chosen chapter item locally.

Modules: ``remote`` (the queryish over ``ContentsClient``, with caching), ``forms`` (search and
filters), ``language`` (the default language of the page being edited), ``copying`` (chosen item
→ ``KollusVideo`` row), ``rows`` and ``views`` (the modal), ``viewsets`` (registration),
``receivers`` (library videos chosen from the Upload tab follow their media).
"""
