"""The domain as plain functions, shared by the pages, the JSON API and the CLI.

Services flush but never commit: the caller commits once per request, or rolls
back when a DomainError (or anything else) escapes.
"""
