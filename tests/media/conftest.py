"""Fixtures for media tests: a local HTTPS server to download from (see ``tests.https_server``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.https_server import HTTPSFileServer


@pytest.fixture
def https_server() -> Iterator[HTTPSFileServer]:
    """A started HTTPS server on 127.0.0.1 (cert for localhost, 127.0.0.1, ::1, TEST_HOSTNAME).

    Function-scoped so that routes and request records never leak between tests; starting one
    costs a few milliseconds (the CA and certificate are made once per process).
    """
    with HTTPSFileServer() as server:
        yield server
