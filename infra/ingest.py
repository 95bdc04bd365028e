"""Ingest: an upload under jobs/ or videos/ becomes a message of the start queue (S3 → SQS); the start function takes
messages as Lambda polls them, checks the files (the face pre-check is Detect faces, its own asset), admits the job
in front of the vendor or sends it back to the queue to wait, and starts it. Messages that keep failing go to the
dead-letter queue; waiting never does (a waiting job is a new message, see faceswap.requeue)."""

from __future__ import annotations

import jsii
from aws_cdk import Aws, Duration
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as sm
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.interfaces.aws_s3 import IBucketRef
from constructs import Construct

from faceswap import layout
from faceswap.layout import Env
from infra.bundling import DETECTOR_ASSET
from infra.config import PipelineConfig
from infra.functions import FunctionFactory, FunctionSpec
from infra.grants import grant_items, grant_object_writes, grant_secret_value
from infra.storage import dead_letter_queue

FACE_DETECTOR_TIMEOUT = Duration.seconds(60)  # a 30 s 1080p video takes ~2 s here; 4K a few times that
# Checks, the face pre-check and two streamed uploads of <= 100 MB + 10 MB; url mode needs seconds.
START_TIMEOUT = Duration.minutes(5)
# A claim (and an admission slot before the task exists) older than this belongs to a dead attempt: the function's
# timeout and a minute of clock margin.
START_LEASE_SECONDS = int(START_TIMEOUT.to_seconds()) + 60
# AWS asks for a visibility timeout of at least six times the function's, so that throttled batches can be retried.
START_QUEUE_VISIBILITY = Duration.seconds(6 * START_TIMEOUT.to_seconds())
MAX_RECEIVES = 3  # deliveries of a message that fails (a crash, an error) before it goes to the dead letters


class Ingest(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: PipelineConfig, factory: FunctionFactory,
                 bucket: s3.IBucket, jobs: ddb.ITable, api_key: sm.ISecret, job: sfn.IStateMachine) -> None:
        super().__init__(scope, construct_id)
        self._config, self._factory, self._bucket = config, factory, bucket
        self.dead_letters = dead_letter_queue(self, "StartJobDeadLetters")
        self.queue = sqs.Queue(
            self, "StartQueue", encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
            visibility_timeout=START_QUEUE_VISIBILITY, retention_period=Duration.days(14),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letters, max_receive_count=MAX_RECEIVES))
        self.face_detector = self._face_detector() if config.face_precheck else None
        self.start_job = self._start_job(job)
        self._grant_start(jobs, api_key, job)
        destination = _QueueDestination(self.queue)
        for prefix in (config.jobs_prefix, config.videos_prefix):
            bucket.add_event_notification(s3.EventType.OBJECT_CREATED, destination,
                                          s3.NotificationKeyFilter(prefix=prefix))
        if self.face_detector is not None:
            self._connect_face_precheck(self.start_job, self.face_detector)

    def _start_job(self, job: sfn.IStateMachine) -> lambda_.Function:
        c = self._config
        fn = self._factory.create(self, "StartJob", FunctionSpec(
            "start_job", "Checks an upload, admits it in front of the vendor (or queues it), creates the vendor "
                         "task, starts the execution", START_TIMEOUT, 512, {
                Env.STATE_MACHINE_ARN: job.state_machine_arn,
                Env.START_TIMEOUT_SECONDS: str(START_LEASE_SECONDS),
                Env.START_QUEUE_URL: self.queue.queue_url,
                Env.INPUT_MODE: c.input_mode,
                Env.INPUT_URL_TTL_SECONDS: str(c.input_url_ttl_minutes * 60),
                # One quick retry of a vendor call: after that the queue is the retry, and it honours Retry-After.
                Env.YOUCAM_MAX_RETRIES: "1", Env.YOUCAM_MAX_RETRY_AFTER_SECONDS: "2",
                **admission_environment(c)}))
        # Lambda polls with the function's role: what its poller calls, and ChangeMessageVisibility, with which a
        # failed message comes back after a short backoff (CDK's SqsEventSource would add GetQueueUrl, never called).
        fn.add_to_role_policy(iam.PolicyStatement(actions=[
            "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"],
            resources=[self.queue.queue_arn]))
        # One upload a batch: a batch's slowest start (two streamed uploads) must not hold the others back, and a
        # crash returns one message. At most as many starts at once as vendor tasks may run (Lambda allows 2..1000).
        fn.add_event_source_mapping("StartQueue", event_source_arn=self.queue.queue_arn, batch_size=1,
                                    report_batch_item_failures=True,
                                    max_concurrency=max(2, min(1000, c.max_tasks_in_flight)))
        return fn

    def _grant_start(self, jobs: ddb.ITable, api_key: sm.ISecret, job: sfn.IStateMachine) -> None:
        """What the start function calls, on what: its inputs (no bucket listing: a missing input answers 403,
        which it reports as missing), its job's files, the job, task and admission items, the API key."""
        c, fn = self._config, self.start_job
        fn.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[
            self._bucket.arn_for_objects(f"{p}*") for p in (c.videos_prefix, c.faces_prefix, c.jobs_prefix)]))
        grant_object_writes(fn, self._bucket, c.results_prefix, multipart=False)  # status.json, error.json
        # The job's record (claim, queue, submit), its task's (the job id), admission's two items, the rejections'.
        grant_items(fn, jobs, ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "BatchGetItem"],
                    [layout.JOB_KEY_PREFIX, layout.TASK_KEY_PREFIX, layout.ADMISSION_KEY, layout.REJECTED_KEY_PREFIX])
        grant_secret_value(fn, api_key)
        fn.add_to_role_policy(iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.queue.queue_arn]))
        job.grant_start_execution(fn)

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


@jsii.implements(s3.IBucketNotificationDestination)
class _QueueDestination:
    """The start queue as a bucket notification destination, like CDK's SqsDestination, but the queue policy lets
    S3 send only for this bucket (aws:SourceArn) in this account (aws:SourceAccount: a bucket ARN names no
    account), as AWS recommends against the confused deputy."""

    def __init__(self, queue: sqs.Queue) -> None:
        self._queue = queue
        self._policy: iam.AddToResourcePolicyResult | None = None  # one statement, whatever the filters

    def bind(self, scope: Construct, bucket: IBucketRef) -> s3.BucketNotificationDestinationConfig:
        if self._policy is None:
            self._policy = self._queue.add_to_resource_policy(iam.PolicyStatement(
                principals=[iam.ServicePrincipal("s3.amazonaws.com")], actions=["sqs:SendMessage"],
                resources=[self._queue.queue_arn],
                conditions={"ArnLike": {"aws:SourceArn": bucket.bucket_ref.bucket_arn},
                            "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}))
        dependable = self._policy.policy_dependable
        return s3.BucketNotificationDestinationConfig(arn=self._queue.queue_arn,
                                                      type=s3.BucketNotificationDestinationType.QUEUE,
                                                      dependencies=[dependable] if dependable else None)


def admission_environment(c: PipelineConfig) -> dict[str, str]:
    """The admission limits the start function enforces (faceswap.admission.AdmissionSettings)."""
    return {
        Env.MAX_TASKS_IN_FLIGHT: str(c.max_tasks_in_flight),
        Env.MAX_CREATES_PER_SECOND: str(c.max_creates_per_second),
        Env.CREATE_BURST: str(max(1.0, c.max_creates_per_second)),
        Env.MAX_QUEUE_WAIT_SECONDS: str(c.max_queue_wait_minutes * 60),
        Env.CREDIT_WAIT_SECONDS: str(c.credit_wait_minutes * 60),
        Env.ADMISSION_START_LEASE_SECONDS: str(START_LEASE_SECONDS),
        # Once its task exists a job holds its slot at most for its run (then the execution-failed rule frees it).
        Env.ADMISSION_RUN_LEASE_SECONDS: str((c.run_timeout_minutes + 10) * 60),
    }
