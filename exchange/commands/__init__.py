"""Sub-commands of the ``exchange`` console script, one module per area.

Each module defines click commands and a ``register(group)`` function; the
console script imports every module of this package (see ``exchange.cli``).
"""
