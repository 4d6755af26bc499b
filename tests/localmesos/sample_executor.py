"""A tiny real pymesos executor for the local Mesos tests (run as a script by the agent).

Behaviour per task comes from ``TaskInfo.data`` (base64 JSON): ``{"run": SECONDS, "exit": CODE}``
finishes (or fails) after a while, ``{"hang": true}`` runs until killed, ``{"crash": CODE}`` makes
the whole executor exit. Framework messages are echoed back as ``echo:<text>``. It writes its
environment to ``env.json`` in the sandbox so tests can check what the agent passed.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import threading
import time

from pymesos import Executor, MesosExecutorDriver, encode_data


def _status(task_id: dict, state: str, message: str = "") -> dict:
    status = {"task_id": task_id, "state": state}
    if message:
        status["message"] = message
    status["data"] = encode_data(json.dumps({"pid": os.getpid()}).encode())
    return status


class SampleExecutor(Executor):
    def __init__(self) -> None:
        self.killed: set[str] = set()

    def registered(self, driver, executor_info, framework_info, agent_info):
        try:
            with open("env.json", "w") as f:
                json.dump({k: v for k, v in os.environ.items() if k.startswith(("MESOS_", "LIBPROCESS"))}, f)
        except Exception as exc:  # never raise into pymesos
            print("registered failed:", exc, file=sys.stderr)

    def launchTask(self, driver, task):
        try:
            behaviour = json.loads(base64.b64decode(task.data).decode()) if task.get("data") else {}
            driver.sendStatusUpdate(_status(task.task_id, "TASK_RUNNING"))
            threading.Thread(target=self._run, args=(driver, task, behaviour), daemon=True).start()
        except Exception as exc:
            print("launchTask failed:", exc, file=sys.stderr)

    def _run(self, driver, task, behaviour):
        try:
            if "crash" in behaviour:
                time.sleep(0.2)
                os._exit(int(behaviour["crash"]))
            if behaviour.get("hang"):
                return
            time.sleep(float(behaviour.get("run", 0.1)))
            if task.task_id.value in self.killed:
                return
            code = int(behaviour.get("exit", 0))
            state = "TASK_FINISHED" if code == 0 else "TASK_FAILED"
            driver.sendStatusUpdate(_status(task.task_id, state, f"exit {code}"))
        except Exception as exc:
            print("task failed:", exc, file=sys.stderr)

    def killTask(self, driver, task_id):
        try:
            self.killed.add(task_id.value)
            driver.sendStatusUpdate(_status(task_id, "TASK_KILLED", "killed"))
        except Exception as exc:
            print("killTask failed:", exc, file=sys.stderr)

    def frameworkMessage(self, driver, message):
        try:
            text = base64.b64decode(message).decode()
            driver.sendFrameworkMessage(encode_data(f"echo:{text}".encode()))
        except Exception as exc:
            print("frameworkMessage failed:", exc, file=sys.stderr)

    def shutdown(self, driver):
        print("shutdown requested", file=sys.stderr)


def main() -> int:
    driver = MesosExecutorDriver(SampleExecutor(), use_addict=True)
    driver.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
