"""When drift becomes a retraining: K drifted windows in a row, each with enough rows, and never again
within a cooldown — so one spike does not retrain, and a retrain in flight is not repeated."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TriggerPolicy:
    consecutive: int = 3
    min_rows: int = 500
    cooldown_s: float = 3600.0


@dataclass
class RetrainTrigger:
    policy: TriggerPolicy = field(default_factory=TriggerPolicy)
    streak: int = 0
    last_fired: float | None = None

    def observe(self, drifted: bool, rows: int, now: float) -> tuple[bool, str]:
        """Feed one window's verdict; returns whether to retrain now and why (or why not)."""
        if rows < self.policy.min_rows:
            return False, f"window has {rows} rows, fewer than {self.policy.min_rows}"
        self.streak = self.streak + 1 if drifted else 0
        if self.streak < self.policy.consecutive:
            return False, f"{self.streak} of {self.policy.consecutive} consecutive drifted windows"
        if self.last_fired is not None and now - self.last_fired < self.policy.cooldown_s:
            wait = self.policy.cooldown_s - (now - self.last_fired)
            return False, f"drift persists but the last retraining was {now - self.last_fired:.0f}s ago " \
                          f"(cooldown {wait:.0f}s left)"
        self.last_fired = now
        self.streak = 0
        return True, f"drift in {self.policy.consecutive} consecutive windows of >= {self.policy.min_rows} rows"
