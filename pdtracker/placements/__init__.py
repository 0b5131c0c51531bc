"""Enterprise placements: planning, lifecycle, timeline, and the enterprise list.

The blueprint lives in ``views`` and is registered by the factory, so importing
a module of this package never loads the pages as a side effect.
"""
