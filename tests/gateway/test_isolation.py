from __future__ import annotations

import subprocess
import sys


def test_gateway_imports_no_airflow() -> None:
    code = (
        "import sys, airflow_provider_cascade.gateway; "
        "print(sorted(m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_api_is_the_model_and_the_plumbing_is_in_codec() -> None:
    import airflow_provider_cascade.gateway as gateway
    import airflow_provider_cascade.gateway.codec as codec

    for name in [*gateway.__all__, *codec.__all__]:
        module = gateway if name in gateway.__all__ else codec
        assert getattr(module, name) is not None, name
    plumbing = {"HttpRequest", "HttpResponse", "SendBatch", "StateBatch", "CodecSettings",
                "make_codec", "redact_url", "JsonCodec"}  # fmt: skip
    assert plumbing <= set(codec.__all__)
    assert not plumbing & set(gateway.__all__)
    assert not {n for n in gateway.__all__ if n.startswith("_")}
