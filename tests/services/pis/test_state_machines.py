"""The consent and payment life cycles: the transition tables' shape, and (hypothesis, stateful) that the
DynamoDB store follows the tables exactly, under any sequence of operations, including stale writers."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from openbanking.common.dynamo import table_name
from openbanking.common.settings import ServiceSettings
from openbanking.pis.models import ConsentStatus, PaymentStatus
from openbanking.pis.states import CONSENT_MACHINE, PAYMENT_MACHINE, InvalidTransition, StateMachine
from openbanking.pis.store import ConsentStateConflict, PaymentStatusConflict, PaymentStore
from tests.services.pis.support import INITIATION, RISK


def _reachable(machine: StateMachine[Any]) -> set[Any]:
    seen, todo = {machine.initial}, [machine.initial]
    while todo:
        for nxt in machine.allowed(todo.pop()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _acyclic(machine: StateMachine[Any]) -> bool:
    def visit(state: Any, path: frozenset[Any]) -> bool:
        return all(nxt not in path and visit(nxt, path | {nxt}) for nxt in machine.allowed(state))
    return visit(machine.initial, frozenset({machine.initial}))


@pytest.mark.parametrize(("machine", "states", "finals"), [
    (CONSENT_MACHINE, set(ConsentStatus), {ConsentStatus.REJECTED, ConsentStatus.CONSUMED}),
    (PAYMENT_MACHINE, set(PaymentStatus), {PaymentStatus.REJECTED, PaymentStatus.ACCEPTED_WITHOUT_POSTING,
                                           PaymentStatus.ACCEPTED_CREDIT_SETTLEMENT_COMPLETED}),
])
def test_tables_cover_every_status_reach_them_all_and_never_loop(machine: StateMachine[Any], states: set[Any],
                                                                 finals: set[Any]) -> None:
    assert set(machine.table) == states, "every status of the spec enum has a row"
    assert _reachable(machine) == states
    assert _acyclic(machine), "no status can come back"
    assert {s for s in states if machine.is_final(s)} == finals


def test_the_obie_paths_are_allowed_and_shortcuts_are_not() -> None:
    c, p = ConsentStatus, PaymentStatus
    assert CONSENT_MACHINE.can(c.AWAITING_AUTHORISATION, c.AUTHORISED) and CONSENT_MACHINE.can(c.AUTHORISED, c.CONSUMED)
    assert not CONSENT_MACHINE.can(c.AWAITING_AUTHORISATION, c.CONSUMED)
    assert not CONSENT_MACHINE.can(c.REJECTED, c.AUTHORISED)
    assert PAYMENT_MACHINE.can(p.PENDING, p.ACCEPTED_SETTLEMENT_IN_PROCESS)
    assert PAYMENT_MACHINE.can(p.ACCEPTED_SETTLEMENT_IN_PROCESS, p.ACCEPTED_SETTLEMENT_COMPLETED)
    assert not PAYMENT_MACHINE.can(p.PENDING, p.ACCEPTED_SETTLEMENT_COMPLETED)
    with pytest.raises(InvalidTransition, match="cannot go from Rejected to Pending"):
        PAYMENT_MACHINE.check(p.REJECTED, p.PENDING)


def test_the_store_follows_the_tables(dynamodb: Any, settings: ServiceSettings) -> None:
    store = PaymentStore(dynamodb, table_name(settings, "consents"), table_name(settings, "payments"))

    class Lifecycle(RuleBasedStateMachine):
        consents = Bundle("consents")
        payments = Bundle("payments")

        def __init__(self) -> None:
            super().__init__()
            self.consent_model: dict[str, ConsentStatus] = {}
            self.payment_model: dict[str, PaymentStatus] = {}
            self.payment_of: dict[str, str] = {}
            self.touched_consents: set[str] = set()
            self.touched_payments: set[str] = set()

        @rule(target=consents)
        def create_consent(self) -> str:
            consent_id = f"pdc-{uuid.uuid4()}"
            store.create_consent(consent_id, "tpp-h", "client-h", {"Initiation": INITIATION}, RISK)
            self.consent_model[consent_id] = ConsentStatus.AWAITING_AUTHORISATION
            return consent_id

        @rule(consent_id=consents, target_status=st.sampled_from(list(ConsentStatus)))
        def decide(self, consent_id: str, target_status: ConsentStatus) -> None:
            self.touched_consents.add(consent_id)
            consent = store.get_consent(consent_id)
            assert consent is not None
            allowed = target_status in (ConsentStatus.AUTHORISED, ConsentStatus.REJECTED) and \
                CONSENT_MACHINE.can(self.consent_model[consent_id], target_status)
            if allowed:
                assert store.decide_consent(consent, target_status, "psu-h", None).status is target_status
                self.consent_model[consent_id] = target_status
            else:
                with pytest.raises(InvalidTransition):
                    store.decide_consent(consent, target_status, "psu-h", None)

        @rule(target=payments, consent_id=consents)
        def pay(self, consent_id: str) -> str:
            self.touched_consents.add(consent_id)
            consent = store.get_consent(consent_id)
            assert consent is not None
            payment_id = f"pdp-{uuid.uuid4()}"
            if self.consent_model[consent_id] is ConsentStatus.AUTHORISED:
                store.create_payment(payment_id, consent)
                self.consent_model[consent_id] = ConsentStatus.CONSUMED
                self.payment_model[payment_id] = PaymentStatus.PENDING
                self.payment_of[payment_id] = consent_id
                self.touched_payments.add(payment_id)
            else:
                with pytest.raises(InvalidTransition):
                    store.create_payment(payment_id, consent)
            return payment_id

        @rule(consent_id=consents)
        def pay_with_a_stale_consent(self, consent_id: str) -> None:
            """A writer that read the consent while it was Authorised, after it was consumed."""
            self.touched_consents.add(consent_id)
            consent = store.get_consent(consent_id)
            assert consent is not None
            if self.consent_model[consent_id] is ConsentStatus.CONSUMED:
                consent.status = ConsentStatus.AUTHORISED
                with pytest.raises(ConsentStateConflict):
                    store.create_payment(f"pdp-{uuid.uuid4()}", consent)

        @rule(payment_id=payments, target_status=st.sampled_from(list(PaymentStatus)), stale=st.booleans())
        def move(self, payment_id: str, target_status: PaymentStatus, stale: bool) -> None:
            self.touched_payments.add(payment_id)
            if payment_id not in self.payment_model:
                assert store.get_payment(payment_id) is None
                return
            payment = store.get_payment(payment_id)
            assert payment is not None
            current = self.payment_model[payment_id]
            if stale and PAYMENT_MACHINE.allowed(current):
                # someone else moves it first; our copy is now stale
                step = sorted(PAYMENT_MACHINE.allowed(current))[0]
                store.change_payment_status(payment, step)
                self.payment_model[payment_id] = step
                if PAYMENT_MACHINE.can(payment.status, target_status):
                    with pytest.raises(PaymentStatusConflict):
                        store.change_payment_status(payment, target_status)
                return
            if PAYMENT_MACHINE.can(current, target_status):
                store.change_payment_status(payment, target_status)
                self.payment_model[payment_id] = target_status
            else:
                with pytest.raises(InvalidTransition):
                    store.change_payment_status(payment, target_status)

        def check(self, consent_ids: set[str], payment_ids: set[str]) -> None:
            for consent_id in consent_ids:
                stored = store.get_consent(consent_id)
                assert stored is not None and stored.status is self.consent_model[consent_id]
                payments_of = dynamodb.query(TableName=table_name(settings, "payments"), IndexName="ConsentId-index",
                                             KeyConditionExpression="ConsentId = :c",
                                             ExpressionAttributeValues={":c": {"S": consent_id}})["Items"]
                assert len(payments_of) == (1 if stored.status is ConsentStatus.CONSUMED else 0)
            for payment_id in payment_ids:
                status = self.payment_model[payment_id]
                stored_payment = store.get_payment(payment_id)
                assert stored_payment is not None and stored_payment.status is status
                assert stored_payment.history[-1]["Status"] == status.value
                assert stored_payment.consent_id == self.payment_of[payment_id]

        @invariant()
        def stored_matches_model(self) -> None:
            """After each step, for what the step touched (everything is checked again at the end)."""
            self.check(self.touched_consents & set(self.consent_model), self.touched_payments & set(self.payment_model))
            self.touched_consents.clear()
            self.touched_payments.clear()

        def teardown(self) -> None:
            self.check(set(self.consent_model), set(self.payment_model))

    run_state_machine_as_test(Lifecycle, settings=hypothesis_settings(
        max_examples=15, stateful_step_count=10, deadline=None, suppress_health_check=[HealthCheck.too_slow]))
