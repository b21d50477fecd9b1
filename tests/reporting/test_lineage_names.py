"""How sends and waits name their datasets for OpenLineage, and that nothing of OpenLineage is
imported until Airflow asks for lineage."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

from airflow_provider_cascade.operators.cascade import CascadeSendBaseOperator
from airflow_provider_cascade.reporting import CampaignFacts


def test_files_are_named_by_bucket_and_key_or_absolute_path_without_credentials() -> None:
    from airflow_provider_cascade.lineage import file_dataset

    s3 = file_dataset("s3://aws_default@campaigns/2026/recipients.csv")
    assert (s3.namespace, s3.name) == ("s3://campaigns", "2026/recipients.csv")
    local = file_dataset("file:///data/recipients.csv")
    assert (local.namespace, local.name) == ("file", "/data/recipients.csv")
    https = file_dataset("https://user:pw-Secret-1@files.example/r.csv?token=tok-Secret-2")
    assert "pw-Secret-1" not in repr(https) and "tok-Secret-2" not in repr(https)


def test_a_base_campaign_reads_its_stop_lists_and_writes_the_campaign() -> None:
    from airflow_provider_cascade.lineage import send_lineage

    op = CascadeSendBaseOperator(task_id="t", bases=["1001"], stop_bases=["1003", 1004],
                                 channels=[{"channel": "sms", "sender": "S", "text": "x"}])  # fmt: skip
    facts = CampaignFacts(campaign="Autumn sale", gateway="gw.example:443",
                          fates=Counter(accepted=5, rejected=1),
                          stop_bases=op.lineage_stop_bases())  # fmt: skip
    lineage = send_lineage(facts)
    assert [(d.namespace, d.name) for d in lineage.inputs] == [
        ("cascade://gw.example:443", "base/1003"), ("cascade://gw.example:443", "base/1004")
    ]  # fmt: skip
    (out,) = lineage.outputs
    assert (out.namespace, out.name) == ("cascade://gw.example:443", "Autumn sale")
    assert out.outputFacets["outputStatistics"].rowCount == 5
    facet = lineage.run_facets["cascadeCampaign"]
    assert facet.fates == {"accepted": 5, "rejected": 1} and facet.recipients == 6


def test_operators_and_the_sensor_import_nothing_of_openlineage() -> None:
    code = (
        "import sys, airflow_provider_cascade.operators.cascade, "
        "airflow_provider_cascade.sensors.cascade; "
        "print(sorted(m for m in sys.modules if m.startswith(("
        "'openlineage', 'airflow.providers.openlineage.extractors', "
        "'airflow.providers.common.compat.openlineage', 'airflow_provider_cascade.lineage'))))"
    )  # Airflow's provider discovery reads the provider's info; nothing else is loaded
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
