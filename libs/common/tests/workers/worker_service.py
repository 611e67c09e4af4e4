"""A service in miniature run by `run_service`, for the supervisor's tests (test_supervisor.py): GetMe
answers `users/{subject}@{pid}` so a test sees which process served it, and a job appends
`{worker}:{pid}` to the file JOB_LOG every 0.1 s.

    WORKERS=2 TEST_MIGRATIONS_DIR=... JOB_LOG=... python worker_service.py   (with the usual settings)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import grpc

from devinsider.user.v1 import user_pb2, user_pb2_grpc
from devinsider_common import context
from devinsider_common.grpc.server import ServiceRegistration
from devinsider_common.jobs import Job
from devinsider_common.runtime import RunningService, open_runtime, run_service, serve
from devinsider_common.settings import ServiceSettings
from devinsider_common.workers import current_worker


class Users(user_pb2_grpc.UserServiceServicer):
    def GetMe(self, request: user_pb2.GetMeRequest, ctx: grpc.ServicerContext) -> user_pb2.User:  # noqa: N802
        principal = context.current_principal()
        return user_pb2.User(name=f"users/{principal.subject if principal else '?'}@{os.getpid()}")


def _log_job() -> int:
    with Path(os.environ["JOB_LOG"]).open("a") as log:
        log.write(f"{current_worker()}:{os.getpid()}\n")
    return 0


def start(settings: ServiceSettings) -> RunningService[ServiceSettings, Any]:
    runtime = open_runtime(settings, Path(os.environ["TEST_MIGRATIONS_DIR"]))
    users = ServiceRegistration(
        "devinsider.user.v1.UserService",
        user_pb2_grpc.add_UserServiceServicer_to_server,
        Users(),  # type: ignore[abstract]  # only GetMe exists
    )
    return serve(runtime, None, [users], jobs=[Job("log", _log_job, interval_seconds=0.1)])


if __name__ == "__main__":
    run_service(ServiceSettings, "devinsider-worker-test", start)
