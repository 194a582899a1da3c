"""The fake's stand-in for Slack's custom workflow steps: functions.completeSuccess and functions.completeError.

`start_function()` is Slack starting a step of a workflow: it mints the execution id and the workflow token
(`bot_access_token`) that the `function_executed` event carries; the app ends the execution once, with outputs
or with an error, and `function_run()` shows how it ended.
"""

from __future__ import annotations

import copy
import secrets
from typing import Any

from sandbox.fake_slack.state import ApiError, Workspace, invalid_arguments, web_api


class FunctionsApi(Workspace):
    """Function executions and the functions.* methods that end them."""

    def start_function(self, callback_id: str) -> tuple[str, str]:
        """A step of a workflow starts: returns its function_execution_id and its workflow token."""
        with self._lock:
            execution_id = self._new_id("Fx")
            token = f"xwfp-{secrets.token_hex(12)}"
            self._function_runs[execution_id] = {"callback_id": callback_id, "state": "running", "token": token,
                                                 "outputs": None, "error": None}
        return execution_id, token

    def function_run(self, execution_id: str) -> dict[str, Any] | None:
        """How an execution stands: state running, completed or failed, with its outputs or error."""
        with self._lock:
            run = self._function_runs.get(execution_id)
            return copy.deepcopy(run) if run is not None else None

    def _running(self, p: dict[str, Any]) -> dict[str, Any]:
        execution_id = str(p.get("function_execution_id") or "")
        if not execution_id:
            raise invalid_arguments("missing required field: function_execution_id")
        run = self._function_runs.get(execution_id)
        if run is None:
            raise ApiError("function_execution_not_found")
        if run["state"] != "running":
            raise ApiError("execution_not_in_running_state")
        return run

    @web_api("functions.completeSuccess")
    def _functions_complete_success(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        run = self._running(p)
        outputs = p.get("outputs")
        if not isinstance(outputs, dict):
            raise invalid_arguments("outputs must be an object [json-pointer:/outputs]")
        if not all(isinstance(v, str | int | float | bool) for v in outputs.values()):
            raise ApiError("parameter_validation_failed")
        run.update(state="completed", outputs=outputs)
        self._emit({"type": "function_completed", "function_execution_id": p["function_execution_id"]})
        return {"ok": True}

    @web_api("functions.completeError")
    def _functions_complete_error(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        run = self._running(p)
        error = p.get("error")
        if not isinstance(error, str) or not error.strip():
            raise invalid_arguments("missing required field: error")
        run.update(state="failed", error=error)
        self._emit({"type": "function_failed", "function_execution_id": p["function_execution_id"]})
        return {"ok": True}
