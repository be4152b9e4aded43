"""moto's DynamoDB, made to behave like DynamoDB where the product relies on it.

- Atomic: moto's server answers requests on many threads and applies an UpdateItem or a
  TransactWriteItems as read-modify-write of its in-memory items without a lock, so two
  concurrent `SET counts.x = counts.x + :one` lose one of the increments. Every DynamoDB
  request is serialized instead (moto answers each in about a millisecond).
- Transactions that cost what they touch: moto 5.2.5 backs up a whole table, once per
  item of a TransactWriteItems, to roll a failed transaction back, a cost that grows
  with the table (83 ms a transaction at 200 recipients; a 500-recipient batch took 7
  minutes). Here a transaction backs up only the items it names, and a failed one puts
  them back: the same outcome for every transaction.
"""

import copy
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb import models as moto_dynamodb
from moto.dynamodb.models.table import Table as MotoTable
from moto.dynamodb.responses import DynamoHandler

_lock = threading.RLock()
_originals: dict[str, Callable[..., Any]] = {}


class _TableBackupSkipped(threading.local):
    active = False


_skip_table_backup = _TableBackupSkipped()


class _CopyWithoutTableBackup:
    """moto.dynamodb.models' `copy`, except that a Table is not copied while a
    transaction runs with item backups (which back up the items instead)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        if _skip_table_backup.active and isinstance(value, MotoTable):
            return value
        return copy.deepcopy(value, memo)


def _transact_with_item_backups(original: Callable[..., Any]) -> Callable[..., Any]:
    def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
        saved: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
        for entry in transact_items:
            op: dict[str, Any] = next(iter(entry.values()), {})
            try:
                table = backend.get_table(op["TableName"])
                key = op.get("Key") or {
                    name: op["Item"][name]
                    for name in (table.hash_key_attr, table.range_key_attr)
                    if name is not None
                }
                current = backend.get_item(op["TableName"], key)
            except Exception:  # moto's own code reports a malformed item
                continue
            attributes = None if current is None else copy.deepcopy(current.to_json())
            saved.append((op["TableName"], key, attributes and attributes["Attributes"]))
        _skip_table_backup.active = True
        try:
            original(backend, transact_items)
        except BaseException:
            for table_name, key, attributes in reversed(saved):
                if attributes is not None:
                    backend.put_item(table_name, attributes)
                elif backend.get_item(table_name, key) is not None:
                    backend.delete_item(table_name, key)
            raise
        finally:
            _skip_table_backup.active = False

    return transact_write_items


def install() -> None:
    """Patch moto for this process (moto's state is process-wide); idempotent."""
    if _originals:
        return
    call_action = DynamoHandler.call_action
    transact = moto_dynamodb.DynamoDBBackend.transact_write_items
    _originals["call_action"] = call_action
    _originals["transact_write_items"] = transact

    def serialized(self: DynamoHandler) -> Any:
        with _lock:
            return call_action(self)

    DynamoHandler.call_action = serialized  # type: ignore[method-assign]
    moto_dynamodb.DynamoDBBackend.transact_write_items = _transact_with_item_backups(transact)  # type: ignore[method-assign]
    moto_dynamodb.copy = _CopyWithoutTableBackup()  # type: ignore[attr-defined, assignment]


def uninstall() -> None:
    if not _originals:
        return
    DynamoHandler.call_action = _originals.pop("call_action")  # type: ignore[method-assign]
    moto_dynamodb.DynamoDBBackend.transact_write_items = _originals.pop("transact_write_items")  # type: ignore[method-assign]
    moto_dynamodb.copy = copy  # type: ignore[attr-defined]
