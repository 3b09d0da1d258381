# animator: X-Dyna's sampling loop, one GPU per container. DJL's PyTorch engine uses the libtorch of the
# CUDA PyTorch base image (PYTORCH_LIBRARY_PATH) with the JNI glue of pytorch-jni 2.7.1-0.36.0, which
# carries jnilib/linux-x86_64/{cpu,cu128} only: so the base is the CUDA 12.8 build of PyTorch 2.7.1 and
# PYTORCH_FLAVOR=cu128 (ImageContentsTest checks flavour, version and base tag against the resolved jar).
# The CPU natives jar is left out (animator/pom.xml); on a node without a GPU (dev overlay, XDYNA_DEVICE=cpu)
# the same CUDA libtorch runs on the CPU. Runs as the unprivileged user 10001.
#   docker build -f deploy/docker/animator.Dockerfile -t xdyna/animator:<tag> .
FROM maven:3.9.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN mvn -B -q -DskipTests package -pl animator -am

FROM pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime
# Fail the build, not the first start, if the base image's torch is not the one the JNI glue was built for;
# /opt/libtorch names its lib folder whatever the image's Python version is.
RUN python -c "import sys, torch; v = torch.__version__.split('+')[0]; c = torch.version.cuda; sys.exit(0 if (v, c) == ('2.7.1', '12.8') else 'base image has torch %s CUDA %s, the JNI needs 2.7.1 CUDA 12.8' % (v, c))" \
    && ln -s "$(python -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')" /opt/libtorch \
    && test -f /opt/libtorch/libtorch.so
RUN apt-get update && apt-get install -y --no-install-recommends openjdk-17-jre-headless curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 xdyna \
    && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/xdyna --shell /usr/sbin/nologin xdyna
WORKDIR /app
COPY --from=build /src/animator/target/lib /app/lib
COPY --from=build /src/animator/target/classes /app/classes
ENV PYTORCH_LIBRARY_PATH=/opt/libtorch \
    PYTORCH_VERSION=2.7.1 \
    PYTORCH_FLAVOR=cu128 \
    XDYNA_DEVICE=auto \
    XDYNA_MODEL_DIR=/models/xdyna \
    XDYNA_LOG_FORMAT=json
USER 10001:10001
EXPOSE 8082
# ready = bundle loaded and connected to Kafka (the bundle takes minutes to hash and load onto the GPU)
HEALTHCHECK --interval=10s --timeout=3s --start-period=600s CMD curl -fsS http://localhost:8082/health/ready || exit 1
# libtorch, the CUDA context and the memory-mapped bundle (about 6 GB) live outside the Java heap, which holds
# the decoded conditions (2.2 GiB for a default job): 40% heap leaves 19 GiB of a 32 GiB container to them
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=40", "-Dai.djl.offline=true", "-cp", "/app/classes:/app/lib/*", "io.xdyna.animator.service.AnimatorMain"]
