"""Widgets of sign-in and of the Audit and Users pages."""
