from __future__ import annotations

import os

import pytest
from hypothesis import settings

from airflow_provider_cascade.gateway import BearerToken, LoginPassword
from airflow_provider_cascade.gateway.codec import CodecSettings
from tests.golden import LOGIN, PASSWORD

HOST = "https://имя_хоста"


@pytest.fixture
def login_settings() -> CodecSettings:
    return CodecSettings(HOST, LoginPassword(LOGIN, PASSWORD))


@pytest.fixture
def token_settings() -> CodecSettings:
    return CodecSettings(HOST, BearerToken("tok-secret"))


# Reproducible property tests: the same examples on every run and machine (figures quoted in
# docs come from a named command, not from luck). HYPOTHESIS_PROFILE=explore for random runs.
settings.register_profile("derandomized", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "derandomized"))
