"""The teacher's activity log and the head's verification queue.

The blueprint lives in ``views`` and is registered by the factory, so importing
a module of this package never loads the pages as a side effect.
"""
