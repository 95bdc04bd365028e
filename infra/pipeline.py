"""`FaceSwapPipeline`: the whole system as one reusable construct, composed like the architecture diagram.

    Storage          the media bucket, the jobs table, the secrets
    Ingest           S3 upload → Start job (after the face pre-check) → the job's execution
    JobWorkflow      the job (Standard: wait for the vendor task → Finalize) and its poller (Express), the functions
                     their states call, and the rule that records executions the job could not
    WebhookIngress   API Gateway → Webhook: a signed "task finished" short-circuits the wait
    JobEvents        the Jobs table's stream → PublishJobEvents → EventBridge: one event per job state change
    Monitoring       alarms on everything that could fail quietly
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from faceswap.layout import METRICS_NAMESPACE, Env
from infra.config import PipelineConfig, log_retention
from infra.functions import FunctionFactory
from infra.ingest import Ingest
from infra.job_events import JobEvents
from infra.job_workflow import JobWorkflow, MachineNames
from infra.monitoring import Monitoring, Watched
from infra.storage import Storage
from infra.webhook_ingress import WebhookIngress


class FaceSwapPipeline(Construct):
    def __init__(self, scope: Construct, construct_id: str, config: PipelineConfig | None = None,
                 vendor_base_url: str | None = None) -> None:
        super().__init__(scope, construct_id)
        self.config = c = config or PipelineConfig()
        self.storage = s = Storage(self, "Storage", c)
        factory = FunctionFactory(self, _common_env(s, c, vendor_base_url or c.vendor_base_url),
                                  log_retention(c.log_retention_days), c.architecture)
        self.workflow = w = JobWorkflow(self, "JobWorkflow", config=c, factory=factory,
                                        names=_names(self, construct_id), bucket=s.bucket, jobs=s.jobs,
                                        api_key=s.api_key)
        self.ingest = i = Ingest(self, "Ingest", config=c, factory=factory, bucket=s.bucket, jobs=s.jobs,
                                 api_key=s.api_key, job=w.state_machine)
        self.webhook_ingress = h = WebhookIngress(self, "WebhookIngress", config=c, factory=factory, jobs=s.jobs,
                                                  webhook_secrets=s.webhook_secrets, job_arn=w.arns.job)
        self.job_events = e = JobEvents(self, "JobEvents", config=c, factory=factory, jobs=s.jobs)
        # What stacks, apps and tests reach for.
        self.state_machine, self.poller, self.api = w.state_machine, w.poller, h.api
        self.start_job, self.face_detector = i.start_job, i.face_detector
        self.monitoring = Monitoring(self, "Monitoring", Watched(
            job=w.state_machine, poller=w.poller, api=h.api, functions=self.functions(),
            start_queue=i.queue, start_dead_letters=i.dead_letters, execution_failed_dead_letters=w.dead_letters,
            event_publisher=e.publisher, job_events_dead_letters=e.dead_letters,
            face_precheck=i.face_detector is not None, max_queue_wait_seconds=c.max_queue_wait_minutes * 60,
            backlog_alarm=100 * c.max_tasks_in_flight), alarm_email=c.alarm_email)

    def functions(self) -> list[lambda_.IFunction]:
        """Every function of the pipeline."""
        detector = [self.face_detector] if self.face_detector is not None else []
        return [self.start_job, *detector, *vars(self.workflow.functions).values(), self.workflow.execution_failed,
                self.webhook_ingress.webhook, self.job_events.publisher]


def _names(scope: Construct, construct_id: str) -> MachineNames:
    prefix = f"{cdk.Stack.of(scope).stack_name}-{construct_id}"[:72]  # names <= 80 characters
    return MachineNames(job=f"{prefix}-Job", poller=f"{prefix}-Poller")


def _common_env(s: Storage, c: PipelineConfig, vendor_base_url: str) -> dict[str, str]:
    """Every function's environment (faceswap.config reads it)."""
    return {
        Env.BUCKET_NAME: s.bucket.bucket_name,
        Env.JOBS_TABLE: s.jobs.table_name,
        Env.API_KEY_SECRET_ARN: s.api_key.secret_arn,
        Env.YOUCAM_BASE_URL: vendor_base_url,
        Env.YOUCAM_FILE_PATH: c.vendor_file_path,
        Env.POLLING_INTERVAL_UNIT: c.polling_interval_unit,
        Env.YOUCAM_RETRY_CREATE_ON_SERVER_ERROR: str(c.retry_create_on_server_error).lower(),
        Env.DEFAULT_POLLING_INTERVAL_SECONDS: str(c.default_polling_interval_seconds),
        Env.VIDEOS_PREFIX: c.videos_prefix, Env.FACES_PREFIX: c.faces_prefix,
        Env.JOBS_PREFIX: c.jobs_prefix, Env.RESULTS_PREFIX: c.results_prefix,
        Env.POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        Env.POWERTOOLS_LOG_LEVEL: "INFO",
    }
