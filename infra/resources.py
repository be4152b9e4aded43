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
class FunctionSpec:
    logical_id: str
    handler: str
    timeout_seconds: int
    memory_mb: int
    # Environment variable -> the logical id of the resource whose name/url/arn it holds.
    environment: dict[str, str]
    # SQS queue (logical id) whose messages invoke this function, with batch size.
    queue_trigger: tuple[str, int] | None = None


MAIN_TABLE = TableSpec(
    logical_id="Table",
    partition_key="PK",
    sort_key="SK",
    ttl_attribute="expires_at",
    indexes={
        # Batches of a workspace, newest first (GSI1SK = created_at#id).
        "GSI1": ("GSI1PK", "GSI1SK"),
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
QUEUES = (DROP_QUEUE, LOAD_QUEUE)

# The EventBridge rule that sends S3 "Object Created" events under incoming/ to the drop
# queue (S3 -> EventBridge -> SQS -> Lambda: moto's EventBridge does not invoke Lambda).
DROP_RULE = "DropRule"

_DATA = {
    "TABLE_NAME": MAIN_TABLE.logical_id,
    "BUCKET_NAME": BUCKET,
    "LOAD_QUEUE_URL": LOAD_QUEUE.logical_id,
}

API_FUNCTION = FunctionSpec(
    logical_id="ApiFunction",
    handler=f"{PACKAGE}.handlers.api.lambda_handler",
    timeout_seconds=29,
    memory_mb=1769,  # one full vCPU: a 100,000-row file validates in about a second
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
)
LOAD_FUNCTION = FunctionSpec(
    logical_id="LoadRecipientsFunction",
    handler=f"{PACKAGE}.handlers.load_recipients.lambda_handler",
    timeout_seconds=900,
    memory_mb=1024,
    environment=_DATA,
    queue_trigger=(LOAD_QUEUE.logical_id, 1),
)
FUNCTIONS = (API_FUNCTION, AUTHORIZER_FUNCTION, DROP_FUNCTION, LOAD_FUNCTION)
