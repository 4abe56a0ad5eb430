"""Core banking's part in the sandbox: payments settle.

In production core banking reports a payment's progress to PIS's internal status endpoint, and each report is a
`resource-update` event for the TPP. The sandbox has no core banking, so :class:`SettlementSimulator` plays it:
every payment still settling moves one step along :data:`NEXT_STEP` once `step_seconds` have passed since its last
change (Pending -> AcceptedSettlementInProcess -> AcceptedSettlementCompleted ->
AcceptedCreditSettlementCompleted), through the same internal endpoint, so a TPP can test settlement polling and
events. A payment PIS rejected (funds) stays Rejected. A TPP can also cause any allowed change at once through the
sandbox IdP (`POST /sandbox/domestic-payments/{DomesticPaymentId}/status`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import anyio

from openbanking.common.dynamo_items import expression_values, from_item
from openbanking.pis.models import PaymentStatus

log = logging.getLogger(__name__)

_P = PaymentStatus
#: The step core banking reports next for a payment in each status (the happy path of the life cycle).
NEXT_STEP: dict[str, str] = {
    _P.PENDING.value: _P.ACCEPTED_SETTLEMENT_IN_PROCESS.value,
    _P.ACCEPTED_SETTLEMENT_IN_PROCESS.value: _P.ACCEPTED_SETTLEMENT_COMPLETED.value,
    _P.ACCEPTED_SETTLEMENT_COMPLETED.value: _P.ACCEPTED_CREDIT_SETTLEMENT_COMPLETED.value,
}

#: (payment id, status, StatusUpdateDateTime) of every payment that may still move.
SettlingPayments = Callable[[], list[tuple[str, str, str]]]
#: Reports `status` for a payment; whether PIS took it (False: someone else moved it first).
Report = Callable[[str, str], Awaitable[bool]]


def settling_payments(client: Any, table: str) -> SettlingPayments:
    """The payments table's settling payments (a scan: the sandbox holds few)."""

    def scan() -> list[tuple[str, str, str]]:
        found: list[tuple[str, str, str]] = []
        statuses = {f"s{i}": status for i, status in enumerate(NEXT_STEP)}
        pages = client.get_paginator("scan").paginate(
            TableName=table, ProjectionExpression="PaymentId, #status, StatusUpdateDateTime",
            FilterExpression=f"#status IN ({', '.join(':' + k for k in statuses)})",
            ExpressionAttributeNames={"#status": "Status"}, ExpressionAttributeValues=expression_values(**statuses),
            ConsistentRead=True)
        for page in pages:
            for item in page.get("Items", []):
                values = from_item(item)
                found.append((str(values["PaymentId"]), str(values["Status"]), str(values["StatusUpdateDateTime"])))
        return found

    return scan


class SettlementSimulator:
    def __init__(self, payments: SettlingPayments, report: Report, *, step_seconds: float,
                 clock: Callable[[], float] = time.time) -> None:
        if step_seconds <= 0:
            raise ValueError(f"OB_SANDBOX_SETTLEMENT_SECONDS: {step_seconds} must be more than 0 (0 turns it off)")
        self.payments = payments
        self.report = report
        self.step_seconds = step_seconds
        self.clock = clock

    async def run_once(self) -> list[tuple[str, str]]:
        """Move every payment that is due one step; the (payment id, new status) pairs PIS took."""
        now = self.clock()
        rows = await anyio.to_thread.run_sync(self.payments)
        moved: list[tuple[str, str]] = []
        for payment_id, status, updated in sorted(rows):
            target = NEXT_STEP.get(status)
            if target is None or now - datetime.fromisoformat(updated).timestamp() < self.step_seconds:
                continue
            if await self.report(payment_id, target):
                moved.append((payment_id, target))
        return moved

    async def run(self) -> None:
        """Forever: a round, then a pause (at most a second, so steps are taken on time)."""
        while True:
            try:
                for payment_id, status in await self.run_once():
                    log.info("sandbox settlement: %s is %s", payment_id, status)
            except Exception:  # a failed round is retried at the next; the simulator never dies of one
                log.exception("sandbox settlement round failed")
            await anyio.sleep(min(self.step_seconds, 1.0))
