"""Composition root: builds the core objects from the environment, once per container."""

from __future__ import annotations

from functools import cache

from faceswap import aws
from faceswap.callbacks import Callbacks
from faceswap.finishing import Finisher
from faceswap.records import JobStore
from faceswap.results import ResultWriter


@cache
def store() -> JobStore:
    return JobStore(aws.jobs_table())


@cache
def results() -> ResultWriter:
    s = aws.settings()
    return ResultWriter(aws.s3(), s.bucket, s.results_prefix)


@cache
def finisher() -> Finisher:
    return Finisher(aws.s3(), aws.settings().bucket, store(), results())


@cache
def callbacks() -> Callbacks:
    return Callbacks(store(), aws.sfn())
