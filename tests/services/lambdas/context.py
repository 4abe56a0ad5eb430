"""A Lambda context as the runtime hands it to a handler (what Powertools' logger and idempotency read)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from aws_lambda_powertools.utilities.typing import LambdaContext


@dataclass
class FakeContext:
    function_name: str = "ob-function"
    memory_limit_in_mb: int = 256
    aws_request_id: str = "req-1"
    remaining_millis: int = 30_000

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:eu-west-2:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_millis


def lambda_context(function_name: str) -> LambdaContext:
    return cast(LambdaContext, FakeContext(function_name))
