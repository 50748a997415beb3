"""Live results: the push hub (WebSocket and GraphQL subscribers) and the consumer of ``pvsim.results``."""
