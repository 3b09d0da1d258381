# encoder: a plain JVM service (CPU only).
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN mvn -B -q -DskipTests package -pl launcher -am

FROM eclipse-temurin:17-jre
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /src/launcher/target/lib /app/lib
COPY --from=build /src/launcher/target/classes /app/classes

ENV XDYNA_LOG_FORMAT=json
EXPOSE 8083
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s CMD curl -fsS http://localhost:8083/health/ready || exit 1
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-Dai.djl.offline=true", "-cp", "/app/classes:/app/lib/*", "io.xdyna.encoder.service.EncoderMain"]
