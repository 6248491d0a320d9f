"""The web tests' fixtures (real app, real SQLite file, staff accounts) for the stats pages."""

from tests.web.conftest import app, server, service, settings, visitor  # noqa: F401
