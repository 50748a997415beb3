# Stand-in for the official postgres:16-bookworm, built by docker/standins/build ONLY when that
# image cannot be pulled (no registry reachable). It is tagged with the official name so
# docker-compose.yml stays unchanged. How it differs from the official image:
#   - PostgreSQL is Debian bookworm's postgresql-15, not 16 (SQL features new in 16, e.g.
#     SYSTEM_USER or pg_stat_io, are missing; a data directory made by one does not start the
#     other);
#   - postgres-entrypoint.sh beside this file does what the official entrypoint does for
#     POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, POSTGRES_HOST_AUTH_METHOD, PGDATA and
#     /docker-entrypoint-initdb.d (*.sql and *.sh), nothing more (no *_FILE secrets, no
#     POSTGRES_INITDB_ARGS);
#   - labelled org.pvsim.standin=true.
FROM pvsim-standin/debian:bookworm

ENV LANG=C.UTF-8 \
    PG_MAJOR=15 \
    PGDATA=/var/lib/postgresql/data \
    PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# No cluster from the package: the entrypoint makes one in $PGDATA on the first start, as the
# official image does. Debian's current bookworm version: a stand-in tracks the distribution.
# hadolint ignore=DL3008
RUN mkdir -p /etc/postgresql-common \
    && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf \
    && apt-get update \
    && apt-get install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/run/postgresql /docker-entrypoint-initdb.d "$PGDATA" \
    && chown postgres:postgres /var/run/postgresql "$PGDATA" \
    && chmod 3777 /var/run/postgresql \
    && chmod 700 "$PGDATA"

COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /var/lib/postgresql/data
LABEL org.pvsim.standin=true \
      org.pvsim.standin.of=postgres:16-bookworm
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
