# animator: one GPU per pod. The runtime is a CUDA PyTorch image whose libtorch DJL uses directly
# (PYTORCH_LIBRARY_PATH + PYTORCH_VERSION matching pytorch-jni 2.7.1), so nothing is downloaded at run
# time; the CPU natives in the jar are only a fallback.
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN mvn -B -q -DskipTests package -pl launcher -am

FROM pytorch/pytorch:2.7.1-cuda12.6-cudnn9-runtime
RUN apt-get update && apt-get install -y --no-install-recommends openjdk-17-jre-headless curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /src/launcher/target/lib /app/lib
COPY --from=build /src/launcher/target/classes /app/classes
ENV PYTORCH_LIBRARY_PATH=/opt/conda/lib/python3.11/site-packages/torch/lib \
    PYTORCH_VERSION=2.7.1 \
    PYTORCH_FLAVOR=cu126 \
    XDYNA_DEVICE=auto \
    XDYNA_MODEL_DIR=/models/xdyna \
    XDYNA_LOG_FORMAT=json
EXPOSE 8082
HEALTHCHECK --interval=10s --timeout=3s --start-period=120s CMD curl -fsS http://localhost:8082/health/live || exit 1
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-Dai.djl.offline=true", "-cp", "/app/classes:/app/lib/*", "io.xdyna.animator.service.AnimatorMain"]
