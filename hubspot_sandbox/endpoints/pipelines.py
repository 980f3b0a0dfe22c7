"""Pipelines and their stages (§7.1)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hubspot_sandbox.context import RequestContext
from hubspot_sandbox.errors import resource_not_found, validation_error


def list_pipelines(ctx: RequestContext) -> dict[str, Any]:
    return {"results": ctx.account.pipelines(ctx.object_type().type_id)}


def read_pipeline(ctx: RequestContext) -> dict[str, Any]:
    pipeline_id = ctx.params["pipelineId"]
    for pipeline in ctx.account.pipelines(ctx.object_type().type_id):
        if str(pipeline["id"]) == pipeline_id:
            return pipeline
    raise resource_not_found(f"Unable to find pipeline {pipeline_id}")


def list_stages(ctx: RequestContext) -> dict[str, Any]:
    return {"results": read_pipeline(ctx)["stages"]}


def read_stage(ctx: RequestContext) -> dict[str, Any]:
    stage_id = ctx.params["stageId"]
    for stage in read_pipeline(ctx)["stages"]:
        if str(stage["id"]) == stage_id:
            return stage
    raise resource_not_found(f"Unable to find stage {stage_id}")


# -- legacy pipelines (crm-pipelines v1, deals v1) -------------------------------------------------

LEGACY_OBJECT_TYPES = {"0-3": "DEAL", "0-5": "TICKET"}  # the only types the v1 endpoints serve
INCLUDE_INACTIVE = ("EXCLUDE_DELETED", "INCLUDE_DELETED")


def _epoch_ms(stamp: str) -> int:
    moment = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def _legacy_type(ctx: RequestContext) -> str:
    object_type = ctx.object_type()
    if object_type.type_id not in LEGACY_OBJECT_TYPES:
        raise validation_error(
            f"objectType must be one of: deals, tickets, but was {ctx.params['objectType']!r}",
            objectType=[ctx.params["objectType"]],
        )
    include = ctx.arg("includeInactive")
    if include is not None and include not in INCLUDE_INACTIVE:
        raise validation_error(
            f"includeInactive must be one of {', '.join(INCLUDE_INACTIVE)}, but was {include!r}",
            includeInactive=[include],
        )
    return object_type.type_id


def legacy_pipeline(pipeline: dict[str, Any], object_type_id: str) -> dict[str, Any]:
    """A v3 Pipeline dict in the crm-pipelines v1 shape (epoch-ms timestamps, `active`, `default`)."""
    return {
        "pipelineId": pipeline["id"],
        "createdAt": _epoch_ms(pipeline["createdAt"]),
        "updatedAt": _epoch_ms(pipeline["updatedAt"]),
        "objectType": LEGACY_OBJECT_TYPES[object_type_id],
        "objectTypeId": object_type_id,
        "label": pipeline["label"],
        "displayOrder": pipeline["displayOrder"],
        "active": not pipeline["archived"],
        "default": pipeline["displayOrder"] == 0,
        "stages": [
            {
                "stageId": stage["id"],
                "createdAt": _epoch_ms(stage["createdAt"]),
                "updatedAt": _epoch_ms(stage["updatedAt"]),
                "label": stage["label"],
                "displayOrder": stage["displayOrder"],
                "active": not stage["archived"],
                "metadata": dict(stage["metadata"]),
            }
            for stage in pipeline["stages"]
        ],
    }


def legacy_list_pipelines(ctx: RequestContext) -> dict[str, Any]:
    """`GET /crm-pipelines/v1/pipelines/{objectType}` (deals or tickets)."""
    type_id = _legacy_type(ctx)
    return {"results": [legacy_pipeline(p, type_id) for p in ctx.account.pipelines(type_id)]}


def deals_v1_pipelines(ctx: RequestContext) -> list[dict[str, Any]]:
    """`GET /deals/v1/pipelines`: a bare array; stage probabilities as numbers, `closedWon`."""
    out = []
    for pipeline in ctx.account.pipelines("0-3"):
        stages = []
        for stage in pipeline["stages"]:
            probability = float(stage["metadata"].get("probability", "0"))
            closed = stage["metadata"].get("isClosed") == "true"
            stages.append(
                {
                    "stageId": stage["id"],
                    "label": stage["label"],
                    "probability": probability,
                    "active": not stage["archived"],
                    "displayOrder": stage["displayOrder"],
                    "closedWon": closed and probability >= 1.0,
                }
            )
        out.append(
            {
                "pipelineId": pipeline["id"],
                "stages": stages,
                "label": pipeline["label"],
                "active": not pipeline["archived"],
                "displayOrder": pipeline["displayOrder"],
                "staticDefault": pipeline["id"] == "default",
            }
        )
    return out
