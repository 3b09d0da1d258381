# gateway: HTTP API, web app, status view (CPU only).
# Carries only its own runtime classpath (gateway/target/lib, copied by the module's build; ImageContentsTest)
# and runs as the unprivileged user 10001. Build from the repository root:
#   docker build -f deploy/docker/gateway.Dockerfile -t xdyna/gateway:<tag> .
FROM maven:3.9.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN mvn -B -q -DskipTests package -pl gateway -am

FROM eclipse-temurin:17.0.13_11-jre-noble
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 xdyna \
    && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/xdyna --shell /usr/sbin/nologin xdyna
WORKDIR /app
COPY --from=build /src/gateway/target/lib /app/lib
COPY --from=build /src/gateway/target/classes /app/classes
ENV XDYNA_LOG_FORMAT=json
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s CMD curl -fsS http://localhost:8080/health/ready || exit 1
# a plain JVM with Netty buffers and FFmpeg probing of uploads: 70% heap, 30% for the rest
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=70", "-Dai.djl.offline=true", "-cp", "/app/classes:/app/lib/*", "io.xdyna.gateway.GatewayMain"]
