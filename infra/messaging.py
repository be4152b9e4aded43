"""The SQS queues of `infra.resources`, each with its dead-letter queue, and the event bus."""

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.resources import DLQ_SUFFIX, EVENT_BUS, QUEUES, QueueSpec
from infra.wiring import Registry, Wired

# Fourteen days, the longest SQS keeps a message: time to look at what failed.
DLQ_RETENTION = Duration.days(14)


class Messaging(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        registry: Registry,
        queues: tuple[QueueSpec, ...] = QUEUES,
    ) -> None:
        super().__init__(scope, construct_id)
        self.queues: dict[str, sqs.Queue] = {}
        self.dead_letter_queues: dict[str, sqs.Queue] = {}
        for spec in queues:
            queue = self._queue(spec)
            registry.add(
                Wired(
                    spec.logical_id,
                    "queue",
                    queue.queue_name,
                    queue.queue_arn,
                    queue.grant_send_messages,
                    queue,
                    url=queue.queue_url,
                )
            )
        self.event_bus = events.EventBus(self, EVENT_BUS)
        registry.add(
            Wired(
                EVENT_BUS,
                "event-bus",
                self.event_bus.event_bus_name,
                self.event_bus.event_bus_arn,
                self.event_bus.grant_put_events_to,
                self.event_bus,
            )
        )

    def _queue(self, spec: QueueSpec) -> sqs.Queue:
        secure = {"encryption": sqs.QueueEncryption.SQS_MANAGED, "enforce_ssl": True}
        dead_letters = sqs.Queue(
            self,
            spec.logical_id + DLQ_SUFFIX,
            retention_period=DLQ_RETENTION,
            **secure,  # type: ignore[arg-type]
        )
        queue = sqs.Queue(
            self,
            spec.logical_id,
            visibility_timeout=Duration.seconds(spec.visibility_timeout_seconds),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=dead_letters, max_receive_count=spec.max_receive_count
            ),
            **secure,  # type: ignore[arg-type]
        )
        self.queues[spec.logical_id] = queue
        self.dead_letter_queues[spec.logical_id] = dead_letters
        return queue
