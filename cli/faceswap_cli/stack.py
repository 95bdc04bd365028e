"""Which stack to talk to: a deployed one (CloudFormation outputs) or the local one (`.local-stack.json`).

    stack = discover_stack(boto3.Session(), "FaceSwap")     # region/profile from the usual AWS environment
    stack = load_local_stack()                               # written by `make local-up` (python -m local.serve)
    clients = Clients.for_stack(stack)
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3

from faceswap import layout
from faceswap_cli.errors import NoStack

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_stepfunctions import SFNClient

DEFAULT_STACK = "FaceSwap"
STATE_FILE_NAME = ".local-stack.json"
STATE_FILE_ENV = "FACESWAP_LOCAL_STATE"
LOCAL_ACCESS_KEY = LOCAL_SECRET_KEY = "testing"  # moto accepts any credentials
NO_LOCAL_STACK_FIX = "Start it with `make local-up` in another terminal, then run this command again."
_CHECKOUT = Path(__file__).resolve().parents[2]  # cli/faceswap_cli/stack.py -> the repository root
# Output keys of FaceSwapStack (infra/outputs.py); a stack of your own may prefix them (see stack_outputs).
_BUCKET_OUTPUT = "BucketName"
_OUTPUTS = {"bucket": _BUCKET_OUTPUT, "state_machine_arn": "StateMachineArn", "jobs_table": "JobsTableName",
            "webhook_url": "WebhookUrl"}
# The bucket layout (faceswap:*_prefix), output by stacks deployed since doctor: older ones use the defaults.
_PREFIX_OUTPUTS = {"videos_prefix": "VideosPrefix", "faces_prefix": "FacesPrefix", "jobs_prefix": "JobsPrefix",
                   "results_prefix": "ResultsPrefix"}
# A stack in one of these states has no working pipeline (its creation failed, or it is being deleted).
_BROKEN_STATES = ("CREATE_FAILED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_FAILED", "ROLLBACK_COMPLETE",
                  "DELETE_IN_PROGRESS", "DELETE_FAILED", "DELETE_COMPLETE")


@dataclass(frozen=True)
class StackInfo:
    """Where a face-swap pipeline lives. `endpoint_url` is set only for the local stack (moto)."""

    name: str
    region: str
    bucket: str
    state_machine_arn: str
    jobs_table: str | None = None
    webhook_url: str | None = None
    endpoint_url: str | None = None
    emulator_url: str | None = None
    # The pipeline's bucket layout (cdk.json faceswap:*_prefix); the defaults unless you changed them.
    videos_prefix: str = layout.VIDEOS_PREFIX
    faces_prefix: str = layout.FACES_PREFIX
    jobs_prefix: str = layout.JOBS_PREFIX
    results_prefix: str = layout.RESULTS_PREFIX

    @property
    def is_local(self) -> bool:
        return self.endpoint_url is not None

    def execution_arn(self, job_id: str) -> str:
        """Executions are named after the job id, so their ARN is known without a lookup."""
        return self.state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{job_id}"

    def result_key(self, job_id: str, name: str) -> str:
        return layout.result_key(job_id, name, self.results_prefix)

    def manifest_key(self, name: str) -> str:
        return layout.manifest_key(name, self.jobs_prefix)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StackInfo:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class Clients:
    """The three AWS clients the CLI needs, bound to one stack's region (and endpoint, locally)."""

    s3: S3Client
    sfn: SFNClient
    dynamodb: DynamoDBClient

    @classmethod
    def for_stack(cls, stack: StackInfo, session: boto3.Session | None = None) -> Clients:
        return cls(s3=aws_client(stack, "s3", session), sfn=aws_client(stack, "stepfunctions", session),
                   dynamodb=aws_client(stack, "dynamodb", session))


def aws_client(stack: StackInfo, service: str, session: boto3.Session | None = None) -> Any:
    """A client of `service` bound to the stack's region (and, locally, moto's endpoint with its fake keys)."""
    if stack.is_local:
        session = boto3.Session(region_name=stack.region, aws_access_key_id=LOCAL_ACCESS_KEY,
                                aws_secret_access_key=LOCAL_SECRET_KEY)
    factory: Any = (session or boto3.Session(region_name=stack.region)).client  # typed stubs want literal names
    return factory(service, region_name=stack.region, endpoint_url=stack.endpoint_url)


def clients_for(target: Clients | boto3.Session | None, stack: StackInfo) -> Clients:
    """Accept what a caller has: ready clients, a boto3 session, or nothing (default credentials)."""
    if isinstance(target, Clients):
        return target
    return Clients.for_stack(stack, target)


def discover_stack(session: boto3.Session, stack_name: str = DEFAULT_STACK) -> StackInfo:
    """Read the stack's CloudFormation outputs. AWS errors propagate (the caller explains them)."""
    cfn = session.client("cloudformation")
    region = cfn.meta.region_name
    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except cfn.exceptions.ClientError as exc:
        if "does not exist" in str(exc):
            raise NoStack(f"There is no CloudFormation stack named {stack_name} in {region}.",
                          "Deploy it with `cdk deploy`, or pass the right --stack and --region "
                          "(or --local for the local stack).") from exc
        raise
    _refuse_broken(stack_name, str(stacks[0].get("StackStatus", "")))
    outputs = stack_outputs(stacks[0])
    found = {field: outputs.get(key) for field, key in _OUTPUTS.items()}
    if not found["bucket"] or not found["state_machine_arn"]:
        raise NoStack(f"The stack {stack_name} has no BucketName and StateMachineArn outputs: it is not a "
                      "face-swap stack.", "Pass --stack with the stack `cdk deploy` created (FaceSwap by default).")
    prefixes = {field: value for field, key in _PREFIX_OUTPUTS.items() if (value := outputs.get(key))}
    return StackInfo(name=stack_name, region=region, bucket=str(found["bucket"]),
                     state_machine_arn=str(found["state_machine_arn"]), jobs_table=found["jobs_table"],
                     webhook_url=found["webhook_url"], **prefixes)


def _refuse_broken(stack_name: str, status: str) -> None:
    if status in _BROKEN_STATES:
        raise NoStack(f"The stack {stack_name} is {status}: it has no working pipeline.",
                      "Read why in its events (CloudFormation console, or `aws cloudformation describe-stack-events "
                      f"--stack-name {stack_name}`), delete it if it is ROLLBACK_COMPLETE, then `cdk deploy` again.")


def stack_outputs(description: Any) -> dict[str, str]:
    """The pipeline's outputs of one `describe_stacks` entry, by their FaceSwapStack names: a stack of your own
    that embeds the construct adds them with a prefix of its choosing (FaceSwapBucketName...), which is found
    from the one output whose name ends in BucketName, and removed."""
    outputs = {o["OutputKey"]: o["OutputValue"] for o in description.get("Outputs", [])}
    if _BUCKET_OUTPUT in outputs:
        return outputs
    named = [name for name in outputs if name.endswith(_BUCKET_OUTPUT)]
    if len(named) != 1:
        return outputs
    prefix = named[0].removesuffix(_BUCKET_OUTPUT)
    return {name.removeprefix(prefix): value for name, value in outputs.items() if name.startswith(prefix)}


# --- the local stack ----------------------------------------------------------------------------------------
def find_state_file(start: Path | None = None) -> Path | None:
    """$FACESWAP_LOCAL_STATE, else `.local-stack.json` in the current directory or a parent, else in the
    checkout this package is installed from (editable install: `faceswap --local` works from anywhere)."""
    if os.environ.get(STATE_FILE_ENV):
        return Path(os.environ[STATE_FILE_ENV])
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents, _CHECKOUT):
        if (folder / STATE_FILE_NAME).is_file():
            return folder / STATE_FILE_NAME
    return None


def load_local_stack(state_file: Path | None = None) -> StackInfo:
    """The running local stack, or NoStack with the fix (start `make local-up`)."""
    path = state_file or find_state_file()
    if path is None or not path.is_file():
        raise NoStack("No local stack is running (no .local-stack.json found).", NO_LOCAL_STACK_FIX)
    try:
        data = json.loads(path.read_text())
        stack = StackInfo.from_dict(data["stack"])
    except (ValueError, KeyError, TypeError) as exc:
        raise NoStack(f"{path} is not a local stack state file.", f"Delete it; {NO_LOCAL_STACK_FIX}") from exc
    if not _process_alive(int(data.get("pid", 0))) or not _reachable(stack.endpoint_url or ""):
        raise NoStack(f"No local stack is running ({path} is left over from one that stopped).",
                      NO_LOCAL_STACK_FIX)
    return stack


def _process_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _reachable(url: str, timeout: float = 2.0) -> bool:
    parts = urlsplit(url)
    if not parts.hostname or not parts.port:
        return False
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=timeout):
            return True
    except OSError:
        return False
