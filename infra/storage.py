"""The DynamoDB tables and the S3 bucket of `infra.resources`."""

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.resources import BUCKET, INCOMING_PREFIX, REJECTED_PREFIX, TABLES, TableSpec
from infra.wiring import Registry, Wired

# A dropped or rejected file is kept this long for a look, then expires; uploads and
# batch files stay (reports and recipients are read from them).
DROP_RETENTION = Duration.days(90)
ACCESS_LOG_RETENTION = Duration.days(365)


def _string(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class Storage(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, registry: Registry) -> None:
        super().__init__(scope, construct_id)
        self.tables = {spec.logical_id: self._table(spec) for spec in TABLES}
        for logical_id, table in self.tables.items():
            registry.add(
                Wired(
                    logical_id,
                    "table",
                    table.table_name,
                    table.table_arn,
                    table.grant_read_write_data,
                    table,
                )
            )
        self.bucket = self._bucket()
        registry.add(
            Wired(
                BUCKET,
                "bucket",
                self.bucket.bucket_name,
                self.bucket.bucket_arn,
                self.bucket.grant_read_write,
                self.bucket,
            )
        )

    def _table(self, spec: TableSpec) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            spec.logical_id,
            partition_key=_string(spec.partition_key),
            sort_key=_string(spec.sort_key) if spec.sort_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            time_to_live_attribute=spec.ttl_attribute,
            deletion_protection=True,
            # The batches and their recipients outlive the stack: see README, tear down.
            removal_policy=RemovalPolicy.RETAIN,
        )
        for index_name, (partition_key, sort_key) in spec.indexes.items():
            table.add_global_secondary_index(
                index_name=index_name,
                partition_key=_string(partition_key),
                sort_key=_string(sort_key),
                projection_type=dynamodb.ProjectionType.ALL,
            )
        return table

    def _bucket(self) -> s3.Bucket:
        secure = {
            "encryption": s3.BucketEncryption.S3_MANAGED,
            "enforce_ssl": True,
            "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
            "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            "removal_policy": RemovalPolicy.RETAIN,
        }
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            lifecycle_rules=[s3.LifecycleRule(expiration=ACCESS_LOG_RETENTION)],
            **secure,  # type: ignore[arg-type]
        )
        return s3.Bucket(
            self,
            BUCKET,
            # The console posts large contact files straight to S3 (a presigned POST from
            # POST /batch-calls/uploads). The signed policy is the grant (one key, 10 MB,
            # 15 minutes) and S3 takes no cookie, so any page may read the answer.
            cors=[s3.CorsRule(allowed_methods=[s3.HttpMethods.POST], allowed_origins=["*"])],
            event_bridge_enabled=True,  # the S3 drop: Object Created -> EventBridge
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="bucket/",
            lifecycle_rules=[
                s3.LifecycleRule(abort_incomplete_multipart_upload_after=Duration.days(1)),
                s3.LifecycleRule(prefix=INCOMING_PREFIX, expiration=DROP_RETENTION),
                s3.LifecycleRule(prefix=REJECTED_PREFIX, expiration=DROP_RETENTION),
            ],
            **secure,  # type: ignore[arg-type]
        )

    @property
    def upload_origins(self) -> str:
        """The addresses boto3 gives presigned POSTs to the bucket (global and regional
        virtual-hosted), as a Content-Security-Policy source list."""
        return (
            f"https://{self.bucket.bucket_name}.s3.amazonaws.com "
            f"https://{self.bucket.bucket_regional_domain_name}"
        )
