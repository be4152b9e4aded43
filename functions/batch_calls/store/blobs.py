"""S3: uploaded files, normalised recipients, presigned uploads, drop rejections.

Every object of a workspace lives under a key naming that workspace.
"""

import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

import boto3
from botocore.exceptions import ClientError

from batch_calls.domain.report_keys import BATCHES, UPLOADS


class Blobs:
    def __init__(self, bucket: str, client: Any = None) -> None:
        self.bucket = bucket
        self.s3 = client or boto3.client("s3")

    def put_source(
        self, workspace_id: str, batch_id: str, part: int, data: bytes, name: str
    ) -> str:
        key = f"{UPLOADS}/{workspace_id}/{batch_id}/source-{part:03d}-{_safe_name(name)}"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)
        return key

    def put_recipients(
        self, workspace_id: str, batch_id: str, part: int, records: Iterable[dict[str, Any]]
    ) -> str:
        """The normalised rows of one contact file, one JSON object a line."""
        body = "".join(
            json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records
        )
        key = _recipients_key(workspace_id, batch_id, part)
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body.encode())
        return key

    def read_recipients(
        self, workspace_id: str, batch_id: str, part: int
    ) -> Iterator[dict[str, Any]]:
        response = self.s3.get_object(
            Bucket=self.bucket, Key=_recipients_key(workspace_id, batch_id, part)
        )
        for line in response["Body"].iter_lines():
            if line:
                yield json.loads(line)

    def presigned_upload(
        self, workspace_id: str, upload_id: str, max_bytes: int, expires_in: int
    ) -> dict[str, Any]:
        """A presigned POST limited to one key and at most `max_bytes`."""
        post: dict[str, Any] = self.s3.generate_presigned_post(
            Bucket=self.bucket,
            Key=_upload_key(workspace_id, upload_id),
            Conditions=[["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_in,
        )
        return post

    def get_upload(self, workspace_id: str, upload_id: str, max_bytes: int) -> bytes | None:
        """The uploaded file, None when nothing was uploaded under that id; at most one
        byte more than `max_bytes` is read, enough to tell it is too large."""
        try:
            response = self.s3.get_object(
                Bucket=self.bucket,
                Key=_upload_key(workspace_id, upload_id),
                Range=f"bytes=0-{max_bytes}",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] in {"NoSuchKey", "404", "InvalidRange"}:
                return None
            raise
        data: bytes = response["Body"].read()
        return data

    def get_dropped(self, key: str, max_bytes: int) -> tuple[bytes, dict[str, str], str]:
        """An object of the S3 drop: its first max_bytes + 1 bytes, user metadata, ETag."""
        response = self.s3.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{max_bytes}")
        etag = str(response.get("ETag", "")).strip('"')
        return response["Body"].read(), dict(response.get("Metadata", {})), etag

    def put_report(self, key: str, csv: IO[bytes]) -> None:
        """Streamed from `csv` (a multipart upload when it is large)."""
        self.s3.upload_fileobj(
            csv, self.bucket, key, ExtraArgs={"ContentType": "text/csv; charset=utf-8"}
        )

    def report_size(self, key: str) -> int | None:
        """The stored report's size in bytes; None when there is none."""
        try:
            response = self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response["Error"]["Code"] in {"NoSuchKey", "404", "NotFound"}:
                return None
            raise
        return int(response["ContentLength"])

    def get_report(self, key: str) -> bytes:
        data: bytes = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return data

    def report_url(self, key: str, filename: str, expires_in: int) -> str:
        """A presigned GET that downloads the report under `filename`."""
        url: str = self.s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
            },
            ExpiresIn=expires_in,
        )
        return url

    def put_rejection(self, key: str, body: dict[str, Any]) -> None:
        self.s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=json.dumps(body, indent=2, ensure_ascii=False).encode(),
            ContentType="application/json",
        )


def _recipients_key(workspace_id: str, batch_id: str, part: int) -> str:
    return f"{BATCHES}/{workspace_id}/{batch_id}/recipients-{part:03d}.jsonl"


def _upload_key(workspace_id: str, upload_id: str) -> str:
    return f"{UPLOADS}/{workspace_id}/pending/{upload_id}"


def _safe_name(name: str) -> str:
    kept = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[-100:]
    return kept or "file"
