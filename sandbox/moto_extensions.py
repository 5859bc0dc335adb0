"""moto 5.2.5 with three gaps of its CloudFormation closed, so `cdk deploy` runs the project's real
templates unchanged (imported for its effect by sandbox.aws_emulator):

- `cdk deploy` calls UpdateTerminationProtection for the (protected) secrets stack, which moto
  answers with NotImplementedError: it now records the flag on moto's stack model;
- moto skips AWS::Lambda::Url, and then fails the whole stack because the bridge's outputs read
  the URL: the type is now created through moto's own function-URL API. Nothing serves that URL
  (moto does not run Lambdas behind URLs); the demo serves the bridge itself under gunicorn;
- UpdateStack fails (KeyError 'BootstrapVersion') when cdk asks to keep the previous value of a
  parameter that took its template default: such a parameter now keeps the default, as in
  CloudFormation.
"""

from __future__ import annotations

from typing import Any

from moto.awslambda.models import FunctionUrlConfig, lambda_backends
from moto.cloudformation.models import CloudFormationBackend
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.common_models import CloudFormationModel
from moto.core.responses import ActionResult


def _update_termination_protection(self: CloudFormationResponse) -> ActionResult:
    stack = self.cloudformation_backend.describe_stacks(self._get_param("StackName"))[0]
    stack.enable_termination_protection = str(self._get_param("EnableTerminationProtection")).lower() == "true"
    return ActionResult({"StackId": stack.stack_id})


class FunctionUrl(CloudFormationModel):
    """AWS::Lambda::Url; moto finds CloudFormation types among CloudFormationModel's subclasses."""

    def __init__(self, config: FunctionUrlConfig) -> None:
        self.config = config

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::Url"

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("FunctionUrl", "FunctionArn")

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name == "FunctionUrl":
            return self.config.url + "/"  # CloudFormation's FunctionUrl ends with a slash; moto's API URL does not
        return self.config.function.function_arn

    @property
    def physical_resource_id(self) -> str:
        return self.config.function.function_arn

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> FunctionUrl:
        properties = cloudformation_json["Properties"]
        backend = lambda_backends[account_id][region_name]
        return cls(
            backend.create_function_url_config(
                properties["TargetFunctionArn"], {"AuthType": properties["AuthType"], "Cors": properties.get("Cors")}
            )
        )


# moto lacks UpdateTerminationProtection: this adds it to its CloudFormation responses (a new attribute to mypy).
CloudFormationResponse.update_termination_protection = _update_termination_protection  # type: ignore[attr-defined]  # new


def _keep_defaulted_parameters(self: CloudFormationBackend, instance: Any, incoming_params: list) -> Any:
    given = [p for p in incoming_params if not p.get("UsePreviousValue") or p["ParameterKey"] in instance.parameters]
    return _moto_resolve_update_parameters(self, instance, given)


_moto_resolve_update_parameters = CloudFormationBackend._resolve_update_parameters
# Replaces moto's method on purpose (mypy's method-assign): defaulted parameters stay as the template says.
CloudFormationBackend._resolve_update_parameters = _keep_defaulted_parameters  # type: ignore[method-assign]  # patch
