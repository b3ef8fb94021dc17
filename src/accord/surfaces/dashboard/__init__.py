"""``accord dashboard``: a live web page of a namespace (extra ``accord[dashboard]``).

Server-rendered HTML, one small script and a style sheet shipped in ``static/`` (no
build step, nothing from a CDN), live over server-sent events from one :class:`Hub`
per server process. Modules: ``command`` (the CLI command; imports no extra),
``server`` (binds and runs uvicorn), ``app`` (the Starlette app and its routes),
``hub`` (what the server follows in the store), ``panels`` (the page's panels, a
registry), ``actions`` (changes, each behind the token), ``metrics`` (``/metrics``),
``html`` (escaping).
"""
