# encoder: frames to MP4 and the other outputs, JavaCV's FFmpeg (CPU only).
# Carries only its own runtime classpath (encoder/target/lib, copied by the module's build; ImageContentsTest)
# and runs as the unprivileged user 10001. Build from the repository root:
#   docker build -f deploy/docker/encoder.Dockerfile -t xdyna/encoder:<tag> .
FROM maven:3.9.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN mvn -B -q -DskipTests package -pl encoder -am

FROM eclipse-temurin:17.0.13_11-jre-noble
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 xdyna \
    && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/xdyna --shell /usr/sbin/nologin xdyna
WORKDIR /app
COPY --from=build /src/encoder/target/lib /app/lib
COPY --from=build /src/encoder/target/classes /app/classes
ENV XDYNA_LOG_FORMAT=json
USER 10001:10001
EXPOSE 8083
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s CMD curl -fsS http://localhost:8083/health/ready || exit 1
# FFmpeg's encoder buffers live outside the heap: half the container for them
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=50", "-Dai.djl.offline=true", "-cp", "/app/classes:/app/lib/*", "io.xdyna.encoder.service.EncoderMain"]
