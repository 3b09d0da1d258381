# pose-extractor: FFmpeg decoding and DWPose on ONNX Runtime (CPU only).
# Carries only its own runtime classpath (pose-extractor/target/lib, copied by the module's build; ImageContentsTest)
# and runs as the unprivileged user 10001. Build from the repository root:
#   docker build -f deploy/docker/pose-extractor.Dockerfile -t xdyna/pose-extractor:<tag> .
FROM maven:3.9.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN mvn -B -q -DskipTests package -pl pose-extractor -am

FROM eclipse-temurin:17.0.13_11-jre-noble
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 xdyna \
    && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/xdyna --shell /usr/sbin/nologin xdyna
WORKDIR /app
COPY --from=build /src/pose-extractor/target/lib /app/lib
COPY --from=build /src/pose-extractor/target/classes /app/classes
# the tiny fixture bundles only (.dockerignore keeps exported real weights out of the build context: they
# come from the model volume at /models); the dev overlay copies the fixtures out of this image
COPY pretrained_weights /app/pretrained_weights
ENV XDYNA_LOG_FORMAT=json
USER 10001:10001
EXPOSE 8081
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s CMD curl -fsS http://localhost:8081/health/ready || exit 1
# ONNX Runtime, OpenCV and FFmpeg allocate outside the heap: half the container for them
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=50", "-Dai.djl.offline=true", "-cp", "/app/classes:/app/lib/*", "io.xdyna.pose.service.PoseExtractorMain"]
