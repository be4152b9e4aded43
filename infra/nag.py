"""cdk-nag AwsSolutions findings reviewed and accepted, each with its reason.

Stack-wide, with `applies_to` patterns that name the exact kind of finding, so a function
or queue another branch adds is covered by the same reasoning, and anything new still
fails the check.
"""

from aws_cdk import Stack
from cdk_nag import NagPackSuppression, NagSuppressions, RegexAppliesTo
from constructs import IConstruct


def _pattern(regex: str) -> RegexAppliesTo:
    return RegexAppliesTo(regex=f"/{regex}/g")


SUPPRESSIONS = [
    NagPackSuppression(
        id="AwsSolutions-IAM4",
        reason=(
            "AWS's own service-role policies, on roles CDK makes for AWS services: "
            "API Gateway's account logging role (execution logs) and the S3 notifications "
            "custom resource that turns on the bucket's EventBridge notifications. Our "
            "functions' roles use no managed policy."
        ),
        applies_to=[
            "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
            "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        ],
    ),
    NagPackSuppression(
        id="AwsSolutions-IAM5",
        reason=(
            "Object-level S3 actions as CDK's bucket grants name them (GetObject*, "
            "DeleteObject*, Abort*, List*, GetBucket*), on this stack's bucket and its "
            "objects only: functions write uploads, recipients and reports under prefixes "
            "that depend on the workspace and batch."
        ),
        applies_to=[
            _pattern(r"^Action::s3:(GetObject|DeleteObject|Abort|List|GetBucket)\*$"),
            _pattern(r"^Resource::<Storage[A-Za-z0-9]+\.Arn>/\*$"),
        ],
    ),
    NagPackSuppression(
        id="AwsSolutions-IAM5",
        reason="The table's own global secondary indexes (GSI1, DUE), queried by name.",
        applies_to=[_pattern(r"^Resource::<Storage[A-Za-z0-9]+\.Arn>/index/\*$")],
    ),
    NagPackSuppression(
        id="AwsSolutions-IAM5",
        reason=(
            "Versions and aliases of the round functions the state machine invokes "
            "(CDK's grant_invoke); no other function."
        ),
        applies_to=[_pattern(r"^Resource::<Functions[A-Za-z0-9]+\.Arn>:\*$")],
    ),
    NagPackSuppression(
        id="AwsSolutions-IAM5",
        reason=(
            "Schedules are created per batch and round at run time: CreateSchedule and "
            "DeleteSchedule on schedules of this stack's schedule group only."
        ),
        applies_to=[_pattern(r"^Resource::arn:<AWS::Partition>:scheduler:.*:schedule/[^*]+/\*$")],
    ),
    NagPackSuppression(
        id="AwsSolutions-IAM5",
        reason=(
            "Executions (one per batch and round, named at run time) of this stack's state "
            "machine and of its Distributed Map's child workflows (name/label), whose Dial "
            "tasks' tokens the call events answer: this machine only."
        ),
        applies_to=[
            _pattern(
                r"^Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:"
                r"(execution|stateMachine):[A-Za-z0-9-]+[:/]\*$"
            )
        ],
    ),
    NagPackSuppression(
        id="AwsSolutions-IAM5",
        reason=(
            "The amazon_connect provider's Connect instance is configuration (in the "
            "telephony secret), not part of this stack: StartOutboundVoiceContact (dial) "
            "and DescribeContact (reconcile) on the account's instances in this region."
        ),
        applies_to=[
            _pattern(
                r"^Resource::arn:<AWS::Partition>:connect:<AWS::Region>:<AWS::AccountId>:"
                r"instance/\*$"
            )
        ],
    ),
    NagPackSuppression(
        id="AwsSolutions-IAM5",
        reason=(
            "Actions that accept no resource: X-Ray trace segments and sampling "
            "(tracing is on everywhere) and the CloudWatch Logs delivery actions Step "
            "Functions logging needs. The tests check that no data action has `*`."
        ),
        applies_to=["Resource::*"],
    ),
    NagPackSuppression(
        id="AwsSolutions-SMG4",
        reason=(
            "Provider credentials are issued and rotated at the provider, then put in the "
            "secret; the simulator's HMAC key signs only test callbacks. Neither can be "
            "rotated by a Secrets Manager rotation function."
        ),
    ),
    NagPackSuppression(
        id="AwsSolutions-APIG2",
        reason=(
            "Requests are validated by the api function (pydantic), which answers the "
            "product's 4xx bodies naming the field or rows to fix; API Gateway's "
            "validator would answer in another shape."
        ),
    ),
    NagPackSuppression(
        id="AwsSolutions-APIG3",
        reason=(
            "No WAF web ACL by default (about $6 a month before requests): every route but "
            "the public ones needs an API key, the stage is throttled, and the webhook "
            "checks signatures. Attach a web ACL to the stage if the API faces abuse."
        ),
    ),
    NagPackSuppression(
        id="AwsSolutions-COG4",
        reason=(
            "Clients authenticate with workspace API keys (Bearer or x-api-key, as the "
            "product contract says), checked by the REQUEST Lambda authorizer; there are "
            "no Cognito users."
        ),
    ),
]

# The routes without the authorizer (infra.resources.ROUTES, public=True).
PUBLIC_ROUTE_REASON = (
    "Public by design: GET /openapi.json is the API's description, GET / and GET "
    "/console/{asset+} are the web console's static files (no data: the page calls the "
    "API with the key its user pastes), and POST "
    "/provider-events/{provider} is the telephony providers' webhook, which verifies "
    "every request's signature itself (providers cannot send our API keys)."
)


def suppress_reviewed_findings(stack: Stack) -> None:
    NagSuppressions.add_stack_suppressions(stack, SUPPRESSIONS, apply_to_nested_stacks=True)


def suppress_public_route(method: IConstruct) -> None:
    NagSuppressions.add_resource_suppressions(
        method,
        [NagPackSuppression(id="AwsSolutions-APIG4", reason=PUBLIC_ROUTE_REASON)],
    )
