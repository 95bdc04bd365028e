"""Errors a user reads: one sentence saying what is wrong, one saying how to fix it, and the exit code.

AWS client errors are translated here so that no command ever shows a botocore traceback (unless --debug).
"""

from __future__ import annotations

from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

EXIT_OK = 0
EXIT_JOB_FAILED = 1
EXIT_CHECK_FAILED = 1  # faceswap doctor: a check failed
EXIT_BAD_INPUT = 2  # also argparse's usage errors
EXIT_ENVIRONMENT = 3  # no stack, no credentials, cannot reach AWS
EXIT_NOT_FOUND = 4
EXIT_TIMEOUT = 5
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """Something the user can act on: `message` says what happened, `fix` what to do about it."""

    exit_code = EXIT_ENVIRONMENT

    def __init__(self, message: str, fix: str, exit_code: int | None = None) -> None:
        super().__init__(f"{message} {fix}")
        self.message = message
        self.fix = fix
        if exit_code is not None:
            self.exit_code = exit_code


class BadInput(CliError):
    """A local file or argument that the pipeline would reject."""

    exit_code = EXIT_BAD_INPUT


class JobNotFound(CliError):
    exit_code = EXIT_NOT_FOUND


class JobTimeout(CliError, TimeoutError):
    """The job did not end within the caller's timeout; it keeps running in the cloud."""

    exit_code = EXIT_TIMEOUT


class NoStack(CliError):
    """No deployed or local stack to talk to."""


def explain_aws_error(exc: Exception, where: str) -> CliError | None:
    """A CliError for the AWS failures a user can fix (credentials, region, access, reachability); else None."""
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return CliError("No AWS credentials were found.",
                        "Set AWS_PROFILE or run `aws configure` (or use --local for the local stack).")
    if isinstance(exc, ProfileNotFound):
        return CliError(f"The AWS profile is not configured: {exc}.", "Pass an existing --profile or run "
                        "`aws configure --profile NAME`.")
    if isinstance(exc, NoRegionError):
        return CliError("No AWS region is set.",
                        "Pass --region, or set AWS_DEFAULT_REGION (the region you deployed to).")
    if isinstance(exc, EndpointConnectionError):
        return CliError(f"Could not reach {exc.kwargs.get('endpoint_url', 'AWS')}.",
                        "Check your network, or for --local that `make local-up` is still running.")
    if isinstance(exc, ClientError):
        return _client_error(exc, where)
    return None


def _client_error(exc: ClientError, where: str) -> CliError | None:
    code = exc.response.get("Error", {}).get("Code", "")
    text = exc.response.get("Error", {}).get("Message", "")
    if code in ("ExpiredToken", "ExpiredTokenException", "RequestExpired"):
        return CliError("Your AWS session has expired.", "Log in again (e.g. `aws sso login`), then retry.")
    if code in ("InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch",
                "InvalidAccessKeyId"):
        return CliError("AWS rejected your credentials.", "Check AWS_PROFILE / your access keys, then retry.")
    if code in ("AccessDenied", "AccessDeniedException", "403"):
        return CliError(f"AWS denied access to {where}: {text or code}.",
                        "Use credentials allowed to use the face-swap stack (S3, Step Functions, DynamoDB).")
    if code in ("NoSuchBucket", "ResourceNotFoundException"):
        return NoStack(f"The stack's {where} does not exist: {text or code}.",
                       "The stack may have been deleted: deploy it again, or pass the right --stack/--region.")
    return None
