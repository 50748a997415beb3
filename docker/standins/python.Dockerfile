# Stand-in for the official python:3.11-slim-bookworm, built by docker/standins/build ONLY when
# that image cannot be pulled (no registry reachable). It is tagged with the official name so
# the Dockerfiles stay unchanged. How it differs from the official image:
#   - Python is Debian bookworm's python3 (3.11.2), not python.org's latest 3.11.x build;
#   - `python` and `pip` come from a virtualenv at /usr/local (pip 23.0.1 from Debian's wheel);
#   - the build machine's CA bundle replaces Debian's (so pip works behind its TLS proxy), and
#     PIP_CERT points pip at it;
#   - labelled org.pvsim.standin=true.
FROM pvsim-standin/debian:bookworm

ENV LANG=C.UTF-8

# Debian's current bookworm versions: a stand-in tracks the distribution, so no pins.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates tzdata netbase \
    && rm -rf /var/lib/apt/lists/*

COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt

# A virtualenv at /usr/local gives /usr/local/bin/python, python3 and pip, as in the official image.
RUN python3 -m venv /usr/local \
    && /usr/local/bin/python -m pip --version \
    && test "$(command -v python)" = /usr/local/bin/python

LABEL org.pvsim.standin=true \
      org.pvsim.standin.of=python:3.11-slim-bookworm
CMD ["python3"]
