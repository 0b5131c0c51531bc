"""Dual-qualified progress: the pure engine, its adapter, dashboards and exports.

Importing this package loads nothing but the standard library, so the pure modules
(``engine``, ``forecast``, ``rulebook``…) stay light; the factory registers the
blueprint from :mod:`.views`.
"""
