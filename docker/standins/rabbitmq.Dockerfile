# Stand-in for the official rabbitmq:4-management, built by docker/standins/build ONLY when that
# image cannot be pulled (no registry reachable). It is tagged with the official name so
# docker-compose.yml stays unchanged. How it differs from the official image:
#   - RabbitMQ is Debian bookworm's rabbitmq-server 3.10 on Erlang 25, not 4.x: no Khepri, and
#     4.x-only features (e.g. quorum queue priorities) are missing; what pvsim uses (topic
#     exchange, quorum queues with a delivery limit, dead-lettering, publisher confirms) is
#     there;
#   - configured by rabbitmq.conf beside this file (guest from other hosts, logs to stdout), no
#     RABBITMQ_DEFAULT_USER/PASS handling;
#   - labelled org.pvsim.standin=true.
FROM pvsim-standin/debian:bookworm

ENV LANG=C.UTF-8 \
    HOME=/var/lib/rabbitmq

# Debian's current bookworm version: a stand-in tracks the distribution, so no pin.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends rabbitmq-server \
    && rm -rf /var/lib/apt/lists/*

COPY rabbitmq.conf /etc/rabbitmq/rabbitmq.conf
# An empty rabbitmq-env.conf: node name rabbit@<container host name>, default addresses.
RUN : > /etc/rabbitmq/rabbitmq-env.conf \
    && rabbitmq-plugins enable --offline rabbitmq_management

LABEL org.pvsim.standin=true \
      org.pvsim.standin.of=rabbitmq:4-management
EXPOSE 4369 5672 15672 25672
# In the foreground as the rabbitmq user (the server is PID 1 and gets docker's SIGTERM).
CMD ["setpriv", "--reuid=rabbitmq", "--regid=rabbitmq", "--init-groups", "/usr/lib/rabbitmq/bin/rabbitmq-server"]
