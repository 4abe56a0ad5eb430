"""The consent and payment life cycles as explicit transition tables (v3.1.11 status enums).

Every status change goes through :meth:`StateMachine.check` first and is then written with a DynamoDB
condition on the current status, so a table entry is the only way a status can change, even under races.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Generic, TypeVar

from .models import ConsentStatus, PaymentStatus

S = TypeVar("S", bound=StrEnum)


class InvalidTransition(ValueError):
    def __init__(self, machine: str, current: StrEnum, target: StrEnum) -> None:
        super().__init__(f"a {machine} cannot go from {current.value} to {target.value}")
        self.current = current
        self.target = target


class StateMachine(Generic[S]):
    def __init__(self, name: str, initial: S, table: Mapping[S, frozenset[S]]) -> None:
        self.name = name
        self.initial = initial
        self.table = dict(table)

    def allowed(self, current: S) -> frozenset[S]:
        return self.table.get(current, frozenset())

    def can(self, current: S, target: S) -> bool:
        return target in self.allowed(current)

    def check(self, current: S, target: S) -> None:
        if not self.can(current, target):
            raise InvalidTransition(self.name, current, target)

    def is_final(self, state: S) -> bool:
        return not self.allowed(state)


_C = ConsentStatus
#: PIS consent: the PSU authorises or rejects it once; an authorised consent is consumed by its one payment.
#: No revocation: a payment consent cannot be revoked after authorisation (PSD2 Art. 80).
CONSENT_MACHINE: StateMachine[ConsentStatus] = StateMachine("domestic-payment consent", _C.AWAITING_AUTHORISATION, {
    _C.AWAITING_AUTHORISATION: frozenset({_C.AUTHORISED, _C.REJECTED}),
    _C.AUTHORISED: frozenset({_C.CONSUMED}),
    _C.REJECTED: frozenset(),
    _C.CONSUMED: frozenset(),
})

_P = PaymentStatus
#: Domestic payment order (ISO 20022 PDNG -> ACSP -> ACSC -> ACCC; ACWP; RJCT until settlement completes).
PAYMENT_MACHINE: StateMachine[PaymentStatus] = StateMachine("domestic payment", _P.PENDING, {
    _P.PENDING: frozenset({_P.ACCEPTED_SETTLEMENT_IN_PROCESS, _P.ACCEPTED_WITHOUT_POSTING, _P.REJECTED}),
    _P.ACCEPTED_SETTLEMENT_IN_PROCESS: frozenset({_P.ACCEPTED_SETTLEMENT_COMPLETED, _P.REJECTED}),
    _P.ACCEPTED_SETTLEMENT_COMPLETED: frozenset({_P.ACCEPTED_CREDIT_SETTLEMENT_COMPLETED}),
    _P.ACCEPTED_CREDIT_SETTLEMENT_COMPLETED: frozenset(),
    _P.ACCEPTED_WITHOUT_POSTING: frozenset(),
    _P.REJECTED: frozenset(),
})
