"""Pipelines and their stages (§7.1)."""

from __future__ import annotations

from typing import Any

from hubspot_sandbox.context import RequestContext
from hubspot_sandbox.errors import resource_not_found


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
