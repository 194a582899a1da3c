"""Failure injection: the fake's stand-in for Slack having a bad day (rate limits, 500s, hangs, errors).

`set_faults` fails a random share of Web API calls; `fail_next` fails the next calls of one method. A
faulted call changes no state, so a client's retry is safe; server.py consults `_pick_fault` first.
"""

from __future__ import annotations

import random

from sandbox.fake_slack.state import Fault, FaultConfig, Workspace


class FaultInjection(Workspace):
    """Plans of failures for the Web API: random rates, or a queue of failures for the next calls."""

    def set_faults(
        self,
        rate_429: float = 0,
        rate_500: float = 0,
        rate_timeout: float = 0,
        timeout_seconds: float = 2.0,
        retry_after: int = 1,
        seed: int | None = None,
        methods: set[str] | None = None,
    ) -> None:
        """Fail a share of Web API calls: HTTP 429 with Retry-After, HTTP 500, or a hang, then a drop.

        A faulted call changes no state, so retrying it is safe. `methods` limits faults to those methods.
        """
        if rate_429 + rate_500 + rate_timeout > 1:
            raise ValueError("fault rates add up to more than 1")
        with self._lock:
            self._faults = FaultConfig(
                rate_429=rate_429,
                rate_500=rate_500,
                rate_timeout=rate_timeout,
                timeout_seconds=timeout_seconds,
                retry_after=retry_after,
                methods=frozenset(methods) if methods is not None else None,
                rng=random.Random(seed),
            )

    def clear_faults(self) -> None:
        """Stop injecting faults (random and queued)."""
        self.set_faults()
        with self._lock:
            self._fail_next.clear()

    def fail_next(
        self,
        method: str | None,
        error: str = "ratelimited",
        status: int | None = None,
        *,
        times: int = 1,
        retry_after: int | None = None,
        hang_seconds: float | None = None,
    ) -> None:
        """Make the next `times` calls of `method` (None: any method) fail, before any state change.

        error "ratelimited" without status answers HTTP 429 with Retry-After; error "timeout" hangs, then
        drops the connection; a `status` answers that HTTP status; else HTTP 200 {"ok": false, "error": …}.
        """
        if error == "timeout":
            kind, http_status = "timeout", 0
        elif status is None and error == "ratelimited":
            kind, http_status = "429", 429
        elif status is not None and status != 200:
            kind, http_status = str(status), status
        else:
            kind, http_status = "error", 200
        with self._lock:
            fault = Fault(
                kind=kind,
                error=error,
                status=http_status,
                retry_after=self._faults.retry_after if retry_after is None else retry_after,
                hang_seconds=self._faults.timeout_seconds if hang_seconds is None else hang_seconds,
            )
            for _ in range(times):
                self._fail_next.append((method, fault))

    def _pick_fault(self, method: str) -> Fault | None:
        for i, (wanted, fault) in enumerate(self._fail_next):
            if wanted is None or wanted == method:
                del self._fail_next[i]
                return fault
        cfg = self._faults
        if cfg.methods is not None and method not in cfg.methods:
            return None
        if not (cfg.rate_429 or cfg.rate_500 or cfg.rate_timeout):
            return None
        roll = cfg.rng.random()
        if roll < cfg.rate_429:
            return Fault("429", "ratelimited", 429, cfg.retry_after, 0)
        if roll < cfg.rate_429 + cfg.rate_500:
            return Fault("500", "internal_error", 500, 0, 0)
        if roll < cfg.rate_429 + cfg.rate_500 + cfg.rate_timeout:
            return Fault("timeout", "timeout", 0, 0, cfg.timeout_seconds)
        return None
