"""Reading a child process's output lines in the background (so its pipe never fills) and
waiting for the line that says it is ready: the handshake of the Python integration tests."""

import re
import sys
import threading


class Lines(threading.Thread):
    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream, self.lines, self.cv = stream, [], threading.Condition()
        self.start()

    def run(self):
        for line in self.stream:
            with self.cv:
                self.lines.append(line)
                self.cv.notify_all()

    def wait_for(self, pattern, timeout=60):
        """The first match of `pattern` in a line; exits the test if none comes in time."""
        rx = re.compile(pattern)
        with self.cv:
            if not self.cv.wait_for(lambda: any(rx.search(x) for x in self.lines), timeout):
                sys.exit(f"no line matching {pattern!r} in:\n{''.join(self.lines)}")
            return next(rx.search(x) for x in self.lines if rx.search(x))

    def text(self):
        with self.cv:
            return "".join(self.lines)
