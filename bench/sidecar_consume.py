"""The Python half of bench/sidecar_throughput: consumes --count records
through the sidecar, acknowledging each, and prints one JSON line with the
rate from the first record to the last."""

import argparse
import json
import sys
import time

from whippet_client import Consumer, KeyOrdered


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", required=True, help="the sidecar, host:port")
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--parallelism", type=int, default=64)
    parser.add_argument("--max-in-flight", type=int, default=2048)
    arguments = parser.parse_args()

    consumer = Consumer(
        arguments.target,
        topics=[arguments.topic],
        group=arguments.group,
        ordering=KeyOrdered(parallelism=arguments.parallelism),
        initial_offset="earliest",
        max_in_flight=arguments.max_in_flight,
    )
    received = 0
    first = None
    with consumer:
        for record in consumer:
            if first is None:
                first = time.monotonic()
            record.ack()
            received += 1
            if received >= arguments.count:
                break
        last = time.monotonic()
    elapsed = max(last - first, 1e-9)
    print(json.dumps({"records": received, "seconds": elapsed,
                      "records_per_second": received / elapsed}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
