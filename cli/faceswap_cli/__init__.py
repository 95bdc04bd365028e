"""The face-swap pipeline from Python and from the `faceswap` command.

    import boto3
    from faceswap_cli import Clients, discover_stack, submit_job, wait_for_result

    stack = discover_stack(boto3.Session(), "FaceSwap")
    clients = Clients.for_stack(stack)
    job = submit_job(clients, stack, Path("clip.mp4"), Path("me.jpg"), name="clip")
    result = wait_for_result(clients, stack, job.job_id, timeout=3600)
    print(result.succeeded, result.output_key, result.error)

`verify_webhook` is re-exported for receivers of the vendor's webhooks of your own.
"""

from faceswap.youcam.webhooks import WebhookEvent, WebhookRejected, verify_webhook
from faceswap_cli.errors import BadInput, CliError, JobNotFound, JobTimeout, NoStack
from faceswap_cli.inputs import CheckedInputs, check_inputs
from faceswap_cli.jobs import JobStatus, SubmittedJob, download_result, job_status, submit_job
from faceswap_cli.listing import JobSummary, list_jobs
from faceswap_cli.stack import Clients, StackInfo, discover_stack, load_local_stack
from faceswap_cli.waiting import JobResult, Progress, wait_for_result

__all__ = [
    "BadInput",
    "CheckedInputs",
    "CliError",
    "Clients",
    "JobNotFound",
    "JobResult",
    "JobStatus",
    "JobSummary",
    "JobTimeout",
    "NoStack",
    "Progress",
    "StackInfo",
    "SubmittedJob",
    "WebhookEvent",
    "WebhookRejected",
    "check_inputs",
    "discover_stack",
    "download_result",
    "job_status",
    "list_jobs",
    "load_local_stack",
    "submit_job",
    "verify_webhook",
    "wait_for_result",
]
