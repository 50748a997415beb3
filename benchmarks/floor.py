"""The bare-broker floor: N persistent JSON messages through RabbitMQ with nothing else.

A pika ``SelectConnection`` producer with windowed publisher confirms and a consumer
with manual multiple-acks, in two processes (like the meter and the PV simulator),
on the same queue type the pipeline uses. No model, no validation, no file.

    python -m benchmarks.floor --messages 86400 --amqp-url amqp://guest:guest@localhost:5672/%2F
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time

import pika
from pika.adapters.select_connection import SelectConnection

from common import topology

EXCHANGE = "pvsim.floor"
WINDOW = 4096
PREFETCH = 4000
ACK_EVERY = 2000
BODY = json.dumps({"schema": 1, "meter_id": "meter-1", "seq": 0, "timestamp": "2026-06-21T12:00:00Z",
                   "power_w": 1234.5}).encode()
ROUTING_KEY = topology.reading_routing_key("meter-1")


def _declare(channel, queue: str, queue_type: str, then) -> None:
    arguments = topology.queue_type_arguments(queue_type)
    channel.exchange_declare(EXCHANGE, "topic", durable=True, callback=lambda _f: channel.queue_declare(
        queue, durable=True, arguments=arguments, callback=lambda _f: channel.queue_bind(
            queue, EXCHANGE, routing_key="#", callback=lambda _f: then())))


def produce(url: str, queue: str, queue_type: str, messages: int) -> None:
    """Publish ``messages`` persistent bodies with at most ``WINDOW`` unconfirmed."""
    state = {"sent": 0, "confirmed": 0}
    props = pika.BasicProperties(content_type="application/json", delivery_mode=2)

    def pump() -> None:
        while state["sent"] < messages and state["sent"] - state["confirmed"] < WINDOW:
            channel.basic_publish(EXCHANGE, ROUTING_KEY, BODY, props)
            state["sent"] += 1
            if state["sent"] % 512 == 0:
                connection.ioloop.call_later(0, pump)
                return

    def on_confirm(frame) -> None:
        state["confirmed"] = max(state["confirmed"], frame.method.delivery_tag)
        if state["confirmed"] >= messages:
            connection.close()
        elif state["sent"] - state["confirmed"] < WINDOW // 2:
            pump()

    def on_channel(ch) -> None:
        global channel
        channel = ch
        ch.confirm_delivery(on_confirm, callback=lambda _f: _declare(ch, queue, queue_type, pump))

    connection = SelectConnection(pika.URLParameters(url), on_open_callback=lambda c: c.channel(
        on_open_callback=on_channel), on_close_callback=lambda c, _r: c.ioloop.stop())
    connection.ioloop.start()


def consume(url: str, queue: str, queue_type: str, messages: int) -> None:
    """Consume ``messages`` with manual multiple-acks every ``ACK_EVERY`` (and at the end)."""
    state = {"got": 0, "last": 0}

    def on_message(ch, method, _props, _body) -> None:
        state["got"] += 1
        if state["got"] % ACK_EVERY == 0 or state["got"] >= messages:
            ch.basic_ack(method.delivery_tag, multiple=True)
        if state["got"] >= messages:
            connection.close()

    def on_channel(ch) -> None:
        ch.basic_qos(prefetch_count=PREFETCH, callback=lambda _f: _declare(
            ch, queue, queue_type, lambda: ch.basic_consume(queue, on_message)))

    connection = SelectConnection(pika.URLParameters(url), on_open_callback=lambda c: c.channel(
        on_open_callback=on_channel), on_close_callback=lambda c, _r: c.ioloop.stop())
    connection.ioloop.start()


def run_floor(url: str, messages: int, queue_type: str = "quorum") -> float:
    """Seconds from starting both processes to the last ack of ``messages`` messages."""
    queue = f"pvsim.floor.{queue_type}.{time.monotonic_ns()}"
    context = multiprocessing.get_context("spawn")
    start = time.perf_counter()
    consumer = context.Process(target=consume, args=(url, queue, queue_type, messages))
    producer = context.Process(target=produce, args=(url, queue, queue_type, messages))
    consumer.start()
    producer.start()
    producer.join()
    consumer.join()
    elapsed = time.perf_counter() - start
    if producer.exitcode or consumer.exitcode:
        raise RuntimeError(f"floor processes failed: {producer.exitcode}, {consumer.exitcode}")
    connection = pika.BlockingConnection(pika.URLParameters(url))
    connection.channel().queue_delete(queue)
    connection.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=86_400)
    parser.add_argument("--queue-type", choices=("quorum", "classic"), default="quorum")
    parser.add_argument("--amqp-url", default="amqp://guest:guest@localhost:5672/%2F")
    args = parser.parse_args()
    elapsed = run_floor(args.amqp_url, args.messages, args.queue_type)
    print(f"{args.messages} messages ({args.queue_type}) in {elapsed:.2f} s = {args.messages / elapsed:,.0f} msg/s")


if __name__ == "__main__":
    main()
