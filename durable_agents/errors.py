"""Three exception classes decide where a tool failure goes.

| raise                | who handles it          | the model sees                         | Temporal retries |
|----------------------|-------------------------|----------------------------------------|------------------|
| `ToolValidationError`| Pydantic AI             | a retry prompt: "fix it and try again" | no               |
| `ToolExecutionError` | Pydantic AI             | a failed tool result, final            | no               |
| `ToolRetryableError` | Temporal's retry policy | only the attempt that succeeds         | yes              |

A `ToolValidationError` is a `ModelRetry`: each one spends one of the tool's retries (Pydantic AI's
default is one), and past that budget the run fails instead of asking the model again. A
`ToolRetryableError` that outlasts the retry policy fails the activity for good, and with it the run.
"""

from __future__ import annotations

from pydantic_ai.exceptions import ModelRetry, ToolFailed


class ToolValidationError(ModelRetry):
    """The call was wrong in a way the model can repair (bad path, bad value): it is told and retries."""


class ToolExecutionError(ToolFailed):
    """The call was right but failed for good (missing resource): the model is told, nothing retries."""


class ToolRetryableError(RuntimeError):
    """A transient failure (network, lock, rate limit): the activity fails and Temporal retries it."""


def root_cause(error: BaseException | None) -> str:
    """The innermost message of a Temporal failure chain (workflow -> activity -> application error)."""
    while error is not None and getattr(error, "cause", None) is not None:
        error = error.cause  # type: ignore[attr-defined]
    return f"{type(error).__name__}: {error}" if error is not None else "no error"
