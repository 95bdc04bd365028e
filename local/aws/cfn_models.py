"""CloudFormation resource models moto 5.2.5 lacks, each creating the real resource in moto (or, where
moto has nothing to hold it, a documented no-op).

moto discovers models as direct subclasses of `CloudFormationModel`, so importing this module registers
them (after the lookup caches are cleared, see `cfn_shims.install`). Resources are created through boto3,
which reaches the running moto server through `AWS_ENDPOINT_URL`.
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.common_models import CloudFormationModel

from local.aws.server import boto_client


class _Shim:
    """The parts every shim shares: a physical id for `Ref`, attributes for `Fn::GetAtt`, no updates."""

    CFN_TYPE = ""
    NAME_PROPERTY = ""

    def __init__(self, physical_id: str, **attributes: Any) -> None:
        self._physical_id = physical_id
        self._attributes = attributes

    @property
    def physical_resource_id(self) -> str:
        return self._physical_id

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.CFN_TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return self._attributes.get(attribute_name)

    @classmethod
    def update_from_cloudformation_json(cls, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{cls.CFN_TYPE}: stack updates are not supported locally")

    @classmethod
    def delete_from_cloudformation_json(cls, *args: Any, **kwargs: Any) -> None:
        return None


class _NoOpShim(_Shim):
    """A resource moto has nothing to hold for locally: it exists for `Ref` and does nothing else."""

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str, **kwargs: Any) -> Any:
        return cls(resource_name)


def _client(service: str, region_name: str) -> Any:
    return boto_client(service, region_name=region_name)


class SecretShim(_Shim, CloudFormationModel):
    """Secrets Manager secret, with `GenerateSecretString` resolved by moto's random password."""

    CFN_TYPE, NAME_PROPERTY = "AWS::SecretsManager::Secret", "Name"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str, **kwargs: Any) -> SecretShim:
        properties = cloudformation_json["Properties"]
        secrets = _client("secretsmanager", region_name)
        value = properties.get("SecretString")
        if value is None:
            value = _generated_secret(secrets, dict(properties.get("GenerateSecretString", {})))
        extra = {"Description": properties["Description"]} if "Description" in properties else {}
        arn = secrets.create_secret(Name=resource_name, SecretString=value, **extra)["ARN"]
        return cls(arn, Id=arn)


def _generated_secret(secrets: Any, spec: dict[str, Any]) -> str:
    key, template = spec.pop("GenerateStringKey", None), spec.pop("SecretStringTemplate", None)
    password = secrets.get_random_password(**spec)["RandomPassword"]
    return json.dumps({**json.loads(template or "{}"), key: password}) if key else str(password)


class BucketPolicyShim(_Shim, CloudFormationModel):
    """Bucket policy minus statements with a Condition: moto enforces Deny but ignores Conditions, so CDK's
    enforceSSL statement (Deny if aws:SecureTransport is false) would deny every request (local deviation)."""

    CFN_TYPE = "AWS::S3::BucketPolicy"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str, **kwargs: Any) -> BucketPolicyShim:
        properties = cloudformation_json["Properties"]
        document = properties["PolicyDocument"]
        statements = [s for s in document.get("Statement", []) if "Condition" not in s]
        if statements:
            _client("s3", region_name).put_bucket_policy(
                Bucket=properties["Bucket"], Policy=json.dumps({**document, "Statement": statements}))
        return cls(properties["Bucket"])


class StageShim(_Shim, CloudFormationModel):
    """API Gateway stage (Ref = stage name). Throttling, logging and tracing settings have no local effect."""

    CFN_TYPE = "AWS::ApiGateway::Stage"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str, **kwargs: Any) -> StageShim:
        properties = cloudformation_json["Properties"]
        _client("apigateway", region_name).create_stage(
            restApiId=properties["RestApiId"], stageName=properties["StageName"],
            deploymentId=properties["DeploymentId"], variables=properties.get("Variables", {}))
        return cls(properties["StageName"])


class RequestValidatorShim(_Shim, CloudFormationModel):
    """API Gateway request validator (the local API front applies required request parameters)."""

    CFN_TYPE = "AWS::ApiGateway::RequestValidator"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str,
                                        **kwargs: Any) -> RequestValidatorShim:
        p = cloudformation_json["Properties"]
        validator = _client("apigateway", region_name).create_request_validator(
            restApiId=p["RestApiId"], name=p.get("Name", resource_name),
            validateRequestBody=_bool(p.get("ValidateRequestBody")),
            validateRequestParameters=_bool(p.get("ValidateRequestParameters")))
        return cls(validator["id"], RequestValidatorId=validator["id"])


class ApiModelShim(_Shim, CloudFormationModel):
    """API Gateway model (Ref = model name). The local API front does not validate bodies against it."""

    CFN_TYPE, NAME_PROPERTY = "AWS::ApiGateway::Model", "Name"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str, **kwargs: Any) -> ApiModelShim:
        p = cloudformation_json["Properties"]
        name = "".join(c for c in resource_name if c.isalnum())  # model names are alphanumeric
        schema = p.get("Schema", {})
        _client("apigateway", region_name).create_model(
            restApiId=p["RestApiId"], name=name, contentType=p.get("ContentType", "application/json"),
            schema=schema if isinstance(schema, str) else json.dumps(schema))
        return cls(name)


class ApiGatewayAccountShim(_NoOpShim, CloudFormationModel):
    """Account-wide CloudWatch role for API Gateway logging: nothing to hold locally (no-op)."""

    CFN_TYPE = "AWS::ApiGateway::Account"


class AlarmShim(_Shim, CloudFormationModel):
    """CloudWatch alarm, created with PutMetricAlarm (moto stores it; it does not evaluate it)."""

    CFN_TYPE, NAME_PROPERTY = "AWS::CloudWatch::Alarm", "AlarmName"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str, **kwargs: Any) -> AlarmShim:
        properties = {k: v for k, v in cloudformation_json["Properties"].items() if k != "AlarmName"}
        _client("cloudwatch", region_name).put_metric_alarm(AlarmName=resource_name, **properties)
        arn = f"arn:aws:cloudwatch:{region_name}:{account_id}:alarm:{resource_name}"
        return cls(resource_name, Arn=arn)


class SubscriptionShim(_Shim, CloudFormationModel):
    """SNS subscription (moto confirms it at once; nothing is delivered to e-mail endpoints)."""

    CFN_TYPE = "AWS::SNS::Subscription"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str, **kwargs: Any) -> SubscriptionShim:
        p = cloudformation_json["Properties"]
        arn = _client("sns", region_name).subscribe(
            TopicArn=p["TopicArn"], Protocol=p["Protocol"], Endpoint=p.get("Endpoint", ""),
            ReturnSubscriptionArn=True)["SubscriptionArn"]
        return cls(arn)


class EventInvokeConfigShim(_Shim, CloudFormationModel):
    """Async invoke settings (retries, destinations); `LambdaRuntime(async_invocations=True)` applies them."""

    CFN_TYPE = "AWS::Lambda::EventInvokeConfig"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str,
                                        **kwargs: Any) -> EventInvokeConfigShim:
        p = cloudformation_json["Properties"]
        settings = {k: p[k] for k in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
                    if k in p}
        _client("lambda", region_name).put_function_event_invoke_config(FunctionName=p["FunctionName"],
                                                                        **settings)
        return cls(resource_name)


class QueuePolicyShim(_NoOpShim, CloudFormationModel):
    """SQS queue policy: moto does not enforce queue policies (no-op)."""

    CFN_TYPE = "AWS::SQS::QueuePolicy"


class TopicPolicyShim(_NoOpShim, CloudFormationModel):
    """SNS topic policy: moto does not enforce topic policies (no-op)."""

    CFN_TYPE = "AWS::SNS::TopicPolicy"


def _bool(value: Any) -> bool:
    return str(value).lower() == "true"


SHIM_TYPES = frozenset(model.CFN_TYPE for model in _Shim.__subclasses__())
