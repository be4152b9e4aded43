"""API Gateway REQUEST authorizer: an API key -> its workspace.

Keys come as `x-api-key` or `Authorization: Bearer`; when both are sent, x-api-key wins
(seed 004). The workspace id travels to the api function in the authorizer context and
is the only tenancy the API trusts.
"""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_calls.domain.workspace import hash_api_key
from batch_calls.handlers import wiring

logger = Logger(service="batch-calls-authorizer")


def api_key_of(headers: dict[str, str] | None) -> str | None:
    lowered = {name.lower(): value for name, value in (headers or {}).items()}
    key = (lowered.get("x-api-key") or "").strip()
    if key:
        return key
    scheme, _, token = (lowered.get("authorization") or "").strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    key = api_key_of(event.get("headers"))
    workspace_id = None if key is None else wiring.database().workspace_of_key(hash_api_key(key))
    if workspace_id is None:
        logger.info("rejected request", extra={"had_key": key is not None})
        raise Exception("Unauthorized")  # API Gateway answers 401 for exactly this message
    # Allow every method and path of this API for the workspace: the api function scopes
    # each request to it. (Cached policies must not be narrower than the API.)
    api_arn = "/".join(str(event.get("methodArn", "*")).split("/")[:2]) + "/*"
    return {
        "principalId": workspace_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": api_arn}],
        },
        "context": {"workspace_id": workspace_id},
    }
