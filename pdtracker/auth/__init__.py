"""Accounts: login, logout, password change.

The blueprint lives in ``views`` and is registered by the factory, so importing
a module of this package never loads the pages as a side effect.
"""
