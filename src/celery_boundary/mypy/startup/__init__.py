"""Start-up phase: what the plugin learns once, when mypy creates it, before any code is checked.

``settings`` reads the configuration and builds the ``Settings`` every hook is given; ``appscan``
reads the Celery app module's source, ``discovery`` finds it when ``app`` is unset, ``memory``
keeps their conclusions in mypy's cache folder between runs, and ``version`` turns the inputs read
into the plugin's ``__version__``. Nothing here sees mypy's trees.
"""
