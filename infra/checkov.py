"""The checkov checks the stack does not follow, each with the reason (the cdk-nag
suppressions are in infra/nag.py). tests/infra/test_checks.py runs checkov on the
synthesised template with these skipped: any other finding fails the tests."""

SKIPPED_CHECKS = {
    "CKV_AWS_115": (
        "concurrency is bounded where it protects the API (FunctionSpec.max_concurrency: "
        "dial, reconcile, sweep, the queue consumers and the console's files); the API "
        "and its authorizer are left unreserved on purpose, a reservation would cap them"
    ),
    "CKV_AWS_116": (
        "a dead-letter queue only serves asynchronous invocations: the queue consumers' "
        "messages dead-letter in their queues' DLQs, the sweep (the one function invoked "
        "asynchronously) runs again the next minute, the rest are invoked synchronously"
    ),
    "CKV_AWS_117": (
        "the functions reach AWS APIs and the telephony providers' public APIs only, with "
        "IAM scoping every access; a VPC would need NAT gateways (about $32 a month each "
        "at rest) for no isolation a team gains"
    ),
    "CKV_AWS_173": (
        "environment variables hold resource names, ARNs and URLs only, never a secret "
        "(tests/infra/test_stack.py checks it); secrets are read from Secrets Manager"
    ),
    "CKV_AWS_158": (
        "log groups are encrypted by CloudWatch Logs with AWS-owned keys; functions log no "
        "phone number or secret, and a customer managed key per log group adds cost and a "
        "key policy to run for no reader it keeps out"
    ),
    "CKV_AWS_119": (
        "the tables are encrypted at rest with AWS-owned keys; a customer managed key is a "
        "team's choice for its compliance regime, not a default worth its request charges"
    ),
    "CKV_AWS_149": (
        "the secrets are encrypted with the account's aws/secretsmanager key; a customer "
        "managed key adds a key policy every reader must be granted, for no reader it keeps out"
    ),
    "CKV_AWS_27": (
        "every queue is encrypted at rest with SQS-managed keys (SqsManagedSseEnabled), which "
        "this check does not recognise; cdk-nag's AwsSolutions-SQS checks accept it"
    ),
    "CKV_AWS_21": (
        "versioning would keep uploaded contact lists (personal data) after the lifecycle "
        "rules delete them; every object the product writes can be made again from the table"
    ),
    "CKV_AWS_18": (
        "the one bucket without access logging is the access-log bucket itself: logging it "
        "would log the logs"
    ),
    "CKV_AWS_120": (
        "every answer is a workspace's live state behind its own key: a cache would serve "
        "stale progress, and the authorizer has no identity source to key a cache on"
    ),
    "CKV_AWS_59": (
        "the public methods are public by design: GET /openapi.json (the API's "
        "document), the web console's static files (GET / and GET /console/{asset+}: no "
        "data, the page calls the API with its user's key) and the providers' signed "
        "status callbacks, verified by the function"
    ),
}
