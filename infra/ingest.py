"""The S3 drop: "Object Created" under incoming/ -> EventBridge -> the drop queue (whose
function the generic wiring triggers), as in the embedded runtime."""

from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.resources import DROP_RULE, INCOMING_PREFIX


class Ingest(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, bucket: s3.IBucket, drop_queue: sqs.IQueue
    ) -> None:
        super().__init__(scope, construct_id)
        self.drop_rule = events.Rule(
            self,
            DROP_RULE,
            description="S3 files dropped under incoming/ become batches",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [bucket.bucket_name]},
                    "object": {"key": [{"prefix": INCOMING_PREFIX}]},
                },
            ),
            targets=[targets.SqsQueue(drop_queue)],
        )
