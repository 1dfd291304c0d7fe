"""A module that the runtime tests make sure is NEVER imported.

It defines a subclass of a registered base (``cb_runtime_models.Event``), so a decoder that imported
modules named by a message would find ``cb_runtime_gadget.Evil`` here and happily build it: importing
this module is the attack the runtime must not allow. Importing it records the fact.
"""

from cb_runtime_models import Event

IMPORTED = True


class Evil(Event):
    payload: str = "ran"
