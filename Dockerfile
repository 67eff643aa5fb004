# Strata's container image: the distribution (bin/dist) on Debian slim, run as a non-root user.
#   docker build -t strata .
#   docker run -e STRATA_DB=/data/app.db -e STRATA_REPLICA=s3://bucket/app?region=… -v data:/data strata app-command…
# The entrypoint restores the database when it is missing, then runs the arguments (the application) under
# `strata replicate -exec`; with no arguments it only replicates. `--entrypoint strata` runs any other command,
# e.g. `docker run --entrypoint strata -p 2200:2200 -v srv:/data strata serve --data /data/server`.

# Build: the project's own build and bin/dist, on the JDK the project needs (jlink takes its modules from it).
FROM eclipse-temurin:25-jdk AS build
RUN apt-get update && apt-get install -y --no-install-recommends unzip && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN bin/dist --no-deb && mkdir /dist && tar -C /dist -xzf cli/target/dist/strata-*-linux-x64.tar.gz \
    && mv /dist/strata-* /dist/strata

# Runtime: no JDK, only the distribution's own runtime.
FROM debian:bookworm-slim
# OpenSSL's libcrypto runs the age ciphers and the system's SQLite the restore's integrity check, reading ahead; where
# either is missing Strata falls back to the JDK's cipher or the JDBC driver's SQLite: the same bytes and verdicts,
# slower (README: Encryption, Benchmarks). The slim image has neither.
RUN apt-get update && apt-get install -y --no-install-recommends libssl3 libsqlite3-0 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system strata && useradd --system --gid strata --home-dir /data --shell /usr/sbin/nologin strata \
    && mkdir /data && chown strata:strata /data
COPY --from=build /dist/strata /opt/strata
COPY cli/src/dist/docker/entrypoint.sh /usr/local/bin/strata-entrypoint
RUN ln -s /opt/strata/bin/strata /usr/local/bin/strata && strata version
USER strata
WORKDIR /data
VOLUME /data
ENTRYPOINT ["/usr/local/bin/strata-entrypoint"]
