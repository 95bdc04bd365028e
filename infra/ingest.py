"""Ingest: an upload under jobs/ or videos/ starts the job (S3 notification → Start job), after the face pre-check
(Detect faces, its own asset) has looked for faces; events that fail after Lambda's retries wait in a queue."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_secretsmanager as sm
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from faceswap.layout import Env
from infra.bundling import DETECTOR_ASSET
from infra.config import PipelineConfig
from infra.functions import FunctionFactory, FunctionSpec
from infra.storage import dead_letter_queue

FACE_DETECTOR_TIMEOUT = Duration.seconds(60)  # a 30 s 1080p video takes ~2 s here; 4K a few times that
START_TIMEOUT = Duration.minutes(10)


class Ingest(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: PipelineConfig, factory: FunctionFactory,
                 bucket: s3.IBucket, jobs: ddb.ITable, api_key: sm.ISecret, job: sfn.IStateMachine) -> None:
        super().__init__(scope, construct_id)
        self._config, self._factory, self._bucket = config, factory, bucket
        self.dead_letters = dead_letter_queue(self, "StartJobDeadLetters")
        self.face_detector = self._face_detector() if config.face_precheck else None
        self.start_job = self._start_job(job)
        for prefix in (config.videos_prefix, config.faces_prefix, config.jobs_prefix):
            bucket.grant_read(self.start_job, f"{prefix}*")
        bucket.grant_put(self.start_job, f"{config.results_prefix}*")
        jobs.grant_read_write_data(self.start_job)
        api_key.grant_read(self.start_job)
        job.grant_start_execution(self.start_job)
        for prefix in (config.jobs_prefix, config.videos_prefix):
            bucket.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.LambdaDestination(self.start_job),
                                          s3.NotificationKeyFilter(prefix=prefix))
        if self.face_detector is not None:
            self._connect_face_precheck(self.start_job, self.face_detector)

    def _start_job(self, job: sfn.IStateMachine) -> lambda_.Function:
        # A claim held longer than the function can run belongs to a dead attempt (a minute of clock margin).
        claim_lease = START_TIMEOUT.to_seconds() + 60
        fn = self._factory.create(self, "StartJob", FunctionSpec(
            "start_job", "Validates an upload, creates the vendor task, starts the execution",
            START_TIMEOUT, 512, {Env.STATE_MACHINE_ARN: job.state_machine_arn,
                                 Env.START_TIMEOUT_SECONDS: str(int(claim_lease))}))
        fn.configure_async_invoke(retry_attempts=2, max_event_age=Duration.hours(6),
                                  on_failure=destinations.SqsDestination(self.dead_letters))
        return fn

    def _face_detector(self) -> lambda_.Function:
        """The face pre-check (its own asset: OpenCV); reads the inputs, nothing else."""
        c = self._config
        fn = self._factory.create(self, "DetectFaces", FunctionSpec(
            "detect_faces", "Face pre-check: OpenCV Haar cascade on sampled video frames and the face photo",
            FACE_DETECTOR_TIMEOUT, 2048, asset=DETECTOR_ASSET,
            # numpy's OpenBLAS starts a spinning thread per core at import (~150 ms of CPU here) for BLAS that the
            # Haar cascade never uses: one thread, so a cold start does not burn CPU the function pays for.
            environment={Env.OPENBLAS_NUM_THREADS: "1"}))
        # GetObject on the two prefixes, nothing else: it only reads objects the start function has found
        # (grant_read would add the bucket-wide s3:List* and GetBucket*).
        fn.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[
            self._bucket.arn_for_objects(f"{prefix}*") for prefix in (c.videos_prefix, c.faces_prefix)]))
        return fn

    def _connect_face_precheck(self, start: lambda_.Function, detector: lambda_.Function) -> None:
        """The start function calls the detector synchronously: this one function, no versions or aliases."""
        start.add_environment(Env.FACE_DETECTOR_FUNCTION, detector.function_name)
        start.add_environment(Env.FACE_PRECHECK_SAMPLES, str(self._config.face_precheck_samples))
        start.add_environment(Env.FACE_DETECTOR_TIMEOUT_SECONDS, str(int(FACE_DETECTOR_TIMEOUT.to_seconds())))
        start.add_to_role_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"],
                                                     resources=[detector.function_arn]))
