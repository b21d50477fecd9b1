"""OpenLineage for sends and waits: the recipient or message file and the stop-list bases in,
a ``cascade://<gateway host>`` dataset named after the campaign out (and a wait's report
file), a run facet with counts and cost. Imported only from the operators' lineage methods,
so nothing changes without the OpenLineage provider."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from airflow.providers.common.compat.openlineage.facet import (
    Dataset,
    OutputDataset,
    OutputStatisticsOutputDatasetFacet,
    RunFacet,
)
from airflow.providers.openlineage.extractors import OperatorLineage
from attrs import define

from .ledger._report import public_url
from .reporting import CampaignFacts

SCHEMA_URL = (
    "https://github.com/airflow-provider-cascade/airflow-provider-cascade/blob/main/docs/"
    "after-the-campaign.md#cascadecampaign-run-facet"
)


@define
class CascadeCampaignRunFacet(RunFacet):
    """Counts and cost of one campaign's send or wait (decimal strings: exact)."""

    campaign: str
    gateway: str
    recipients: int
    fates: dict[str, int]
    finalStates: dict[str, int]  # OpenLineage facets are camelCase
    costByChannel: dict[str, str]
    costTotal: str
    report: str | None = None

    @staticmethod
    def _get_schema() -> str:
        return SCHEMA_URL


def file_dataset(url: str, rows: int | None = None) -> Any:
    """A file as OpenLineage names it: ``file`` + absolute path, or ``scheme://bucket`` + key
    (no credentials, no Airflow connection id); with ``rows``, an output with its count."""
    if "://" not in url:
        namespace, name = "file", os.path.abspath(os.path.expanduser(url))
    else:
        parts = urlsplit(public_url(url))
        if parts.scheme == "file":
            namespace, name = "file", parts.path
        else:
            namespace = f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"
            name = parts.path.lstrip("/")
    return _dataset(namespace, name, rows)


def _dataset(namespace: str, name: str, rows: int | None) -> Any:
    if rows is None:
        return Dataset(namespace=namespace, name=name)
    statistics = OutputStatisticsOutputDatasetFacet(rowCount=rows)
    return OutputDataset(namespace=namespace, name=name,
                         outputFacets={"outputStatistics": statistics})  # fmt: skip


def campaign_dataset(facts: CampaignFacts, with_statistics: bool) -> Any:
    """``cascade://<gateway host>``, named after the campaign; as an output, the accepted."""
    rows = int(facts.fates.get("accepted", 0)) if with_statistics else None
    return _dataset(f"cascade://{facts.gateway}", facts.campaign or "campaign", rows)


def run_facet(facts: CampaignFacts) -> Any:
    report = facts.report
    return CascadeCampaignRunFacet(
        campaign=facts.campaign,
        gateway=facts.gateway,
        recipients=sum(facts.fates.values()),
        fates=dict(sorted(facts.fates.items())),
        finalStates=dict(sorted(facts.final_states.items())),
        costByChannel={c: str(v) for c, v in sorted(facts.cost_by_channel.items())},
        costTotal=str(facts.cost_total),
        report=public_url(report.url) if report is not None else None,
    )


def send_lineage(facts: CampaignFacts | None) -> Any:
    """A send: its files and stop-list bases in, the campaign at the gateway out."""
    if facts is None:
        return OperatorLineage()
    inputs = [file_dataset(u) for u in facts.inputs]
    inputs += [
        Dataset(namespace=f"cascade://{facts.gateway}", name=f"base/{b}") for b in facts.stop_bases
    ]
    return OperatorLineage(
        inputs=inputs,
        outputs=[campaign_dataset(facts, with_statistics=True)],
        run_facets={"cascadeCampaign": run_facet(facts)},
    )


def wait_lineage(facts: CampaignFacts | None) -> Any:
    """A wait: the campaign at the gateway in, the delivery report out."""
    if facts is None:
        return OperatorLineage()
    outputs = []
    if facts.report is not None:
        outputs.append(file_dataset(facts.report.url, facts.report.rows))
    return OperatorLineage(
        inputs=[campaign_dataset(facts, with_statistics=False)],
        outputs=outputs,
        run_facets={"cascadeCampaign": run_facet(facts)},
    )
