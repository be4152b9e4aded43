"""A small HTTP client for the local API: JSON and multipart, as curl sends them."""

import json
from typing import Any

from cli.http_client import Reply, multipart, send

__all__ = ["CSV", "Client", "Reply", "multipart"]

CSV = (
    "phone_number,customer_name,loan_amount\n"
    "9876543210,Priya Sharma,500000\n"
    "9123456789,Rahul Mehra,250000\n"
    "+1 415 555 0101,Jordan Lee,20000\n"
)


class Client:
    def __init__(self, base_url: str, api_key: str | None) -> None:
        self.base_url = base_url
        self.api_key = api_key

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body: bytes | None = None,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
        auth: str = "x-api-key",
        follow_redirects: bool = True,
    ) -> Reply:
        sent = dict(headers or {})
        if self.api_key is not None:
            if auth == "x-api-key":
                sent["x-api-key"] = self.api_key
            else:
                sent["Authorization"] = f"Bearer {self.api_key}"
        if json_body is not None:
            body = json.dumps(json_body).encode()
            content_type = "application/json"
        if content_type:
            sent["Content-Type"] = content_type
        return send(
            method, self.base_url + path, body=body, headers=sent, follow_redirects=follow_redirects
        )

    def create(
        self,
        fields: dict[str, str] | None = None,
        csv: str | bytes = CSV,
        filename: str = "contacts.csv",
        headers: dict[str, str] | None = None,
        path: str = "/batch-calls",
    ) -> Reply:
        """POST /batch-calls (or /batch-calls/validate) as seed 000's curl does."""
        form = {"agent_id": "agt_demo", "from_phone_number": "+912234567890", **(fields or {})}
        data = csv.encode() if isinstance(csv, str) else csv
        body, content_type = multipart(form, {"file": (filename, data)})
        return self.request("POST", path, body=body, content_type=content_type, headers=headers)
