"""``python -m pv_simulator.dead_letters``: list the dead-letter queue, or replay it.

Each line: routing key, reason and body (up to 200 bytes), each as a Python literal (``repr``).
Listing leaves the messages in the queue. ``--replay`` republishes each message to the
``pvsim`` exchange with its original routing key (publisher confirms), then removes it
from the dead-letter queue; messages that still break the contract come back with
their reason. A dead letter made from a body over the contract's size limit holds only its first
4 KiB (header ``x-pvsim-truncated``): it is listed, and left in the queue by ``--replay``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import pika
from pika.exceptions import AMQPError

from common import topology
from common.amqp import node_parameters
from common.redact import redact_urls
from common.settings import DEFAULT_AMQP_URL


def original_routing_key(method_key: str, headers: dict[str, object]) -> str:
    """The routing key a dead letter was first published with (ours, or the broker's x-death)."""
    ours = headers.get(topology.ROUTING_KEY_HEADER)
    if isinstance(ours, str):
        return ours
    deaths = headers.get(topology.DEATH_HEADER)
    if isinstance(deaths, list) and deaths and isinstance(deaths[0], dict):
        keys = deaths[0].get("routing-keys")
        if isinstance(keys, list) and keys:
            return str(keys[0])
    return method_key


def reason(headers: dict[str, object]) -> str:
    """Why a message was dead-lettered."""
    return str(headers.get(topology.REASON_HEADER) or headers.get(topology.FIRST_DEATH_REASON_HEADER) or "unknown")


def _cut_note(headers: dict[str, object]) -> str:
    """`` (first 4096 of 62914560 bytes)`` for a truncated copy, else nothing."""
    if not headers.get(topology.TRUNCATED_HEADER):
        return ""
    return f" (first {topology.DEAD_LETTER_COPY_BYTES} of {headers.get(topology.BODY_BYTES_HEADER)!r} bytes)"


def main(argv: Sequence[str] | None = None) -> int:
    """List (default) or replay the dead-letter queue; returns the exit code."""
    parser = argparse.ArgumentParser(prog="pv_simulator.dead_letters", description=__doc__.splitlines()[0])
    default_url = DEFAULT_AMQP_URL.replace("%", "%%")  # argparse formats help with %: the vhost is %2F
    parser.add_argument("--amqp-url", default=None, help=f"broker (env AMQP_URL; default {default_url})")
    parser.add_argument("--replay", action="store_true", help="republish every dead letter to 'pvsim'")
    parser.add_argument("--limit", type=int, default=1000, help="most messages to handle (default 1000)")
    args = parser.parse_args(argv)
    url = args.amqp_url or os.environ.get("AMQP_URL") or DEFAULT_AMQP_URL
    try:
        connection = pika.BlockingConnection(node_parameters(url))  # a cluster's nodes, tried in turn
    except AMQPError as error:
        print(redact_urls(f"pv_simulator.dead_letters: error: cannot connect to {url}: {error!r}"), file=sys.stderr)
        return 1
    channel = connection.channel()
    channel.confirm_delivery()
    handled = kept = 0
    try:
        while handled < args.limit:
            method, properties, body = channel.basic_get(topology.DEAD_LETTER_QUEUE, auto_ack=False)
            if method is None:
                break
            headers = dict(properties.headers or {})
            key = original_routing_key(method.routing_key, headers)
            handled += 1
            # repr: a routing key or header with a newline or a terminal escape stays one visible line
            print(f"{key!r}\t{reason(headers)!r}\t{body[:200]!r}{_cut_note(headers)}")
            if args.replay and headers.get(topology.TRUNCATED_HEADER):
                kept += 1  # only its first bytes are here: left in the queue, to be read, not replayed
            elif args.replay:
                channel.basic_publish(topology.EXCHANGE, key, body, pika.BasicProperties(
                    content_type=properties.content_type or "application/json", delivery_mode=2))
                channel.basic_ack(method.delivery_tag)
    except pika.exceptions.ChannelClosedByBroker as error:
        print(f"pv_simulator.dead_letters: error: {error.reply_text}", file=sys.stderr)
        return 1
    finally:
        if connection.is_open:
            connection.close()  # unacknowledged (listed) messages return to the queue
    print(f"{handled - kept} dead letter(s) {'replayed' if args.replay else 'listed'}"
          + (f"; {kept} truncated copies of oversized bodies kept in the queue (not replayable)" if kept else ""),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
