"""Shared by every test folder: this folder is on ``sys.path`` (pytest puts a conftest's folder
there), so tests import the helpers beside it by name, e.g. ``from childproc import expect``."""
