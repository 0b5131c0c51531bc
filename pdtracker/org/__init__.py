"""Institutions, departments and teacher profiles."""
