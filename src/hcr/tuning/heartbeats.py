"""A study storage whose stale trials include those whose worker died before their first heartbeat.

Optuna's `fail_stale_trials` fails a RUNNING trial whose last heartbeat is older than two intervals, and skips one
that has no heartbeat at all. A worker killed between creating its trial and its first heartbeat (Optuna's heartbeat
thread writes it a moment after the trial exists) therefore left that trial RUNNING for ever, and every other worker
waiting for the study's last trials waited for ever too (a CI run caught it). Here such a trial is stale once this
worker has seen it without a heartbeat for two heartbeat intervals, timed on this worker's clock: workers' clocks may
differ, and the trial's start time is its own worker's.

The query reads Optuna's database schema (tables `trials`, `trial_heartbeats`), which Optuna versions and migrates.
"""

import time

import optuna
import sqlalchemy

SILENT_TRIALS = sqlalchemy.text(
    "SELECT t.trial_id FROM trials t LEFT JOIN trial_heartbeats h ON h.trial_id = t.trial_id "
    "WHERE t.study_id = :study_id AND t.state = 'RUNNING' AND h.trial_id IS NULL"
)


class HeartbeatStorage(optuna.storages.RDBStorage):
    """Optuna's RDBStorage with heartbeats, where a trial that never sent one goes stale too."""

    def __init__(self, url: str, heartbeat_interval: int) -> None:
        super().__init__(url, heartbeat_interval=heartbeat_interval)
        self.silent_since: dict[int, float] = {}  # trial id → when this worker first saw it silent (monotonic s)

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        """What Optuna's fail_stale_trials fails: trials whose heartbeats stopped, and trials silent too long."""
        stale = super()._get_stale_trial_ids(study_id)
        with self.engine.connect() as connection:
            silent = {row[0] for row in connection.execute(SILENT_TRIALS, {"study_id": study_id})}
        now = time.monotonic()
        self.silent_since = {trial_id: self.silent_since.get(trial_id, now) for trial_id in silent}
        grace_s = 2 * (self.heartbeat_interval or 0)
        return stale + [trial_id for trial_id, since in self.silent_since.items() if now - since > grace_s]
