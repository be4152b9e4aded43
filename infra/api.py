"""The REST API: every route of `infra.resources.ROUTES`, a Lambda proxy integration to
its function, behind the REQUEST authorizer unless public; the local gateway
(local/api_gateway.py) serves the same table.
"""

from collections.abc import Mapping

from aws_cdk import Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.functions import LOG_RETENTION
from infra.nag import suppress_public_route
from infra.resources import BINARY_MEDIA_TYPES, ROUTES

# Requests per second across the stage, and the burst above it.
THROTTLE_RATE = 100
THROTTLE_BURST = 200


class Api(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage_name: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        # A route with its own throttle is not held back by the stage's (users' traffic).
        method_options = {
            f"{route.path}/{route.method}": apigateway.MethodDeploymentOptions(
                throttling_rate_limit=route.throttle[0], throttling_burst_limit=route.throttle[1]
            )
            for route in ROUTES
            if route.throttle is not None
        }
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
        )
        self.rest_api = apigateway.RestApi(
            self,
            "RestApi",
            rest_api_name=f"{stack.stack_name}-api",
            description="Batch calls API",
            binary_media_types=list(BINARY_MEDIA_TYPES),
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            cloud_watch_role=True,  # execution logging needs the account's logging role
            cloud_watch_role_removal_policy=RemovalPolicy.DESTROY,
            deploy_options=apigateway.StageOptions(
                stage_name=stage_name,
                throttling_rate_limit=THROTTLE_RATE,
                throttling_burst_limit=THROTTLE_BURST,
                method_options=method_options,
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                metrics_enabled=True,
                tracing_enabled=True,
                access_log_destination=apigateway.LogGroupLogDestination(self.access_logs),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
            ),
        )
        # The public base URL, built from the API's id rather than its stage: the stage
        # depends on every method and so on the api function, which may want this URL.
        self.base_url = Fn.join(
            "",
            [
                "https://",
                self.rest_api.rest_api_id,
                ".execute-api.",
                stack.region,
                ".",
                stack.url_suffix,
                f"/{stage_name}",
            ],
        )

    def route(
        self, functions: Mapping[str, lambda_.IFunction], authorizer_function: lambda_.IFunction
    ) -> None:
        """Every route of the table to its function; the authorizer on all but the public."""
        # The authorizer takes Bearer or x-api-key, so it has no identity source (either
        # header may be missing), and so no result cache.
        authorizer = apigateway.RequestAuthorizer(
            self,
            "Authorizer",
            handler=authorizer_function,
            identity_sources=[],
            results_cache_ttl=Duration.seconds(0),
        )
        integrations: dict[str, apigateway.LambdaIntegration] = {}
        for route in ROUTES:
            integration = integrations.get(route.function) or apigateway.LambdaIntegration(
                functions[route.function], proxy=True, allow_test_invoke=False
            )
            integrations[route.function] = integration
            resource = self.rest_api.root.resource_for_path(route.path)
            if route.public:
                public = resource.add_method(
                    route.method, integration, authorization_type=apigateway.AuthorizationType.NONE
                )
                suppress_public_route(public)
            else:
                resource.add_method(route.method, integration, authorizer=authorizer)
