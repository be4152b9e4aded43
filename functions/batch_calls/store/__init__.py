"""The only place that talks to DynamoDB, S3, SQS and EventBridge: one module per
resource, and within the table one module per item kind (database.py: workspaces and
batches; attempts.py: recipients, calls, slots and contact histories; pacing.py: call
starts and the workspace's live calls). The composition root (handlers/wiring.py)
builds them from the deployment."""
