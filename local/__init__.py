"""The embedded AWS: the whole product on one machine, with no AWS account.

- `aws.EmbeddedAws`: a moto server in this process with the stack's resources.
- `lambda_runtime`: Lambda invocations run the configured handler in-process.
- `sqs_poller`: SQS event source mappings, polled as Lambda polls them.
- `api_gateway.LocalApiGateway`: API Gateway's REST proxy and Lambda authorizer.

Never bundled into a Lambda function.
"""
