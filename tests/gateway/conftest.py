from __future__ import annotations

import pytest

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
