"""Progress lines shared by the benches; imports none of them, so each can run alone or under bench.run."""
import sys
import time


def log(message):
    """Progress on stderr, so stdout holds the report."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
