"""The stack's resources as plain data: one source for the CDK constructs and for the
embedded runtime (local/), so both create the same table keys, queues and functions.

No CDK or boto3 import here.
"""

from dataclasses import dataclass, field

# Every function runs this package; the handler path is module.function.
PACKAGE = "batch_calls"


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    partition_key: str
    sort_key: str | None
    ttl_attribute: str | None
    # name -> (partition key, sort key); every key attribute is a string.
    indexes: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    visibility_timeout_seconds: int
    max_receive_count: int  # deliveries before a message goes to the dead-letter queue


@dataclass(frozen=True)
class StateMachineSpec:
    logical_id: str
    definition: str  # path from the repository root
    # ${Name} in the definition -> the logical id of the function whose ARN it takes.
    function_substitutions: dict[str, str]
    # ${Name} -> a deployment setting (the dial timeouts), given by CDK context or the
    # embedded runtime.
    setting_substitutions: tuple[str, ...]


@dataclass(frozen=True)
class SecretSpec:
    """A Secrets Manager secret: CDK creates it empty (its value is never in the
    template); the team puts the value in; functions get its ARN and read it at run time.
    """

    logical_id: str
    description: str
    # Secrets Manager makes the value at deploy time (the embedded runtime, at start): a
    # key of the deployment's own, that nobody types in.
    generated: bool = False


@dataclass(frozen=True)
class RuleSpec:
    """An EventBridge rule on the account's default bus that sends the matching events to
    a queue of the stack (EventBridge -> SQS -> Lambda, as every event path here: moto's
    EventBridge does not invoke Lambda, and the queue buffers and retries in AWS too).

    `event_pattern` is the rule's pattern as plain JSON data.
    """

    logical_id: str
    description: str
    event_pattern: dict[str, object]
    target_queue: str  # logical id of a QueueSpec


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    handler: str
    timeout_seconds: int
    memory_mb: int
    # Environment variable -> the logical id of the resource whose name/url/arn it holds.
    # Or -> `${Name}`, a deployment setting that is no resource (see `setting`).
    environment: dict[str, str]
    # SQS queue (logical id) whose messages invoke this function, with batch size.
    queue_trigger: tuple[str, int] | None = None
    # Invoked every this many minutes (an EventBridge schedule in AWS, a timer locally).
    every_minutes: int | None = None
    # At most this many run at once, so that the dialling side of big batches cannot take
    # the account's concurrency (1,000 by default) from the API and its authorizer:
    # reserved concurrency, or for a queue trigger the event source's maximum concurrency
    # (a throttled queue function would hand its messages back, toward the DLQ). A
    # deployment may change it: the `maxConcurrency` context (infra/stack.py).
    max_concurrency: int | None = None


MAIN_TABLE = TableSpec(
    logical_id="Table",
    partition_key="PK",
    sort_key="SK",
    ttl_attribute="expires_at",
    indexes={
        # Batches of a workspace, newest first (GSI1SK = created_at#id).
        "GSI1": ("GSI1PK", "GSI1SK"),
        # Sparse: recipients pending or waiting for a retry, by when they are due.
        "DUE": ("due_pk", "due_key"),
        # Sparse: calls whose outcome is unknown, by when their watch runs out.
        "WATCH": ("watch_pk", "watch_until"),
    },
)
IDEMPOTENCY_TABLE = TableSpec(
    logical_id="IdempotencyTable",
    partition_key="id",
    sort_key=None,
    ttl_attribute="expiration",
)
TABLES = (MAIN_TABLE, IDEMPOTENCY_TABLE)

BUCKET = "Bucket"
# S3 key prefixes, one per kind of object.
INCOMING_PREFIX = "incoming/"  # the S3 drop
REJECTED_PREFIX = "rejected/"  # <key>.errors.json for a rejected drop
UPLOADS_PREFIX = "uploads/"  # uploads/{upload_id} (presigned POST) and uploads/{batch}/...
BATCHES_PREFIX = "batches/"  # batches/{batch}/recipients-{part}.jsonl

DROP_QUEUE = QueueSpec("DropQueue", visibility_timeout_seconds=180, max_receive_count=5)
LOAD_QUEUE = QueueSpec("LoadQueue", visibility_timeout_seconds=900, max_receive_count=5)
# The simulated provider's pending callbacks: one message per call, delayed by its length.
SIMULATOR_QUEUE = QueueSpec("SimulatorQueue", visibility_timeout_seconds=60, max_receive_count=5)
# Outgoing per-batch webhooks. A failed delivery stays in the queue with its visibility
# raised to an exponential backoff (batch_calls.logic.webhooks.retry_delay_seconds), so
# its 18 deliveries span more than 24 h (25.7 h) before SQS dead-letters it.
WEBHOOK_QUEUE = QueueSpec("WebhookQueue", visibility_timeout_seconds=720, max_receive_count=18)
# Amazon Connect's contact events (the amazon_connect provider's call outcomes).
CONTACT_EVENTS_QUEUE = QueueSpec(
    "ContactEventsQueue", visibility_timeout_seconds=60, max_receive_count=5
)
QUEUES = (DROP_QUEUE, LOAD_QUEUE, SIMULATOR_QUEUE, WEBHOOK_QUEUE, CONTACT_EVENTS_QUEUE)
# Each queue has a dead-letter queue: its logical id and this suffix.
DLQ_SUFFIX = "DLQ"

# The EventBridge rule that sends S3 "Object Created" events under incoming/ to the drop
# queue (S3 -> EventBridge -> SQS -> Lambda: moto's EventBridge does not invoke Lambda).
DROP_RULE = "DropRule"

# Orchestration (architecture.md section 2): rounds run as executions of one state
# machine; later rounds are started by one-time EventBridge Scheduler schedules that
# invoke the StartRound function.
STATE_MACHINE = "BatchRoundStateMachine"
SCHEDULER_GROUP = "SchedulerGroup"
SCHEDULER_ROLE = "SchedulerRole"
START_ROUND = "StartRoundFunction"

# The project's EventBridge bus: batch lifecycle and call-completed events (docs/events.md).
EVENT_BUS = "EventBus"


def setting(name: str) -> str:
    """An environment value that is a deployment setting, not a resource of the stack:
    `${Name}`, as in the state machine's setting substitutions. CDK supplies it (context,
    a generated secret, the API's URL); the embedded runtime from `EmbeddedAws(settings=)`.
    """
    return "${" + name + "}"


def setting_name(value: str) -> str | None:
    """`Name` for an environment value `${Name}` (a deployment setting), else None."""
    if value.startswith("${") and value.endswith("}"):
        return value[2:-1]
    return None


def environment_value(variable: str, *, name: str, arn: str, url: str | None = None) -> str:
    """What an environment variable named `variable` holds for a resource.

    The convention of `FunctionSpec.environment`, the same in CDK and the embedded
    runtime: `*_URL` holds the URL, `*_ARN` the ARN, anything else the name.
    """
    if variable.endswith("_URL"):
        if url is None:
            raise ValueError(f"{variable}: the resource it names has no URL")
        return url
    if variable.endswith("_ARN"):
        return arn
    return name


# The dial settings (DIAL_SETTINGS): state machine substitutions and function settings.
CALL_WATCH = "CallWatchSeconds"
CALL_WATCH_SETTING = setting(CALL_WATCH)
# The public base URL of the API, where providers POST status callbacks.
CALLBACK_URL_SETTING = setting("CallbackUrl")
# The deployment's default telephony provider (a workspace may choose another); unset:
# simulated.
TELEPHONY_PROVIDER_SETTING = setting("TelephonyProvider")
# Where webhooks may go: "public" addresses only (deployed), or "any" (the embedded
# runtime, whose receivers are on this machine). Unset: public only.
WEBHOOK_ADDRESSES_SETTING = setting("WebhookAddresses")
# Where a browser sends the presigned uploads of POST /batch-calls/uploads (the bucket's
# addresses), which the console's Content-Security-Policy allows. The stack names its
# bucket's; the embedded runtime its S3 endpoint.
UPLOAD_ORIGINS_SETTING = setting("UploadOrigins")

# Credentials of the telephony providers (one JSON object, a key per provider; see
# functions/batch_calls/telephony/credentials.py and docs/providers/).
TELEPHONY_SECRET = SecretSpec(
    "TelephonySecret", "Credentials of the telephony providers: a JSON object per provider"
)
# The HMAC key of the simulated provider's callbacks (not a real provider's credential,
# but a key all the same: read at run time, never in an environment variable).
SIMULATOR_SECRET = SecretSpec(
    "SimulatorSecret", "HMAC key of the simulated provider's signed callbacks", generated=True
)
SECRETS = (TELEPHONY_SECRET, SIMULATOR_SECRET)

_DATA = {
    "TABLE_NAME": MAIN_TABLE.logical_id,
    "BUCKET_NAME": BUCKET,
    "LOAD_QUEUE_URL": LOAD_QUEUE.logical_id,
    "STATE_MACHINE_ARN": STATE_MACHINE,
    "SCHEDULER_GROUP": SCHEDULER_GROUP,
    "SCHEDULER_ROLE_ARN": SCHEDULER_ROLE,
    "START_ROUND_FUNCTION_ARN": START_ROUND,
    # Every function that moves a batch or records a call emits its events and webhooks.
    "EVENT_BUS_NAME": EVENT_BUS,
    "WEBHOOK_QUEUE_URL": WEBHOOK_QUEUE.logical_id,
}

# API Gateway's integration timeout: a function behind a route answers before it, or the
# caller gets the gateway's 504 instead of the function's own answer.
API_INTEGRATION_TIMEOUT_SECONDS = 29

API_FUNCTION = FunctionSpec(
    logical_id="ApiFunction",
    handler=f"{PACKAGE}.handlers.api.lambda_handler",
    timeout_seconds=25,
    memory_mb=1769,  # one full vCPU: a 100,000-row file validates in about two seconds
    environment={**_DATA, "IDEMPOTENCY_TABLE_NAME": IDEMPOTENCY_TABLE.logical_id},
)
AUTHORIZER_FUNCTION = FunctionSpec(
    logical_id="AuthorizerFunction",
    handler=f"{PACKAGE}.handlers.authorizer.lambda_handler",
    timeout_seconds=10,
    memory_mb=256,
    environment={"TABLE_NAME": MAIN_TABLE.logical_id},
)
DROP_FUNCTION = FunctionSpec(
    logical_id="DropFunction",
    handler=f"{PACKAGE}.handlers.s3_drop.lambda_handler",
    timeout_seconds=120,
    memory_mb=1769,
    environment=_DATA,
    queue_trigger=(DROP_QUEUE.logical_id, 1),
    max_concurrency=10,
)
LOAD_FUNCTION = FunctionSpec(
    logical_id="LoadRecipientsFunction",
    handler=f"{PACKAGE}.handlers.load_recipients.lambda_handler",
    timeout_seconds=900,
    memory_mb=1024,
    environment=_DATA,
    queue_trigger=(LOAD_QUEUE.logical_id, 1),
    max_concurrency=10,
)
_ROUNDS = f"{PACKAGE}.handlers.rounds"
PREPARE_ROUND_FUNCTION = FunctionSpec(
    "PrepareRoundFunction", f"{_ROUNDS}.prepare_round", 300, 1024, _DATA
)
FINISH_ROUND_FUNCTION = FunctionSpec(
    "FinishRoundFunction", f"{_ROUNDS}.finish_round", 300, 1024, _DATA
)
START_ROUND_FUNCTION = FunctionSpec(START_ROUND, f"{_ROUNDS}.start_round", 60, 256, _DATA)
# The telephony providers: the simulated one places calls through its queue and signs
# its callbacks with a secret of the deployment's; the real ones read the telephony
# secret (the functions need secretsmanager:GetSecretValue on it) and give providers the
# API's URL for callbacks. The amazon_connect provider also needs connect:StartOutbound
# VoiceContact and connect:DescribeContact on the team's instance.
_TELEPHONY = {
    **_DATA,
    "SIMULATOR_QUEUE_URL": SIMULATOR_QUEUE.logical_id,
    "SIMULATOR_SECRET_ARN": SIMULATOR_SECRET.logical_id,
    "CALLBACK_URL": CALLBACK_URL_SETTING,
    "TELEPHONY_PROVIDER": TELEPHONY_PROVIDER_SETTING,
    "TELEPHONY_SECRET_ARN": TELEPHONY_SECRET.logical_id,
    "CALL_WATCH_SECONDS": CALL_WATCH_SETTING,
}
# A Dial runs for a second or so (up to 15 s when it waits for a workspace unit): 200 at
# once place thousands of calls a minute; more wait in the workflow's retry of
# Lambda.TooManyRequestsException.
DIAL_FUNCTION = FunctionSpec(
    "DialFunction", f"{PACKAGE}.handlers.dial.dial", 60, 512, _TELEPHONY, max_concurrency=200
)
RECONCILE_FUNCTION = FunctionSpec(
    "ReconcileFunction",
    f"{PACKAGE}.handlers.dial.reconcile",
    60,
    512,
    _TELEPHONY,
    max_concurrency=50,
)
CALL_EVENTS_FUNCTION = FunctionSpec(
    "CallEventsFunction", f"{PACKAGE}.handlers.call_events.lambda_handler", 25, 512, _TELEPHONY
)
# Amazon Connect's contact events, from CONTACT_EVENTS_RULE through CONTACT_EVENTS_QUEUE.
CONTACT_EVENTS_FUNCTION = FunctionSpec(
    "ContactEventsFunction",
    f"{PACKAGE}.handlers.call_events.contact_events",
    30,
    512,
    _TELEPHONY,
    queue_trigger=(CONTACT_EVENTS_QUEUE.logical_id, 10),
    max_concurrency=20,
)
CONTACT_EVENTS_RULE = RuleSpec(
    "ContactEventsRule",
    "Amazon Connect contact events that end a call placed through the API",
    {
        "source": ["aws.connect"],
        "detail-type": ["Amazon Connect Contact Event"],
        "detail": {"eventType": ["DISCONNECTED"], "initiationMethod": ["API"]},
    },
    CONTACT_EVENTS_QUEUE.logical_id,
)
RULES = (CONTACT_EVENTS_RULE,)


# Reconciles the calls nobody watches any more (logic/dispatch.py sweep).
SWEEP_FUNCTION = FunctionSpec(
    "SweepFunction",
    f"{PACKAGE}.handlers.dial.sweep",
    300,
    512,
    _TELEPHONY,
    every_minutes=1,
    max_concurrency=1,  # one sweep at a time: a slow one is not overtaken by the next
)

# The simulated provider's worker: delivers each call's signed status callback.
SIMULATOR_FUNCTION = FunctionSpec(
    "SimulatorFunction",
    f"{PACKAGE}.handlers.simulator.lambda_handler",
    30,
    256,
    {"CALLBACK_URL": CALLBACK_URL_SETTING, "SIMULATOR_SECRET_ARN": SIMULATOR_SECRET.logical_id},
    queue_trigger=(SIMULATOR_QUEUE.logical_id, 10),
    # Each invocation sleeps until its calls end: 100 x 10 simulated calls live at once.
    max_concurrency=100,
)

# Delivers the per-batch webhooks, signed with the workspace's webhook secret.
WEBHOOK_FUNCTION = FunctionSpec(
    "WebhookFunction",
    f"{PACKAGE}.handlers.webhooks.lambda_handler",
    120,  # ten deliveries of at most 10 s each
    256,
    {
        "TABLE_NAME": MAIN_TABLE.logical_id,
        "WEBHOOK_QUEUE_URL": WEBHOOK_QUEUE.logical_id,
        "WEBHOOK_ADDRESSES": WEBHOOK_ADDRESSES_SETTING,
    },
    queue_trigger=(WEBHOOK_QUEUE.logical_id, 10),
    max_concurrency=20,
)

# The web console's static files (public routes below); it touches no resource (it only
# names where uploads go). Public, so bounded: a flood of page loads cannot take the
# account's concurrency.
CONSOLE_FUNCTION = FunctionSpec(
    "ConsoleFunction",
    f"{PACKAGE}.handlers.console.lambda_handler",
    10,
    256,
    {"UPLOAD_ORIGINS": UPLOAD_ORIGINS_SETTING},
    max_concurrency=10,
)

FUNCTIONS = (
    API_FUNCTION,
    AUTHORIZER_FUNCTION,
    DROP_FUNCTION,
    LOAD_FUNCTION,
    PREPARE_ROUND_FUNCTION,
    FINISH_ROUND_FUNCTION,
    START_ROUND_FUNCTION,
    DIAL_FUNCTION,
    RECONCILE_FUNCTION,
    SWEEP_FUNCTION,
    CALL_EVENTS_FUNCTION,
    CONTACT_EVENTS_FUNCTION,
    SIMULATOR_FUNCTION,
    WEBHOOK_FUNCTION,
    CONSOLE_FUNCTION,
)

BATCH_ROUND = StateMachineSpec(
    logical_id=STATE_MACHINE,
    definition="statemachines/batch_round.asl.json",
    function_substitutions={
        "PrepareRoundFunctionArn": PREPARE_ROUND_FUNCTION.logical_id,
        "DialFunctionArn": DIAL_FUNCTION.logical_id,
        "ReconcileFunctionArn": RECONCILE_FUNCTION.logical_id,
        "FinishRoundFunctionArn": FINISH_ROUND_FUNCTION.logical_id,
    },
    setting_substitutions=(CALL_WATCH,),
)
# Production values, the embedded runtime's too: how long a slot waits for a call's
# outcome before asking the provider whether it is still live (a live call is waited for
# again; a lost callback holds its slot this long at most).
DIAL_SETTINGS = {CALL_WATCH: 300}


# Monitoring: the custom metrics the functions emit (Powertools Metrics, CloudWatch EMF,
# dimension `service`), and that the deployment's dashboard and alarms read.
METRICS_NAMESPACE = "BatchCalls"
# The one `service` dimension value every function's metrics carry.
METRICS_SERVICE = "batch-calls"
CALL_OUTCOME_METRICS = {
    "completed": "CallsCompleted",
    "no_answer": "CallsNoAnswer",
    "busy": "CallsBusy",
    "voicemail": "CallsVoicemail",
    "failed": "CallsFailed",
}
METRIC_NAMES = (
    "CallsStarted",
    *CALL_OUTCOME_METRICS.values(),
    "RetriesScheduled",
    "ValidationRejections",
    "CallbackLatency",  # milliseconds from the provider's event to its processing
    "Reconciliations",
    "WebhookDeliveryFailures",
    "LiveCalls",  # a gauge: calls placed whose outcome is unknown, each minute (the sweep)
)

# The API (API Gateway REST API, proxy integration to ApiFunction). Bodies of these
# content types reach the function base64-encoded.
BINARY_MEDIA_TYPES: tuple[str, ...] = (
    "multipart/form-data",
    "application/octet-stream",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-excel",
    "application/zip",
)


@dataclass(frozen=True)
class RouteSpec:
    """One API Gateway method: the function it integrates (Lambda proxy), and whether
    the authorizer guards it. API Gateway picks the most specific resource path, and an
    explicit method over ANY; the local gateway does the same from this same table."""

    method: str  # GET, POST, ... or ANY
    path: str  # an API Gateway resource path: {name} one segment, {name+} the rest
    function: str  # logical id of the FunctionSpec
    # No authorizer: the function checks the request itself (a provider's signature).
    public: bool = False
    # Requests per second (and burst) of this method alone, apart from the stage's.
    throttle: tuple[int, int] | None = None


ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec("ANY", "/", API_FUNCTION.logical_id),
    RouteSpec("ANY", "/{proxy+}", API_FUNCTION.logical_id),
    RouteSpec("GET", "/openapi.json", API_FUNCTION.logical_id, public=True),
    # The web console: the page and its files, no data (the page asks the API with the
    # key its user pastes).
    RouteSpec("GET", "/", CONSOLE_FUNCTION.logical_id, public=True),
    RouteSpec("GET", "/console/{asset+}", CONSOLE_FUNCTION.logical_id, public=True),
    # Providers' status callbacks: signed, and never throttled by the users' traffic
    # (Twilio does not retry a refused status callback).
    RouteSpec(
        "POST",
        "/provider-events/{provider}",
        CALL_EVENTS_FUNCTION.logical_id,
        public=True,
        throttle=(1000, 2000),
    ),
)
